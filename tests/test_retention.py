"""Retention purges signal-less items and sent deliveries, on both engines."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlmodel import func, select

from tests.conftest import ROOT
from tests.orm import reading
from tests.rows import DeliveryRow, ItemRow, SignalRow, StoryRow
from watcher.config import WatcherConfig
from watcher.service.rounds import run_once
from watcher.service.runtime import Runtime
from watcher.store.retention import purge

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
