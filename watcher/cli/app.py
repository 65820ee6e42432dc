"""The `watcher` command: every subcommand, registered on one Typer app.

watcher --version              the installed version
watcher run [--once]           run the daemon (or one burst) on the config
watcher check-config [PATH]    validate a config file (or --config PATH), list every problem
watcher config-schema          print the JSON Schema of the config file
watcher classify PATH|URL|-    show which signals a document carries, and why
watcher eval FILE              precision, recall, F1 and errors of the rules on a labelled set
watcher backtest --since D     what a rule change would do to the alerts of stored items
watcher sources | signals | items   look inside the store
watcher outbox [retry]         list unsent emails; requeue failed or dead ones
watcher subscribers [resubscribe ADDRESS]   subscribers, their opt-outs; undo one
watcher send-test ADDRESS      send a sample alert through the configured transport
watcher db upgrade | current   migrate the database, show its revision
"""

from __future__ import annotations

import json
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated

import typer

from watcher.cli import mail, rules, views
from watcher.cli.common import DEFAULT_CONFIG, ConfigOption, load_or_exit
from watcher.cli.db import db_app
from watcher.cli.subscribers import subscribers_app
from watcher.config import WatcherConfig
from watcher.ops.startup import StartRefused, run_service

app = typer.Typer(
    name="watcher",
    help="Supply Watcher: supply-shock signals in rare earths and critical minerals, by email.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # plain help and errors: flags read as flags (Typer's rich help shows `--once <bool>`)
    # and an error is one line a pipe or a log keeps
    rich_markup_mode=None,
)


def installed_version() -> str:
    """The version of the installed `supply-watcher` distribution."""
    try:
        return version("supply-watcher")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _print_version(requested: bool) -> None:
    if requested:
        typer.echo(f"watcher (supply-watcher) {installed_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    _version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the installed version and exit.",
        ),
    ] = False,
) -> None:
    """Supply Watcher: supply-shock signals in rare earths and critical minerals, by email."""


@app.command()
def run(
    config: ConfigOption = DEFAULT_CONFIG,
    once: Annotated[
        bool, typer.Option("--once", help="Poll every source once, deliver what is due, exit.")
    ] = False,
) -> None:
    """Run the watcher until SIGTERM/SIGINT (drains in-flight work, exits 0)."""
    # a plain `watcher run` command line starts in `watcher.ops.startup` without Typer;
    # this command is the same service for every other spelling (and for tests)
    try:
        code = run_service(config, once)
    except StartRefused as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(exc.code) from None
    raise typer.Exit(code)


@app.command("check-config")
def check_config(
    path: Annotated[
        Path | None, typer.Argument(help="Config file to check (or --config PATH).")
    ] = None,
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Validate a configuration file; exit non-zero listing every problem."""
    if path is not None and config != DEFAULT_CONFIG and path != config:
        typer.echo(f"error: two config files given: {path} and --config {config}", err=True)
        raise typer.Exit(2)
    path = path or config
    settings = load_or_exit(path)
    from watcher.classify.engine import Classifier
    from watcher.classify.lint import rule_warnings
    from watcher.config.advice import config_warnings
    from watcher.domain.errors import ConfigError
    from watcher.notify.channel import check_channels
    from watcher.public.links import check_public

    Classifier.from_config(settings, warn=False)
    try:
        check_channels(settings)
        problems = check_public(settings)
        if problems:
            raise ConfigError(problems)
    except ConfigError as exc:
        typer.echo(f"error: invalid configuration\n{path}: {exc}", err=True)
        raise typer.Exit(2) from None
    from watcher.service.reload import emptiness_problem

    for problem in [*config_warnings(settings), *rule_warnings(settings)]:
        typer.echo(f"warning: {problem}", err=True)
    if settings.empty_sections():
        typer.echo(f"warning: {emptiness_problem(settings.empty_sections())}", err=True)
    typer.echo(
        f"{path}: OK — {len(settings.sources)} sources, {len(settings.subscribers)} subscribers,"
        f" {len(settings.signals)} signal rules, {len(settings.concepts)} concepts"
    )


@app.command("config-schema")
def config_schema() -> None:
    """Print the JSON Schema of the configuration file (for editor validation)."""
    schema = WatcherConfig.model_json_schema(by_alias=True)
    typer.echo(json.dumps(schema, indent=2))


app.command()(rules.classify)
app.command("eval")(rules.eval_)
app.command()(rules.backtest)
app.command()(views.sources)
app.command()(views.signals)
app.command()(views.items)
app.add_typer(mail.outbox_app, name="outbox")
app.add_typer(subscribers_app, name="subscribers")
app.command("send-test")(mail.send_test)
app.add_typer(db_app, name="db")


def main() -> None:
    """Console entry point."""
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    app()
