"""The `watcher` command.

watcher run [--once]        run the daemon (or one burst) on the config
watcher check-config [PATH] validate a config file, list every problem
watcher config-schema       print the JSON Schema of the config file
watcher classify PATH|-     show which signals a document carries, and why
watcher outbox [retry]      list unsent emails; requeue failed or dead ones
watcher send-test ADDRESS   send a sample alert through the configured transport
watcher classify PATH|URL|- show which signals a document carries, and why
watcher eval FILE           precision, recall, F1 and errors of the rules on a labelled set
watcher backtest --since D  what a rule change would do to the alerts of stored items
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncEngine

from watcher.cli_mail import outbox_app, send_test
from watcher.config import WatcherConfig
from watcher.configfile import load_config
from watcher.durations import parse_duration
from watcher.errors import ConfigError, StoreError
from watcher.log import configure_logging
from watcher.progress import progress_bar
from watcher.store.db import Sessions, create_engine, prepare_schema, sessions
from watcher.store.listing import list_items, list_signals, list_sources

T = TypeVar("T")

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
    from watcher.daemon import Daemon
    from watcher.service import run_once

    settings = _load(config)
    configure_logging(settings.log.level, settings.log.format)
    if once:
        enabled = sum(1 for source in settings.sources if source.enabled)
        with progress_bar("Polling sources", enabled) as advance:
            code = asyncio.run(run_once(settings, advance))
    else:
        code = asyncio.run(Daemon(settings, config).run())
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
    with contextlib.ExitStack() as stack:

        def progress(total: int) -> Callable[[int], None]:
            return stack.enter_context(progress_bar("Classifying stored items", total))

        result = asyncio.run(run_backtest(settings, window, datetime.now(UTC), progress))
    typer.echo(format_backtest(result, examples=examples))


app.add_typer(outbox_app, name="outbox")
app.command("send-test")(send_test)


def main() -> None:
    """Console entry point."""
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    app()


# --- looking inside ------------------------------------------------------------------

SinceOption = Annotated[
    str, typer.Option("--since", help="How far back, as a duration (e.g. 24h, 7d).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="JSON lines for scripts.")]


def _since(text: str) -> datetime:
    try:
        return datetime.now(UTC) - parse_duration(text)
    except ValueError as exc:
        typer.echo(f"error: --since: {exc}", err=True)
        raise typer.Exit(2) from None


def _query(config: Path, work: Callable[[Sessions], Awaitable[T]]) -> T:
    """Open the configured database (without polling anything) and run `work` on it."""
    settings = _load(config)

    async def go() -> T:
        engine = create_engine(settings.database_url)
        try:
            await prepare_schema(engine, migrate=settings.database.migrate)
            db = sessions(engine)
            try:
                return await work(db)
            finally:
                await db.close()
        finally:
            await engine.dispose()

    return asyncio.run(go())


def _emit(rows: list[dict[str, object]], columns: list[str], title: str, as_json: bool) -> None:
    if as_json:
        for row in rows:
            sys.stdout.write(json.dumps(row, default=str, ensure_ascii=False) + "\n")
        return
    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if row.get(c) is None else escape(str(row.get(c))) for c in columns))
    Console().print(table)


@app.command()
def sources(config: ConfigOption = Path(DEFAULT_CONFIG), as_json: JsonOption = False) -> None:
    """Each source's health: last success, failures, last error."""
    rows = _query(config, list_sources)
    configured = {s.name: s for s in _load(config).sources}
    out: list[dict[str, object]] = [
        {
            "name": row.name,
            "kind": row.kind,
            "configured": row.name in configured,
            "polls": row.polls,
            "failures": row.consecutive_failures,
            "last_success": _short(row.last_success_at),
            "last_new_item": _short(row.last_new_item_at),
            "last_error": row.last_error,
        }
        for row in rows
    ]
    seen = {row.name for row in rows}
    out += [
        {"name": name, "kind": source.kind, "configured": True, "polls": 0, "failures": 0}
        for name, source in configured.items()
        if name not in seen
    ]
    columns = ["name", "kind", "polls", "failures", "last_success", "last_new_item", "last_error"]
    _emit(out, columns, "Sources", as_json)


@app.command()
def signals(
    config: ConfigOption = Path(DEFAULT_CONFIG),
    since: SinceOption = "7d",
    signal_type: Annotated[
        str | None, typer.Option("--type", help="Only this signal type.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Signals found recently, newest first, with their evidence."""
    start = _since(since)
    lines = _query(config, lambda db: list_signals(db, since=start, signal_type=signal_type))
    out: list[dict[str, object]] = [
        {
            "when": _short(line.created_at),
            "type": line.type,
            "direction": line.direction,
            "severity": line.severity,
            "score": line.score,
            "speculative": line.speculative,
            "source": line.source,
            "title": line.title,
            "link": line.link,
            "evidence": line.evidence,
        }
        for line in lines
    ]
    _emit(
        out,
        ["when", "type", "direction", "severity", "source", "title", "evidence"],
        f"Signals since {since}",
        as_json,
    )


@app.command()
def items(
    config: ConfigOption = Path(DEFAULT_CONFIG),
    since: SinceOption = "7d",
    as_json: JsonOption = False,
) -> None:
    """Items fetched recently, newest first."""
    start = _since(since)
    rows = _query(config, lambda db: list_items(db, since=start))
    out: list[dict[str, object]] = [
        {
            "fetched": _short(row.fetched_at),
            "source": row.source,
            "title": row.title,
            "published": _short(row.published),
            "revision": row.revision,
            "link": row.link,
        }
        for row in rows
    ]
    _emit(
        out,
        ["fetched", "source", "title", "published", "revision"],
        f"Items since {since}",
        as_json,
    )


def _short(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%d %H:%M") if value else None


# --- database ------------------------------------------------------------------------

db_app = typer.Typer(help="Database schema: migrate, show the revision.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade(
    config: ConfigOption = Path(DEFAULT_CONFIG),
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Migrate the configured database to the newest (or the given) revision."""
    from watcher.store import migrate

    async def go(engine: AsyncEngine) -> str | None:
        await migrate.upgrade(engine, revision)
        return await migrate.current(engine)

    typer.echo(f"database at revision {_with_engine(config, go)}")


@db_app.command("current")
def db_current(config: ConfigOption = Path(DEFAULT_CONFIG)) -> None:
    """Print the database's revision and the newest one this version knows."""
    from watcher.store import migrate

    found = _with_engine(config, migrate.current)
    typer.echo(f"database: {found or 'none (empty)'}  newest: {migrate.head()}")
    if found != migrate.head():
        raise typer.Exit(1)


def _with_engine(config: Path, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    settings = _load(config)

    async def go() -> T:
        engine = create_engine(settings.database_url)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(go())
    except StoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
