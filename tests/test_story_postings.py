"""The writer's cached story-key postings give the lookup what the database gives it:
after its own inserts, hot marks, a sliding window, revisions, another writer and a
failed transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection

from watcher.config import WatcherConfig
from watcher.domain.identity import with_identity
from watcher.domain.items import Item
from watcher.domain.stories import HOT_ITEMS, index_keys, sketch_text
from watcher.service.runtime import Runtime
from watcher.sources.result import Validators
from watcher.store.db import Database, open_database
from watcher.store.driver import Driver
from watcher.store.poll import ItemPlan, save_poll
from watcher.store.retention import purge
from watcher.store.source_state import Success
from watcher.store.story_index import Lookup, lookup
from watcher.store.story_postings import Postings, cache_of, read_postings
from watcher.store.tables import ITEMS

MakeConfig = Callable[..., WatcherConfig]
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
WINDOW = timedelta(days=7)
TITLE = "Customs clears gallium shipment"
BODY = (
    "Customs in Tianjin cleared a shipment of {} tonnes of gallium bound for a refiner in"
    " Rotterdam on Monday, the first export approved under the licence regime, traders said."
)


def _item(source: str, tonnes: int, guid: str = "g", published: datetime = NOW) -> Item:
    return with_identity(
        Item(source=source, title=TITLE, body=BODY.format(tonnes), guid=guid, published=published)
    )


async def _save(db: Database, item: Item, at: datetime = NOW) -> None:
    await save_poll(
        db,
        success=Success(item.source, "feed", at, None, Validators(), domain="test.invalid"),
        plans=[ItemPlan(item=item, signals=[], recipients={})],
    )


class _Undo(Exception):
    """Rolls back a transaction that only looked."""

    def __init__(self, found: Lookup) -> None:
        self.found = found


def _summary(found: Lookup) -> tuple[object, ...]:
    """What a lookup decides: each candidate's story, source and date, keys, hot keys."""
    candidates = [sorted((c.story_id, c.source, c.when) for c in mine) for mine in found.candidates]
    return candidates, found.keys, found.hot


async def _both(db: Database, tonnes: int, when: datetime = NOW) -> tuple[Lookup, Lookup, int]:
    """A probe item's lookup without the cache (rolled back) and through it; and how many
    keys the cached lookup took from the cache rather than the database."""
    sketch = sketch_text(TITLE, BODY.format(tonnes), when.date())
    wanted = [(index_keys(sketch), when)]
    cache = cache_of(db)

    def plain(connection: Connection) -> None:
        raise _Undo(
            lookup(
                Driver(connection),
                source="probe",
                wanted=wanted,
                window=WINDOW,
                now=when,
                sketches=[sketch],
            )
        )

    def cached(connection: Connection) -> tuple[Lookup, int]:
        driver = Driver(connection)
        postings = cache.begin(driver)
        found = lookup(
            driver,
            source="probe",
            wanted=wanted,
            window=WINDOW,
            now=when,
            sketches=[sketch],
            postings=postings,
        )
        # the rows themselves, through the cache as this lookup found it and from the table
        keys, start, end = sorted(wanted[0][0] - found.hot), when - WINDOW, when + WINDOW
        through = Postings(driver, postings.held).read(keys, source="probe", start=start, end=end)
        read = read_postings(driver, keys, source="probe", start=start, end=end)
        assert {k: sorted(v) for k, v in through.items()} == {k: sorted(v) for k, v in read.items()}
        cache.keep(postings)
        return found, len(postings.used)

    try:
        await db.run_write(plain)
    except _Undo as undone:
        without = undone.found
    with_cache, used = await db.run_write(cached)
    return without, with_cache, used


async def test_a_lookup_through_the_cache_equals_one_without_it(
    make_config: MakeConfig, database_url: str
) -> None:
    """Through its own inserts, keys turning hot, a copy joining, a revision and a window
    that slides past every item, the cached lookup finds the candidates, keys and hot
    keys the database gives, and takes keys from the cache once it holds them."""
    config = make_config(database={"url": database_url})
    async with Runtime(config) as rt:
        served = 0
        for n in range(HOT_ITEMS + 4):  # each source another event (another tonnage)
            await _save(rt.db, _item(f"desk{n}", 100 + n))
            if n % 8 == 0 or n >= HOT_ITEMS - 2:
                without, with_cache, used = await _both(rt.db, 100 + n)
                assert _summary(with_cache) == _summary(without)
                served += used
        assert served > 0 or rt.db.postgres  # PostgreSQL holds none (`story_postings`)
        assert without.hot  # the template's keys turned hot on the way
        assert not without.hot & cache_of(rt.db).held()  # and left the cache
        await _save(rt.db, _item("copy", 103))  # a copy of desk3: joins its story
        without, with_cache, _ = await _both(rt.db, 103)
        assert _summary(with_cache) == _summary(without)
        assert {c.source for c in with_cache.candidates[0]} == {"desk3", "copy"}
        await _save(rt.db, _item("desk3", 777))  # a revision: desk3's item, refiled
        without, with_cache, _ = await _both(rt.db, 103)
        assert _summary(with_cache) == _summary(without)
        # desk3's story now holds 777 tonnes beside copy's 103: a probe of either figure
        # finds it barred (`story_index._barred`)
        assert with_cache.candidates == [[]]
        without, with_cache, _ = await _both(rt.db, 777)
        assert _summary(with_cache) == _summary(without)
        assert with_cache.candidates == [[]]
        later = NOW + WINDOW + timedelta(days=2)  # past every item's window
        without, with_cache, _ = await _both(rt.db, 103, later)
        assert _summary(with_cache) == _summary(without)
        assert with_cache.candidates == [[]]


async def test_another_writer_s_postings_are_seen_through_the_cache(
    make_config: MakeConfig, database_url: str
) -> None:
    """A second writer on the same database (a replica, another process) files the item
    that makes the template's keys hot: the first writer's next lookup, through its cache,
    finds them hot, and finds the other writer's copy of its probe."""
    config = make_config(database={"url": database_url})
    async with Runtime(config) as rt:
        for n in range(HOT_ITEMS - 1):
            await _save(rt.db, _item(f"desk{n}", 100 + n))
        without, _, _ = await _both(rt.db, 500)  # fills the cache
        assert not without.hot
        assert cache_of(rt.db).held() or rt.db.postgres
        async with open_database(database_url.replace("+aiosqlite", "")) as other:
            await _save(other, _item("elsewhere", 500))
        without, with_cache, _ = await _both(rt.db, 500)
        assert _summary(with_cache) == _summary(without)
        assert with_cache.hot
        assert {c.source for c in with_cache.candidates[0]} == {"elsewhere"}


async def test_a_failed_transaction_leaves_nothing_in_the_cache(
    make_config: MakeConfig, database_url: str
) -> None:
    """Postings a transaction filed and then rolled back are not found through the cache."""
    config = make_config(database={"url": database_url})
    async with Runtime(config) as rt:
        for n in range(4):
            await _save(rt.db, _item(f"desk{n}", 100 + n))
        await _both(rt.db, 300)
        cache = cache_of(rt.db)
        sketch = sketch_text(TITLE, BODY.format(300), NOW.date())

        def filed_then_failed(connection: Connection) -> None:
            driver = Driver(connection)
            postings = cache.begin(driver)
            lookup(
                driver,
                source="ghost",
                wanted=[(index_keys(sketch), NOW)],
                window=WINDOW,
                now=NOW,
                sketches=[sketch],
                postings=postings,
            )
            postings.filed([(key, 10**6, "ghost", NOW) for key in index_keys(sketch)])
            cache.keep(postings)
            raise RuntimeError("the commit fails")

        try:
            await rt.db.run_write(filed_then_failed)
        except RuntimeError:
            cache.forget()
        without, with_cache, _ = await _both(rt.db, 300)
        assert _summary(with_cache) == _summary(without)


async def _play(db: Database, other_url: str) -> list[tuple[str, int | None]]:
    """A run of polls through inserts, hot keys, copies, a revision, a window that
    slides, a retention purge and another writer; each item's source and story."""
    for n in range(HOT_ITEMS + 6):  # each source another event: the frame's keys turn hot
        await _save(db, _item(f"desk{n}", 100 + n, published=NOW + timedelta(hours=n)))
    await _save(db, _item("copy", 103))  # joins desk3
    await _save(db, _item("desk3", 777))  # desk3 revised
    await _save(db, _item("copy2", 777))  # joins desk3 as revised
    later = NOW + timedelta(days=10)
    await _save(db, _item("late", 103, published=later), later)  # past copy's window
    await _save(db, _item("late2", 103, published=later), later)  # joins late

    def placements(connection: Connection) -> list[tuple[str, int | None]]:
        rows = connection.execute(ITEMS.select().order_by(ITEMS.c.id))
        return [(row.source, row.story_id) for row in rows]

    before = await db.run_read(placements)  # the purge takes the oldest items
    await purge(
        db,
        now=later + timedelta(days=2),
        items_after=timedelta(days=5),
        deliveries_after=timedelta(days=5),
    )
    assert not cache_of(db).held()
    await _save(db, _item("after", 103, published=later), later)  # joins late's story
    async with open_database(other_url) as other:
        await _save(other, _item("elsewhere", 900, published=later), later)
    await _save(db, _item("copy3", 900, published=later), later)  # joins elsewhere
    return before + await db.run_read(placements)


async def test_polls_place_items_alike_with_and_without_the_cache(
    make_config: MakeConfig, database_url: str, tmp_path: Path
) -> None:
    """The same polls on two databases, one writer keeping its postings and one reading
    them all each time, put every item in the same story."""
    found = []
    for keeping in (True, False):
        url = database_url
        if not url.startswith("postgresql"):
            url = f"sqlite+aiosqlite:///{tmp_path / f'keeping-{keeping}.db'}"
        elif not keeping:
            break  # PostgreSQL holds no postings: its one run is checked below
        config = make_config(database={"url": url})
        async with Runtime(config) as rt:
            cache = cache_of(rt.db)
            cache.enabled = keeping
            found.append(await _play(rt.db, url.replace("+aiosqlite", "")))
            assert (cache.served > 0) == (keeping and not rt.db.postgres)
    if len(found) == 2:
        assert found[0] == found[1]
    stories = dict(found[0])
    assert stories["copy"] == stories["desk3"] != stories["copy2"]
    assert stories["late2"] == stories["late"] == stories["after"] != stories["copy"]
    assert stories["copy3"] == stories["elsewhere"]
