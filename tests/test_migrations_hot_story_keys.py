"""Migration 0015: hot story keys get an index on their mark; the marks stay as they were."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, inspect, select

from watcher.store import migrate
from watcher.store.db import create_engine
from watcher.store.tables import HOT_STORY_KEYS

NOW = datetime(2026, 12, 7, 10, 45, 1, 123456, tzinfo=UTC)
MARKS = {7: NOW, 2**61 + 3: NOW - timedelta(days=9), -5: NOW - timedelta(microseconds=1)}
INDEX = "ix_hot_story_keys_marked_at"


def _downgrade(connection: Connection, revision: str) -> None:
    from alembic import command

    config = migrate.alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


def _state(connection: Connection) -> tuple[set[str], dict[int, datetime]]:
    """The names of the table's indexes and its marks by key."""
    indexes = {index["name"] or "" for index in inspect(connection).get_indexes("hot_story_keys")}
    h = HOT_STORY_KEYS.c
    return indexes, dict(connection.execute(select(h.key, h.marked_at)).tuples().all())


async def _step(database_url: str, migrate_to: str, work: Any) -> Any:
    """Migrate to `migrate_to` ("head", or down to a revision), then `work` on a
    connection in a transaction, on an engine of its own."""
    engine = create_engine(database_url)
    try:
        if migrate_to == "head":
            await migrate.upgrade(engine)
        else:
            async with engine.begin() as conn:
                await conn.run_sync(_downgrade, migrate_to)
        async with engine.begin() as conn:
            return await conn.run_sync(work)
    finally:
        await engine.dispose()


async def test_0015_indexes_the_marks_and_takes_the_index_back_exactly(
    database_url: str,
) -> None:
    """Up, down to 0013 and up again: the index on `marked_at` is there at head only, and
    every mark (keys above 32 bits and below zero, microseconds) reads back the same."""

    def mark(connection: Connection) -> tuple[set[str], dict[int, datetime]]:
        connection.execute(
            HOT_STORY_KEYS.insert(), [{"key": k, "marked_at": at} for k, at in MARKS.items()]
        )
        return _state(connection)

    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine, "0013")
    finally:
        await engine.dispose()
    before = await _step(database_url, "0013", mark)  # a no-op migration, then the marks
    up = await _step(database_url, "head", _state)
    down = await _step(database_url, "0013", _state)
    again = await _step(database_url, "head", _state)
    assert before == (set(), MARKS)
    assert up == ({INDEX}, MARKS)
    assert down == (set(), MARKS)
    assert again == up
