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
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from watcher.config import WatcherConfig, load_config
from watcher.domain.durations import parse_duration
from watcher.domain.errors import ConfigError, StoreError
from watcher.store.db import Database, open_database

T = TypeVar("T")

DEFAULT_CONFIG = Path("config/watcher.yaml")

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


def load_or_exit(path: Path) -> WatcherConfig:
    """The validated config, or exit 2 with every problem printed to stderr."""
    try:
        return load_config(path)
    except ConfigError as exc:
        typer.echo(f"error: invalid configuration\n{exc}", err=True)
        raise typer.Exit(2) from None


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
    """`rows` as JSON lines (every field) or as a table of `columns`."""
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


def short_time(value: datetime | None) -> str | None:
    """A stored time to the minute, for tables."""
    return value.strftime("%Y-%m-%d %H:%M") if value else None
