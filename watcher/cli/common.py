"""What every command shares: the config option, loading it, opening the database, tables.

A command that reads the store runs its work through `with_database` (the schema checked
or migrated as the config says, closed on exit) and opens nothing else: no worker
processes, no HTTP client.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from watcher.config import WatcherConfig
from watcher.domain.durations import parse_duration
from watcher.domain.errors import StoreError
from watcher.ops.startup import DEFAULT_CONFIG as DEFAULT_CONFIG  # the commands' default
from watcher.ops.startup import StartRefused, load_settings
from watcher.store.db import Database, open_database

T = TypeVar("T")

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
SinceOption = Annotated[
    str, typer.Option("--since", help="How far back, as a duration (e.g. 24h, 7d).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="JSON lines for scripts.")]


def load_or_exit(path: Path, *, look_further: bool = False) -> WatcherConfig:
    """The validated config, or exit 2 with every problem printed to stderr.

    When `path` is the default and no such file is here, the error says how to name
    one; with `look_further` (commands that only read the rules, such as `classify`)
    the default is first looked for above this folder and in the project this package
    was installed from (`find_config`).
    """
    if look_further and path == DEFAULT_CONFIG and not path.exists():
        found = find_config()
        if found is not None:
            typer.echo(f"using {found}", err=True)
            path = found
    try:
        return load_settings(path)
    except StartRefused as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(exc.code) from None


def find_config(start: Path | None = None) -> Path | None:
    """`config/watcher.yaml` in `start` (default: here) or a folder above it, else in the
    project folder this package was installed from (an editable install); None if neither."""
    here = (start or Path.cwd()).resolve()
    project = Path(__file__).resolve().parents[2]
    for folder in (here, *here.parents, project):
        candidate = folder / DEFAULT_CONFIG
        if candidate.is_file():
            return candidate
    return None


def with_database(settings: WatcherConfig, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run `work` on the configured database; a store error exits 1 with its message."""

    async def go() -> T:
        async with open_database(settings.database_url, migrate=settings.database.migrate) as db:
            return await work(db)

    try:
        return asyncio.run(go())
    except StoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


def since(text: str) -> datetime:
    """`--since` as the moment it names (now minus the duration), or exit 2."""
    try:
        return datetime.now(UTC) - parse_duration(text)
    except ValueError as exc:
        typer.echo(f"error: --since: {exc}", err=True)
        raise typer.Exit(2) from None


def emit(rows: list[dict[str, object]], columns: list[str], title: str, as_json: bool) -> None:
    """`rows` as JSON lines (every field), else a table of `columns`.

    On a terminal the table is drawn (long cells wrap, never cut); into a pipe or a file
    it is tab-separated with a header line, every value whole, for `cut`, `sort`, `awk`.
    """
    if as_json:
        for row in rows:
            sys.stdout.write(json.dumps(row, default=str, ensure_ascii=False) + "\n")
        return
    cells = [["" if row.get(c) is None else str(row.get(c)) for c in columns] for row in rows]
    if not sys.stdout.isatty():
        sys.stdout.write("\t".join(columns) + "\n")
        for line in cells:
            sys.stdout.write("\t".join(one_cell(value) for value in line) + "\n")
        return
    # rich (with pygments, 4 MB) loads only to draw on a terminal: `run` never needs it
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for line in cells:
        table.add_row(*(escape(value) for value in line))
    Console().print(table)


def one_cell(value: str) -> str:
    """A value on one line with no tab, so that a tab-separated row stays one row."""
    return " ".join(value.split())


def short_time(value: datetime | None) -> str | None:
    """A stored time to the minute with its zone (`2026-12-05 07:10 UTC`), for tables."""
    if value is None:
        return None
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
