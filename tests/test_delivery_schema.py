"""The delivery tables as migrations build them match the tables the code uses."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from watcher.store import migrate
from watcher.store.db import create_engine
from watcher.store.tables import METADATA

CHECKED_TABLES = {"deliveries", "digests", "admin_notices", "story_keys", "hot_story_keys"}


async def test_migrations_build_the_delivery_tables_the_code_describes(database_url: str) -> None:
    """After `upgrade`, autogenerate finds nothing to change in the outbox and story-key tables."""
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)

        def differences(connection: Any) -> list[Any]:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, METADATA)

        async with engine.connect() as conn:
            diffs = await conn.run_sync(differences)
    finally:
        await engine.dispose()
    touching = [d for d in diffs if CHECKED_TABLES & _tables(d)]
    assert touching == []


def _tables(diff: Any) -> set[str]:
    """Every name one autogenerate difference mentions (tables, columns, indexes)."""
    names: set[str] = set()
    for item in diff if isinstance(diff, list) else [diff]:
        for part in item if isinstance(item, tuple) else (item,):
            if isinstance(part, str):
                names.add(part)
            for owner in (part, getattr(part, "table", None)):
                name = getattr(owner, "name", None)
                if isinstance(name, str):
                    names.add(name)
    return names
