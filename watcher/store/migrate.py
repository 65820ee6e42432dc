"""Schema migrations with Alembic, shipped in the package (`watcher/store/migrations`).

`upgrade` brings a database to the newest revision (the service does this at start-up
unless `database.migrate` is false); `current` tells where a database stands. Both run
on the service's own async engine through `run_sync`, so they work on SQLite and
PostgreSQL alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from watcher.store.failures import store_failure

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK_KEY = 0x5757_0002  # names the "migrate the schema" critical section


def alembic_config() -> Config:
    """An Alembic config pointing at the packaged migration scripts."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head() -> str:
    """The newest revision the package knows."""
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert revision is not None
    return revision


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Migrate the database to `revision` (default: the newest); `StoreError` on failure."""

    def run(connection: Any) -> None:
        if connection.dialect.name == "postgresql":
            # replicas starting together on an empty database: one migrates, the
            # others wait here and then find the schema at head (released at commit)
            connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK_KEY)))
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    try:
        # on SQLite the write option makes it BEGIN IMMEDIATE: one migrator at a time
        async with engine.execution_options(watcher_write=True).begin() as conn:
            await conn.run_sync(run)
    except Exception as exc:
        raise store_failure(engine.url, exc, f"migrate (to {revision}) the database") from exc


async def current(engine: AsyncEngine) -> str | None:
    """The database's revision, or None for a database never migrated."""

    def read(connection: Any) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as conn:
        return await conn.run_sync(read)
