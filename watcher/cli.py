"""The `watcher` command.

watcher run [--once]        run the daemon (or one burst) on the config
watcher check-config [PATH] validate a config file, list every problem
watcher config-schema       print the JSON Schema of the config file
watcher classify PATH|URL|- show which signals a document carries, and why
watcher eval FILE           precision, recall, F1 and errors of the rules on a labelled set
watcher backtest --since D  what a rule change would do to the alerts of stored items
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from watcher.config import WatcherConfig
from watcher.configfile import load_config
from watcher.errors import ConfigError
from watcher.log import configure_logging

DEFAULT_CONFIG = "config/watcher.yaml"

app = typer.Typer(
    name="watcher",
    help="Supply Watcher: supply-shock signals in rare earths and critical minerals, by email.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ConfigOption = Annotated[
    Path,
    typer.Option(
        "--config",
        "-c",
        envvar="WATCHER_CONFIG",
        help="The configuration file.",
        show_default=True,
    ),
]


def _load(path: Path) -> WatcherConfig:
    """The validated config, or exit 2 with every problem printed to stderr."""
    try:
        return load_config(path)
    except ConfigError as exc:
        typer.echo(f"error: invalid configuration\n{exc}", err=True)
        raise typer.Exit(2) from None


@app.command()
def run(
    config: ConfigOption = Path(DEFAULT_CONFIG),
    once: Annotated[
        bool, typer.Option("--once", help="Poll every source once, deliver what is due, exit.")
    ] = False,
) -> None:
    """Run the watcher until SIGTERM/SIGINT (drains in-flight work, exits 0)."""
    from watcher.service import Daemon, run_once

    settings = _load(config)
    configure_logging(settings.log.level, settings.log.format)
    code = asyncio.run(run_once(settings) if once else Daemon(settings).run())
    raise typer.Exit(code)


@app.command("check-config")
def check_config(
    path: Annotated[Path, typer.Argument(help="Config file to check.")] = Path(DEFAULT_CONFIG),
) -> None:
    """Validate a configuration file; exit non-zero listing every problem."""
    settings = _load(path)
    from watcher.classify.engine import Classifier
    from watcher.classify.lint import rule_warnings

    Classifier.from_config(settings, warn=False)
    for problem in rule_warnings(settings):
        typer.echo(f"warning: {problem}", err=True)
    typer.echo(
        f"{path}: OK — {len(settings.sources)} sources, {len(settings.subscribers)} subscribers,"
        f" {len(settings.signals)} signal rules, {len(settings.concepts)} concepts"
    )


@app.command("config-schema")
def config_schema() -> None:
    """Print the JSON Schema of the configuration file (for editor validation)."""
    schema = WatcherConfig.model_json_schema(by_alias=True)
    typer.echo(json.dumps(schema, indent=2))


@app.command()
def classify(
    inputs: Annotated[
        list[str], typer.Argument(help="Files, http(s) URLs, or - for standard input.")
    ],
    config: ConfigOption = Path(DEFAULT_CONFIG),
    jsonl: Annotated[
        bool,
        typer.Option(
            "--jsonl",
            help='Batch mode: each input line {"id", "title", "body"} gives one output line'
            ' {"id", "signals": [...]}, in input order.',
        ),
    ] = False,
) -> None:
    """Show the signals a document carries and why each fired."""
    from watcher.classify.engine import Classifier
    from watcher.classify.report import describe_signals
    from watcher.errors import SourceError
    from watcher.inputs import read_document, read_records

    settings = _load(config)
    classifier = Classifier.from_config(settings)
    try:
        for name in inputs:
            if jsonl:
                stream = sys.stdin if name == "-" else Path(name).open(encoding="utf-8")  # noqa: SIM115
                with stream:
                    for record_id, title, body in read_records(stream, name):
                        signals = classifier.classify(title, body)
                        out = {"id": record_id, "signals": [s.as_dict() for s in signals]}
                        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
                continue
            document = read_document(name, settings.http, stdin=sys.stdin)
            signals = classifier.classify(document.title, document.body)
            typer.echo(describe_signals(name, signals))
    except (OSError, SourceError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command("eval")
def eval_(
    path: Annotated[Path, typer.Argument(help="Labelled JSON-lines file.")],
    config: ConfigOption = Path(DEFAULT_CONFIG),
    split: Annotated[
        str, typer.Option("--split", help="dev, heldout or all (every item).")
    ] = "all",
    errors: Annotated[bool, typer.Option("--errors/--no-errors", help="List the errors.")] = True,
) -> None:
    """Score the rules on a labelled set: per-type P/R/F1, direction accuracy, errors."""
    from watcher.classify.engine import Classifier
    from watcher.classify.evaluate import evaluate, format_evaluation, load_examples

    if split not in ("dev", "heldout", "all"):
        typer.echo(f"error: --split must be dev, heldout or all, not {split!r}", err=True)
        raise typer.Exit(2)
    classifier = Classifier.from_config(_load(config))
    try:
        examples = load_examples(path)
    except (OSError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(format_evaluation(evaluate(examples, classifier, split), errors=errors))


@app.command()
def backtest(
    since: Annotated[
        str, typer.Option("--since", help="Window of stored items, by fetch time: 30d, 12h.")
    ] = "30d",
    config: ConfigOption = Path(DEFAULT_CONFIG),
    examples: Annotated[int, typer.Option("--examples", min=0, help="Items shown per change.")] = 3,
) -> None:
    """Classify stored items again with this config's rules; show alerts that would change."""
    from datetime import UTC, datetime

    from watcher.backtest import format_backtest, run_backtest
    from watcher.durations import parse_duration

    try:
        window = parse_duration(since)
    except ValueError as exc:
        typer.echo(f"error: --since: {exc}", err=True)
        raise typer.Exit(2) from None
    settings = _load(config)
    result = asyncio.run(run_backtest(settings, window, datetime.now(UTC)))
    typer.echo(format_backtest(result, examples=examples))


def main() -> None:
    """Console entry point."""
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    app()
