"""Opt-outs in the store, on SQLite and PostgreSQL: pending rows cancelled, state reversible."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from tests.clock import Clock
from tests.conftest import ROOT
from tests.delivery import all_rows
from tests.rows import DeliveryRow
from watcher.config import WatcherConfig
from watcher.service.rounds import poll_with_deadline, prepare_sources
from watcher.service.runtime import Runtime
from watcher.store import optouts
from watcher.store.db import open_database

MakeConfig = Callable[..., WatcherConfig]


async def test_unsubscribe_cancels_pending_rows_and_resubscribe_restores_the_state(
    make_config: MakeConfig, database_url: str
) -> None:
    """Queued seeds for two: one opts out (its rows cancelled, the other's kept), then back."""
    config = make_config(
        database={"url": database_url},
        sources=[
            {"name": "seeds", "kind": "files", "path": str(ROOT / "seeds"), "backfill": "3650d"}
        ],
        subscribers=[{"email": "analyst@example.com"}, {"email": "buyer@example.com"}],
    )
    clock = Clock()
    async with Runtime(config, clock=clock) as rt:
        for source in await prepare_sources(rt):
            await poll_with_deadline(rt, source)
    async with open_database(config.database_url) as db:
        first = await optouts.unsubscribe(
            db, "Analyst@Example.com", how="one-click", list_name="alerts", now=clock.now
        )
        again = await optouts.unsubscribe(
            db, "analyst@example.com", how="cli", list_name="", now=clock.now + timedelta(hours=1)
        )
        assert await optouts.opted_out(db, ["analyst@example.com", "buyer@example.com"]) == {
            "analyst@example.com"
        }
        state = (await optouts.all_optouts(db))["analyst@example.com"]
        assert (state.state, state.how, state.since) == ("unsubscribed", "one-click", clock.now)
        assert await optouts.resubscribe(db, "analyst@example.com", how="cli", now=clock.now)
        assert not await optouts.resubscribe(db, "buyer@example.com", how="cli", now=clock.now)
        assert await optouts.opted_out(db, ["analyst@example.com"]) == set()
    assert first.changed
    assert first.cancelled > 0
    assert (again.changed, again.cancelled) == (False, 0)
    rows = await all_rows(config, DeliveryRow)
    by_status = {(r.subscriber, r.status) for r in rows}
    assert by_status == {("analyst@example.com", "cancelled"), ("buyer@example.com", "pending")}
