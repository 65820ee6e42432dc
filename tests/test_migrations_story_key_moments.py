"""Migration 0013: story-key moments become integer microseconds, exactly, and back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, select, text

from watcher.store import migrate
from watcher.store.db import create_engine
from watcher.store.tables import STORY_KEYS, micros

NOW = datetime(2026, 12, 7, 5, 33, 31, 123456, tzinfo=UTC)
# a moment with microseconds, one on a whole second, one before 1970 with a fraction
MOMENTS = {
    7: NOW,
    9: datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC),
    -1: datetime(1969, 12, 31, 23, 59, 58, 250000, tzinfo=UTC),
}


def _stored(moment: datetime, dialect: str) -> Any:
    """`moment` as main's schema (0012) stored it: SQLite's text, or a timestamptz."""
    if dialect == "sqlite":
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return moment


async def _at_0012_with_keys(database_url: str) -> None:
    """A database at main's schema (0012) with an item filed under three story keys."""
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine, "0012")
        dialect = engine.dialect.name
        async with engine.begin() as conn:
            when = _stored(NOW, dialect) if dialect == "sqlite" else NOW
            await conn.execute(
                text("INSERT INTO stories (id, title, first_seen) VALUES (1, 't', :now)"),
                {"now": when},
            )
            await conn.execute(
                text(
                    "INSERT INTO items (id, source, identity, title, body, fetched_at,"
                    " content_hash, revision, story_id) VALUES (1, 'wire', 'g1', 't', 'b',"
                    " :now, 'h', 1, 1)"
                ),
                {"now": when},
            )
            for key, moment in MOMENTS.items():
                await conn.execute(
                    text(
                        "INSERT INTO story_keys (key, item_id, story_id, source, moment, bars)"
                        " VALUES (:key, 1, 1, 'wire', :moment, :bars)"
                    ),
                    {
                        "key": key,
                        "moment": _stored(moment, dialect),
                        "bars": 5 if key == -1 else None,
                    },
                )
    finally:
        await engine.dispose()


def _keys(connection: Connection) -> dict[int, tuple[datetime, int | None]]:
    k = STORY_KEYS.c
    rows = connection.execute(select(k.key, k.moment, k.bars))
    return {key: (moment, bars) for key, moment, bars in rows}


def _raw_moments(connection: Connection) -> dict[int, Any]:
    rows = connection.execute(text('SELECT "key", moment FROM story_keys'))
    return {row[0]: row[1] for row in rows}


def _downgrade(connection: Connection, revision: str) -> None:
    from alembic import command

    config = migrate.alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


async def _step(database_url: str, migrate_to: str | None, read: Any = None) -> Any:
    """Migrate to `migrate_to` (up or down; None: stay), then `read` on a connection, each
    on an engine of its own (asyncpg's cached statements die with a changed column)."""
    engine = create_engine(database_url)
    try:
        if migrate_to == "head":
            await migrate.upgrade(engine)
        elif migrate_to is not None:
            async with engine.begin() as conn:
                await conn.run_sync(_downgrade, migrate_to)
        if read is None:
            return engine.dialect.name
        async with engine.connect() as conn:
            return await conn.run_sync(read)
    finally:
        await engine.dispose()


async def test_an_upgrade_from_0012_keeps_every_moment_exactly(database_url: str) -> None:
    """Upgraded, each stored moment is its instant in microseconds (read back as the same
    aware datetime); downgraded to 0012 the column holds the instants as before."""
    await _at_0012_with_keys(database_url)
    raw = await _step(database_url, "head", _raw_moments)
    read = await _step(database_url, None, _keys)
    back = await _step(database_url, "0012", _raw_moments)
    again = await _step(database_url, "head", _raw_moments)
    dialect = await _step(database_url, None)
    assert raw == {key: micros(moment) for key, moment in MOMENTS.items()}
    assert read == {key: (moment, 5 if key == -1 else None) for key, moment in MOMENTS.items()}
    if dialect == "sqlite":
        assert back == {key: _stored(moment, dialect) for key, moment in MOMENTS.items()}
    else:
        assert back == MOMENTS
    assert again == raw


async def test_sqlite_keeps_story_keys_one_b_tree_with_its_item_index(tmp_path: Path) -> None:
    """On SQLite the rebuilt table stays WITHOUT ROWID (0005) and keeps its item index."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}"
    await _at_0012_with_keys(url)
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
        async with engine.connect() as conn:
            schema = (
                await conn.execute(text("SELECT sql FROM sqlite_schema WHERE name = 'story_keys'"))
            ).scalar_one()
            indexes = (await conn.execute(text("PRAGMA index_list(story_keys)"))).all()
            types = {
                row[1]: row[2] for row in await conn.execute(text("PRAGMA table_info(story_keys)"))
            }
    finally:
        await engine.dispose()
    assert "WITHOUT ROWID" in schema
    assert "ix_story_keys_item_id" in {row[1] for row in indexes}
    assert types["moment"] == "BIGINT"


@pytest.mark.parametrize(
    "moment",
    [NOW, NOW - timedelta(microseconds=1), datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)],
)
def test_micros_orders_moments_as_instants(moment: datetime) -> None:
    """`micros` is exact and ordered: a microsecond apart is one apart, whatever the zone."""
    later = moment + timedelta(microseconds=1)
    assert micros(later) - micros(moment) == 1
    assert micros(moment.astimezone(UTC).replace(tzinfo=UTC)) == micros(moment)
    with pytest.raises(ValueError, match="naive"):
        micros(moment.replace(tzinfo=None))
