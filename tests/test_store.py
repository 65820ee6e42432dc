"""The store on both engines: idempotent writes, revisions, migrations."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import func, select

from tests.conftest import ROOT
from tests.orm import count_deliveries, reading
from tests.rows import DeliveryRow, ItemRow, SignalRow
from watcher.classify.engine import Classifier
from watcher.config import WatcherConfig
from watcher.domain.identity import with_identity
from watcher.domain.items import Item, Recipient
from watcher.domain.polling import schedule_key
from watcher.domain.stories import decode_sketch, index_keys, sketch_text
from watcher.notify.route import recipients
from watcher.service.rounds import run_once
from watcher.service.runtime import Runtime
from watcher.sources.result import Validators
from watcher.store import migrate
from watcher.store.db import create_engine
from watcher.store.due import claim_due_sources, sync_sources
from watcher.store.poll import ItemPlan, save_poll
from watcher.store.source_state import Success
from watcher.store.values import signal_value

MakeConfig = Callable[..., WatcherConfig]
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _plan(config: WatcherConfig, item: Item) -> ItemPlan:
    signals = Classifier.from_config(config).classify(item.title, item.body)
    return ItemPlan(
        item=item,
        signals=signals,
        recipients={
            s.type: [Recipient(r.address) for r in recipients(config.subscribers, s)]
            for s in signals
        },
    )


def _wire(title: str, body: str, guid: str) -> Item:
    """An item of the `wire` source that `_save` saves, with its identity."""
    return with_identity(Item(source="wire", title=title, body=body, guid=guid))


async def _save(rt: Runtime, item: Item) -> tuple[int, int, int]:
    counts = await save_poll(
        rt.db,
        success=Success("wire", "feed", NOW, None, Validators(), domain="test.invalid"),
        plans=[_plan(rt.config, item)],
    )
    return counts.new, counts.revised, counts.queued


async def test_saving_the_same_item_twice_queues_once(
    make_config: MakeConfig, database_url: str
) -> None:
    """A second save of an identical poll adds no item, signal or delivery."""
    config = make_config(database={"url": database_url})
    item = _wire(
        "China tightens export controls on dysprosium",
        "Exporters of dysprosium oxide now need a licence for every shipment.",
        "g-1",
    )
    async with Runtime(config) as rt:
        assert await _save(rt, item) == (1, 0, 1)
        assert await _save(rt, item) == (0, 1, 0)
        async with reading(rt.db) as session:
            items = (await session.exec(select(func.count()).select_from(ItemRow))).one()
            signals = (await session.exec(select(func.count()).select_from(SignalRow))).one()
        assert (items, signals) == (1, 1)
        assert await count_deliveries(rt.db) == {"pending": 1}


async def test_a_revision_alerts_only_for_a_new_signal_type(
    make_config: MakeConfig, database_url: str
) -> None:
    """An edited item is re-classified; only the signal type it did not have before mails."""
    config = make_config(database={"url": database_url})
    first = _wire(
        "Beijing adds licence rule for terbium exports",
        "Terbium exporters must apply for export licences from next month.",
        "g-2",
    )
    edited = with_identity(
        replace(
            first,
            body=first.body + " Separately, the first batch of mining quotas"
            " has still not been issued, weeks later than usual.",
        )
    )
    async with Runtime(config) as rt:
        await _save(rt, first)
        assert await _save(rt, edited) == (0, 1, 1)
        async with reading(rt.db) as session:
            types = sorted((await session.exec(select(DeliveryRow.signal_type))).all())
            revision = (await session.exec(select(ItemRow.revision))).one()
    assert types == ["export_control", "quota_delay"]
    assert revision == 2


async def test_an_uncertain_direction_is_stored_with_why(
    make_config: MakeConfig, database_url: str
) -> None:
    """The signal row keeps the uncertain flag and its doubt, and reads back the same."""
    config = make_config(database={"url": database_url})
    item = _wire(
        "Nickel ore update",
        "Indonesia resumed nickel ore shipments on Monday, but the main mine there"
        " is still halted.",
        "g-3",
    )
    [signal] = Classifier.from_config(config).classify(item.title, item.body)
    assert signal.direction_doubt
    async with Runtime(config) as rt:
        await _save(rt, item)
        async with reading(rt.db) as session:
            row = (await session.exec(select(SignalRow))).one()
    assert (row.direction_uncertain, row.direction_doubt) == (True, signal.direction_doubt)
    assert signal_value(row.model_dump()) == signal


async def test_two_terms_of_one_concept_keep_their_own_glosses_when_stored(
    make_config: MakeConfig, database_url: str
) -> None:
    """A concept's own gloss and a term's (`glosses:`) on two spans of one sentence read
    back span by span; a row stored with glosses by concept only (before 2026-12-07)
    reads back with its concept's gloss on every span of it."""
    config = make_config(database={"url": database_url})
    item = _wire("商務部公告暫停實施稀土出口管制措施", "商務部暫停實施稀土出口管制措施。", "g-4")
    [signal] = Classifier.from_config(config).classify(item.title, item.body)
    glosses = {span.gloss for e in signal.evidence for span in e.spans if span.gloss}
    assert len(glosses) >= 3  # a concept's gloss, a term's gloss, another concept's
    async with Runtime(config) as rt:
        await _save(rt, item)
        async with reading(rt.db) as session:
            row = (await session.exec(select(SignalRow))).one()
    assert signal_value(row.model_dump()) == signal
    older = row.model_dump()
    stored = [{k: v for k, v in e.items() if k != "span_glosses"} for e in older["evidence"]]
    read = signal_value(older | {"evidence": stored}).evidence
    for evidence, kept in zip(read, stored, strict=True):
        by_concept = kept.get("glosses", {})
        assert [s.gloss for s in evidence.spans] == [
            by_concept.get(s.concept, "") for s in evidence.spans
        ]


async def test_poll_and_deliver_end_to_end(make_config: MakeConfig, database_url: str) -> None:
    """The seeds poll and mail on either engine; a second run adds nothing."""
    config = make_config(
        database={"url": database_url},
        sources=[
            {"name": "seeds", "kind": "files", "path": str(ROOT / "seeds"), "backfill": "3650d"}
        ],
    )
    assert await run_once(config) == 0
    assert await run_once(config) == 0
    async with Runtime(config) as rt:
        assert await count_deliveries(rt.db) == {"sent": 11}


async def test_migrations_upgrade_an_empty_database(database_url: str) -> None:
    """`upgrade` takes an empty database to the newest revision; `current` then says so."""
    engine = create_engine(database_url)
    try:
        assert await migrate.current(engine) is None
        await migrate.upgrade(engine)
        assert await migrate.current(engine) == migrate.head()
        await migrate.upgrade(engine)  # a second upgrade is a no-op
    finally:
        await engine.dispose()


def test_the_head_read_from_the_script_headers_is_alembics() -> None:
    """The cheap head (script headers, no Alembic import) names the revision Alembic would."""
    assert migrate._head_from_headers() == migrate._head_from_alembic()


def test_a_database_at_head_starts_without_importing_alembic(tmp_path: Path) -> None:
    """Opening a database already at head confirms it without Alembic, and a new SQLite
    file gets the newest schema from the Core tables without it either; a file behind
    head migrates with Alembic but without pygments (which only Mako's HTML error pages
    use)."""

    def opened(url: str) -> str:
        """What a fresh process that opens `url` has imported of Alembic and pygments."""
        program = (
            "import asyncio, sys\n"
            "from watcher.store.db import open_database\n"
            "async def main():\n"
            f"    async with open_database({url!r}) as db:\n"
            "        pass\n"
            "asyncio.run(main())\n"
            "print('alembic' in sys.modules, 'pygments' in sys.modules)\n"
            "import pygments\n"  # still importable afterwards
        )
        return subprocess.run(
            [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()

    # a new file, then the same file at head: no Alembic either time
    new = f"sqlite+aiosqlite:///{tmp_path / 'w.db'}"
    assert [opened(new), opened(new)] == ["False False", "False False"]
    assert asyncio.run(_revision(new)) == migrate.head()
    # a file left at an older revision: Alembic migrates it, without pygments
    older = f"sqlite+aiosqlite:///{tmp_path / 'older.db'}"
    engine = create_engine(older)
    asyncio.run(migrate.upgrade(engine, "0010"))
    asyncio.run(engine.dispose())
    assert opened(older) == "True False"
    assert asyncio.run(_revision(older)) == migrate.head()


async def _revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        return await migrate.current(engine)
    finally:
        await engine.dispose()


@pytest.mark.parametrize("revision", ["0001", "0002", "0003"])
async def test_migrations_upgrade_from_an_older_revision(database_url: str, revision: str) -> None:
    """A database left at an older revision upgrades to the newest one."""
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine, revision)
        assert await migrate.current(engine) == revision
        await migrate.upgrade(engine)
        assert await migrate.current(engine) == migrate.head()
    finally:
        await engine.dispose()


async def test_upgrading_to_0004_resketches_items_and_files_their_keys(database_url: str) -> None:
    """An item stored with a version-1 sketch gets the current sketch and its story keys."""
    engine = create_engine(database_url)
    title, body = "Lynas halts Mount Weld", "Flooding stopped the mine for three weeks. " * 5
    try:
        await migrate.upgrade(engine, "0003")
        async with engine.begin() as conn:
            await conn.execute(
                text("INSERT INTO stories (id, title, first_seen) VALUES (1, :t, :now)"),
                {"t": title, "now": NOW.replace(tzinfo=None)},
            )
            await conn.execute(
                text(
                    "INSERT INTO items (id, source, identity, title, body, fetched_at,"
                    " content_hash, revision, story_id, fingerprint) VALUES"
                    " (1, 'wire', 'g1', :t, :b, :now, 'h', 1, 1, :old)"
                ),
                {"t": title, "b": body, "now": NOW.replace(tzinfo=None), "old": b"\x01old"},
            )
        await migrate.upgrade(engine)
        async with engine.connect() as conn:
            (fingerprint,) = (await conn.execute(text("SELECT fingerprint FROM items"))).one()
            keys = (await conn.execute(text("SELECT key, story_id FROM story_keys"))).all()
    finally:
        await engine.dispose()
    sketch = sketch_text(title, body)
    assert decode_sketch(fingerprint) == sketch
    assert {key for key, _ in keys} == index_keys(sketch)
    assert {story for _, story in keys} == {1}


async def test_story_keys_on_sqlite_are_rebuilt_without_rowid_and_keep_their_rows(
    tmp_path: Path,
) -> None:
    """0005 makes story_keys one B-tree on SQLite; the postings filed before it survive."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}")
    schema = text("SELECT sql FROM sqlite_schema WHERE name = 'story_keys'")
    try:
        await migrate.upgrade(engine, "0004")
        async with engine.begin() as conn:
            await conn.execute(
                text("INSERT INTO stories (id, title, first_seen) VALUES (1, 't', :now)"),
                {"now": NOW.replace(tzinfo=None)},
            )
            await conn.execute(
                text(
                    "INSERT INTO items (id, source, identity, title, body, fetched_at,"
                    " content_hash, revision, story_id) VALUES (1, 'wire', 'g1', 't', 'b',"
                    " :now, 'h', 1, 1)"
                ),
                {"now": NOW.replace(tzinfo=None)},
            )
            await conn.execute(
                text(
                    "INSERT INTO story_keys (key, item_id, story_id, source, moment)"
                    " VALUES (7, 1, 1, 'wire', :now), (9, 1, 1, 'wire', :now)"
                ),
                {"now": NOW.replace(tzinfo=None)},
            )
            assert "WITHOUT ROWID" not in (await conn.execute(schema)).scalar_one()
        await migrate.upgrade(engine)
        async with engine.connect() as conn:
            assert "WITHOUT ROWID" in (await conn.execute(schema)).scalar_one()
            rows = (await conn.execute(text("SELECT key, item_id FROM story_keys"))).all()
            indexes = (await conn.execute(text("PRAGMA index_list(story_keys)"))).all()
    finally:
        await engine.dispose()
    assert sorted(tuple(row) for row in rows) == [(7, 1), (9, 1)]
    assert "ix_story_keys_item_id" in {row[1] for row in indexes}


async def test_concurrent_claimers_take_each_due_source_once(
    make_config: MakeConfig, database_url: str
) -> None:
    """Three claimers racing over 30 due sources claim each exactly once, then none is due."""
    sources = [
        {"name": f"s{i:02d}", "kind": "feed", "url": f"https://s{i}.test/rss"} for i in range(30)
    ]
    config = make_config(database={"url": database_url}, sources=sources)
    async with Runtime(config) as rt:
        names = [s.name for s in config.sources]
        keys = {s.name: schedule_key(s) for s in config.sources}
        # replicas starting together create the rows at the same time without conflict
        await asyncio.gather(*(sync_sources(rt.db, config.sources, keys, NOW) for _ in range(3)))
        leases = {name: NOW + timedelta(minutes=5) for name in names}
        claims = await asyncio.gather(
            *(claim_due_sources(rt.db, names, NOW, leases, 12) for _ in range(3))
        )
        again = await claim_due_sources(rt.db, names, NOW, leases, 30)
        expired = await claim_due_sources(rt.db, names, NOW + timedelta(minutes=6), leases, 30)
    taken = [name for claim in claims for name in claim]
    assert sorted(taken) == names
    assert again == []
    assert sorted(expired) == names  # a dead claimer's leases are taken over after expiry


async def test_a_source_added_later_gets_its_row_and_the_others_keep_theirs(
    make_config: MakeConfig, database_url: str
) -> None:
    """A start that finds most rows made inserts only the new source's (due now) and leaves
    the planned rows alone; a source whose kind changed is re-planned."""
    first = [{"name": f"s{i}", "kind": "feed", "url": f"https://s{i}.test/rss"} for i in range(3)]
    config = make_config(database={"url": database_url}, sources=first)
    later = NOW + timedelta(hours=1)
    async with Runtime(config) as rt:
        await sync_sources(rt.db, config.sources, _keys(config), NOW)
        await rt.db.run_write(
            lambda c: c.execute(text("UPDATE sources SET next_poll_at = :t"), {"t": later})
        )
    changed = [*first[:2], {"name": "s2", "kind": "files", "path": "."}]
    grown = make_config(
        database={"url": database_url},
        sources=[*changed, {"name": "s3", "kind": "feed", "url": "https://s3.test/rss"}],
    )
    async with Runtime(grown) as rt:
        await sync_sources(rt.db, grown.sources, _keys(grown), NOW)
        rows = await rt.db.run_read(
            lambda c: c.execute(
                text("SELECT name, kind, next_poll_at FROM sources ORDER BY name")
            ).all()
        )
    assert [(name, kind, when is None) for name, kind, when in rows] == [
        ("s0", "feed", False),
        ("s1", "feed", False),
        ("s2", "files", True),  # re-planned: due now
        ("s3", "feed", True),  # new: due now
    ]


def _keys(config: WatcherConfig) -> dict[str, str]:
    return {s.name: schedule_key(s) for s in config.sources}


async def test_replicas_starting_together_migrate_once(database_url: str) -> None:
    """Four processes' engines upgrading an empty database at once all end at head."""
    engines = [create_engine(database_url) for _ in range(4)]
    try:
        await asyncio.gather(*(migrate.upgrade(engine) for engine in engines))
        assert {await migrate.current(engine) for engine in engines} == {migrate.head()}
    finally:
        for engine in engines:
            await engine.dispose()
