"""The latest polls' story keys (`recent_story_keys`): filed there, moved into
`story_keys` in batches, read by lookups from both, and migration 0015."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, func, inspect, select, text

from watcher.config import WatcherConfig
from watcher.domain.identity import with_identity
from watcher.domain.items import Item
from watcher.domain.stories import index_keys, script_keys, sketch_text
from watcher.service.runtime import Runtime
from watcher.sources.result import Validators
from watcher.store import migrate
from watcher.store.db import create_engine
from watcher.store.driver import Driver
from watcher.store.poll import ItemPlan, save_poll
from watcher.store.source_state import Success
from watcher.store.story_index import HEAD, Filing, file_keys, lookup, move_recent
from watcher.store.tables import RECENT_STORY_KEYS, STORY_KEYS

MakeConfig = Callable[..., WatcherConfig]
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
TITLE = "Lynas halts Mount Weld after flooding"
BODY = (
    "Lynas Rare Earths said on Tuesday it had halted mining at Mount Weld in Western"
    " Australia after heavy rain flooded the pit, and warned that concentrate shipments of"
    " {} tonnes to its Kuantan plant in Malaysia would be delayed by at least three weeks."
)


async def _save(rt: Runtime, source: str, body: str, guid: str = "g") -> None:
    item = with_identity(Item(source=source, title=TITLE, body=body, guid=guid, published=NOW))
    await save_poll(
        rt.db,
        success=Success(source, "feed", NOW, None, Validators(), domain="test.invalid"),
        plans=[ItemPlan(item=item, signals=[], recipients={})],
    )


def _counts(connection: Connection) -> tuple[int, int]:
    """Rows in `story_keys` and in `recent_story_keys`."""
    return tuple(  # type: ignore[return-value]
        connection.execute(select(func.count()).select_from(table)).scalar_one()
        for table in (STORY_KEYS, RECENT_STORY_KEYS)
    )


def _candidates(connection: Connection, body: str) -> list[tuple[int, str]]:
    """The stories and sources of the candidates a new item of `desk` with `body` finds."""
    sketch = sketch_text(TITLE, body, NOW.date())
    found = lookup(
        Driver(connection),
        source="desk",
        wanted=[(index_keys(sketch), NOW)],
        window=timedelta(days=7),
        now=NOW,
        sketches=[sketch],
    )
    return sorted((c.story_id, c.source) for c in found.candidates[0])


async def test_a_poll_files_into_the_recent_table_and_a_move_keeps_every_lookup(
    make_config: MakeConfig, database_url: str
) -> None:
    """A poll's key rows go to `recent_story_keys`; moved into `story_keys` they are the
    same rows, the recent table is empty, and every lookup finds the same candidates."""
    config = make_config(database={"url": database_url})
    bodies = [BODY.format(t) for t in ("1,200", "2,500", "18,125")]
    async with Runtime(config) as rt:
        await _save(rt, "wire", BODY.format("1,200"))
        await _save(rt, "paper", BODY.format("18,125"))
        filed = await rt.db.run_read(_counts)
        before = [await rt.db.run_write(lambda c, b=b: _candidates(c, b)) for b in bodies]
        await rt.db.run_write(lambda connection: move_recent(Driver(connection)))
        moved = await rt.db.run_read(_counts)
        after = [await rt.db.run_write(lambda c, b=b: _candidates(c, b)) for b in bodies]
        await _save(rt, "desk2", BODY.format("2,500"))  # filed anew, beside the moved rows
        both = await rt.db.run_read(_counts)
        last = [await rt.db.run_write(lambda c, b=b: _candidates(c, b)) for b in bodies]
    assert filed[0] == 0
    assert filed[1] > 2
    assert moved == (filed[1], 0)
    assert after == before
    assert [len(found) for found in before] == [1, 0, 1]
    assert both[0] == filed[1]
    assert both[1] > 0
    assert [len(found) for found in last] == [1, 1, 1]


async def test_filing_moves_the_recent_rows_once_they_reach_the_batch(
    make_config: MakeConfig, database_url: str
) -> None:
    """`file_keys` leaves rows in the recent table below `merge_rows` and moves them all,
    its own included, once the table holds that many."""
    config = make_config(database={"url": database_url})
    async with Runtime(config) as rt:
        await _save(rt, "wire", BODY.format("1,200"))
        (_, first) = await rt.db.run_read(_counts)

        def file(connection: Connection, item: int, merge_rows: int) -> tuple[int, int]:
            filing = Filing(item, 1, NOW, frozenset({11, 12}), 0)
            file_keys(Driver(connection), "wire", [filing], merge_rows=merge_rows)
            return _counts(connection)

        def unfile(connection: Connection) -> None:
            """The rows `file` adds (the item's head row, keys 11 and 12) deleted."""
            k = RECENT_STORY_KEYS.c
            connection.execute(RECENT_STORY_KEYS.delete().where(k.key.in_([HEAD, 11, 12])))

        # the wire's item (id 1, story 1) filed again under two more keys, twice
        await rt.db.run_write(unfile)
        below = await rt.db.run_write(lambda c: file(c, 1, first + 3))
        await rt.db.run_write(unfile)
        reached = await rt.db.run_write(lambda c: file(c, 1, first + 2))
    assert below == (0, first + 2)
    assert reached == (first + 2, 0)


async def test_migration_0015_adds_the_table_and_moves_its_rows_back_on_downgrade(
    make_config: MakeConfig, database_url: str
) -> None:
    """Downgraded to 0013, the recent rows are in `story_keys` and the table is gone;
    upgraded again it is back, empty (on SQLite one B-tree, WITHOUT ROWID)."""
    config = make_config(database={"url": database_url})
    async with Runtime(config) as rt:
        await _save(rt, "wire", BODY.format("1,200"))
        filed = await rt.db.run_read(_counts)
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_downgrade_to_0013)
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
            kept = (await conn.execute(select(func.count()).select_from(STORY_KEYS))).scalar_one()
        await migrate.upgrade(engine)
        async with engine.connect() as conn:
            again = await conn.run_sync(_counts)
            schema = (
                await conn.execute(
                    text("SELECT sql FROM sqlite_schema WHERE name = 'recent_story_keys'")
                )
                if engine.dialect.name == "sqlite"
                else None
            )
            single_tree = schema is None or "WITHOUT ROWID" in schema.scalar_one()
    finally:
        await engine.dispose()
    assert filed[0] == 0
    assert filed[1] > 0
    assert "recent_story_keys" not in tables
    assert kept == filed[1]
    assert again == (filed[1], 0)
    assert single_tree


async def test_a_revision_drops_the_item_s_keys_from_both_tables(
    make_config: MakeConfig, database_url: str
) -> None:
    """A revised item's rows are deleted wherever they are (moved or recent) and filed
    anew under its new text's keys only (its story keys and the keys it files for other
    scripts)."""
    config = make_config(database={"url": database_url})
    old, new = BODY.format("1,200"), "Chile curbed lithium exports of 2,500 tonnes on Monday."
    async with Runtime(config) as rt:
        await _save(rt, "wire", old)
        await rt.db.run_write(lambda connection: move_recent(Driver(connection)))
        await _save(rt, "wire", old, guid="g2")  # a second item, left in the recent table
        await _save(rt, "wire", new)  # the first item revised
        await _save(rt, "wire", new, guid="g2")  # and the second

        def keys(connection: Connection) -> set[int]:
            return {
                key
                for table in (STORY_KEYS, RECENT_STORY_KEYS)
                for key in connection.execute(select(table.c.key).where(table.c.key >= 0))
                .scalars()
                .all()
            }

        found = await rt.db.run_read(keys)
    sketch = sketch_text(TITLE, new, NOW.date())
    assert found == index_keys(sketch) | script_keys(sketch)[0]


def _downgrade_to_0013(connection: Connection) -> None:
    from alembic import command

    config = migrate.alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, "0013")
