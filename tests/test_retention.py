"""Retention purges signal-less items and sent deliveries, on both engines."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, insert
from sqlmodel import func, select

from tests.conftest import ROOT
from tests.orm import reading
from tests.rows import DeliveryRow, ItemRow, SignalRow, StoryRow
from watcher.config import WatcherConfig
from watcher.service.rounds import run_once
from watcher.service.runtime import Runtime
from watcher.store.retention import purge
from watcher.store.tables import HOT_STORY_KEYS

MakeConfig = Callable[..., WatcherConfig]


async def _count(rt: Runtime, table: type) -> int:
    async with reading(rt.db) as session:
        return int((await session.exec(select(func.count()).select_from(table))).one())


async def test_purge_keeps_signals_stories_and_recent_rows(
    make_config: MakeConfig, database_url: str
) -> None:
    """Old quiet items and old sent deliveries go; signals, stories and recent rows stay."""
    config = make_config(
        database={"url": database_url},
        sources=[
            {"name": "seeds", "kind": "files", "path": str(ROOT / "seeds"), "backfill": "3650d"}
        ],
    )
    assert await run_once(config) == 0
    async with Runtime(config) as rt:
        before = {t: await _count(rt, t) for t in (ItemRow, SignalRow, StoryRow, DeliveryRow)}
        now = datetime.now(UTC)
        recent = await purge(
            rt.db, now=now, items_after=timedelta(days=1), deliveries_after=timedelta(days=1)
        )
        assert (recent.items, recent.deliveries) == (0, 0)
        later = await purge(
            rt.db,
            now=now + timedelta(days=2),
            items_after=timedelta(days=1),
            deliveries_after=timedelta(days=1),
        )
        after = {t: await _count(rt, t) for t in (ItemRow, SignalRow, StoryRow, DeliveryRow)}
    quiet_items = before[ItemRow] - 8  # eight items carry a signal
    assert later.items == quiet_items
    assert later.deliveries == before[DeliveryRow]
    assert after[ItemRow] == 8
    assert after[SignalRow] == before[SignalRow]
    assert after[StoryRow] == before[StoryRow]
    assert after[DeliveryRow] == 0


async def test_purge_drops_hot_key_marks_older_than_the_story_window(
    make_config: MakeConfig, database_url: str
) -> None:
    """Marks past the window (which lookups ignore already) go; marks in force stay."""
    config = make_config(database={"url": database_url}, sources=[])
    window = timedelta(days=7)
    now = datetime.now(UTC)
    marks = {11: now - timedelta(days=8), 12: now - timedelta(days=6), 13: now}

    def mark(connection: Connection) -> None:
        connection.execute(
            insert(HOT_STORY_KEYS),
            [{"key": key, "marked_at": at} for key, at in marks.items()],
        )

    def in_force(connection: Connection) -> set[int]:
        rows = connection.execute(
            select(HOT_STORY_KEYS.c.key).where(HOT_STORY_KEYS.c.marked_at >= now - window)
        )
        return {int(row[0]) for row in rows}

    def every_mark(connection: Connection) -> set[int]:
        return {int(row[0]) for row in connection.execute(select(HOT_STORY_KEYS.c.key))}

    async with Runtime(config) as rt:
        await rt.db.run_write(mark)
        before = await rt.db.run_read(in_force)
        kept = await purge(
            rt.db, now=now, items_after=timedelta(days=1), deliveries_after=timedelta(days=1)
        )
        assert kept.hot_marks == 0
        assert await rt.db.run_read(every_mark) == {11, 12, 13}
        purged = await purge(
            rt.db,
            now=now,
            items_after=timedelta(days=1),
            deliveries_after=timedelta(days=1),
            hot_marks_after=window,
        )
        assert purged.hot_marks == 1
        assert await rt.db.run_read(every_mark) == {12, 13}
        assert await rt.db.run_read(in_force) == before == {12, 13}
