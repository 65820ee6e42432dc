"""`watcher db`: migrate the configured database, show its revision."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from watcher.cli.common import DEFAULT_CONFIG, ConfigOption, load_or_exit
from watcher.domain.errors import StoreError
from watcher.store import migrate
from watcher.store.db import create_engine

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

T = TypeVar("T")

db_app = typer.Typer(
    help="Database schema: migrate, show the revision.", no_args_is_help=True, rich_markup_mode=None
)


@db_app.command("upgrade")
def db_upgrade(
    config: ConfigOption = DEFAULT_CONFIG,
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Migrate the configured database to the newest (or the given) revision."""

    async def go(engine: AsyncEngine) -> str | None:
        await migrate.upgrade(engine, revision)
        return await migrate.current(engine)

    typer.echo(f"database at revision {_with_engine(config, go)}")


@db_app.command("current")
def db_current(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Print the database's revision and the newest one this version knows."""
    found = _with_engine(config, migrate.current)
    typer.echo(f"database: {found or 'none (empty)'}  newest: {migrate.head()}")
    if found != migrate.head():
        raise typer.Exit(1)


def _with_engine(config: ConfigOption, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """`work` on an engine of the configured database, before any schema check."""
    settings = load_or_exit(config)

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
