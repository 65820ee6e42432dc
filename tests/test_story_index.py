"""The story-key lookup leaves out the stories a candidate's contradicting facts bar."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, delete, inspect, select, text

from bench.stories import load_real
from bench.templated import templated_item
from watcher.config import WatcherConfig
from watcher.domain.identity import with_identity
from watcher.domain.items import Item
from watcher.domain.stories import (
    BAR_LANES,
    Candidate,
    apart_kind,
    bar_mask,
    barring,
    best_story,
    contradictions,
    decode_sketch,
    encode_sketch,
    encoded_facts,
    encoded_facts_by_kind,
    index_keys,
    mask_barring,
    same_story,
    script_keys,
    sketch_text,
)
from watcher.domain.story_facts import ROUNDED, TONNAGE
from watcher.service.runtime import Runtime
from watcher.sources.result import Validators
from watcher.store import migrate
from watcher.store.db import create_engine
from watcher.store.driver import Driver
from watcher.store.poll import ItemPlan, save_poll
from watcher.store.source_state import Success
from watcher.store.story_index import HEAD, Lookup, _posted, lookup
from watcher.store.tables import ITEMS, STORY_KEYS

MakeConfig = Callable[..., WatcherConfig]
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TITLE = "Lynas halts Mount Weld after flooding"
BODY = (
    "Lynas Rare Earths said on Tuesday it had halted mining at Mount Weld in Western"
    " Australia after heavy rain flooded the pit, and warned that concentrate shipments of"
    " {} tonnes to its Kuantan plant in Malaysia would be delayed by at least three weeks."
)
TEASER = (
    "Flooding stops Mount Weld mine",
    "Lynas Rare Earths said on Tuesday it had halted mining at Mount Weld in Western"
    " Australia after heavy rain flooded the pit, and warned that concentrate shipments to"
    " its Kuantan plant in Malaysia would be delayed.",
)


def test_encoded_facts_are_the_facts_decode_sketch_reads() -> None:
    """The facts read alone from a stored sketch are the decoded sketch's; None where
    `decode_sketch` gives None (another version, a truncated value)."""
    data = encode_sketch(sketch_text(TITLE, BODY.format("1,200"), NOW.date()))
    sketch = decode_sketch(data)
    assert sketch is not None
    assert sketch.facts
    assert encoded_facts(data) == sketch.facts
    for damaged in (b"\x02" + data[1:], data[:-1], b"", data[:5]):
        assert decode_sketch(damaged) is None
        assert encoded_facts(damaged) is None


def test_barring_is_apart_kind_and_the_stored_facts_by_kind_are_the_sketch_s() -> None:
    """`barring(mine)(theirs)` is `apart_kind(mine, theirs) is not None` for every pair of
    these texts' facts (tonnages that differ, one an approximate one rounding the other's
    or not, other countries, none named), and the facts read from a stored sketch group
    as the sketch's own (the second read shares the first's groups)."""
    texts = [
        (TITLE, BODY.format(tonnage))
        for tonnage in ("1,200", "2,500", "18,125", "over 18,000", "about 2,000", "2,480")
    ]
    texts += [
        TEASER,
        ("China curbs gallium exports", "China's commerce ministry curbed gallium exports."),
        ("Chile curbs lithium exports", "Chile curbed lithium exports of 2,500 tonnes."),
        ("", ""),
    ]
    by_kind = []
    for title, body in texts:
        sketch = sketch_text(title, body, NOW.date())
        data = encode_sketch(sketch)
        assert encoded_facts_by_kind(data) == sketch.by_kind
        assert encoded_facts_by_kind(data) is encoded_facts_by_kind(bytes(bytearray(data)))
        by_kind.append(sketch.by_kind)
    verdicts = set()
    for mine in by_kind:
        bars = barring(mine)
        for theirs in by_kind:
            verdicts.add(apart_kind(mine, theirs))
            assert bars(theirs) == (apart_kind(mine, theirs) is not None)
    assert None in verdicts
    assert len(verdicts) >= 3  # tonnages and some other kind set pairs apart


async def _save(rt: Runtime, source: str, title: str, body: str) -> None:
    item = with_identity(Item(source=source, title=title, body=body, guid="g", published=NOW))
    await save_poll(
        rt.db,
        success=Success(source, "feed", NOW, None, Validators(), domain="test.invalid"),
        plans=[ItemPlan(item=item, signals=[], recipients={})],
    )


async def _lookup(rt: Runtime, body: str, *, given: bool) -> tuple[Lookup, Candidate | None]:
    """A lookup for a new item of `desk` with `body`, given its sketch or not."""
    sketch = sketch_text(TITLE, body, NOW.date())
    found = await rt.db.run_write(
        lambda connection: lookup(
            Driver(connection),
            source="desk",
            wanted=[(index_keys(sketch), NOW)],
            window=timedelta(days=7),
            now=NOW,
            sketches=[sketch] if given else (),
        )
    )
    placed = best_story(sketch, "desk", NOW, timedelta(days=7), found.candidates[0])
    joined = [c for c in found.candidates[0] if placed and c.story_id == placed.story_id]
    return found, joined[0] if joined else None


async def test_a_lookup_leaves_out_every_item_of_a_story_one_contradicting_item_bars(
    make_config: MakeConfig, database_url: str
) -> None:
    """A story holding an item whose tonnage contradicts the new item's is left out whole,
    its teaser (which alone would join) too, and the placement is the one `best_story`
    makes of every candidate; a new item that agrees keeps both candidates."""
    config = make_config(database={"url": database_url})
    wire, other = sketch_text(TITLE, BODY.format("1,200")), sketch_text(TITLE, BODY.format("2,500"))
    teaser = sketch_text(*TEASER)
    assert "tonnage" in contradictions(wire, other)
    assert same_story(teaser, other)
    assert same_story(teaser, wire)
    async with Runtime(config) as rt:
        await _save(rt, "wire", TITLE, BODY.format("1,200"))
        await _save(rt, "paper", *TEASER)  # joins the wire's story
        every, placed_of_every = await _lookup(rt, BODY.format("2,500"), given=False)
        barred, placed = await _lookup(rt, BODY.format("2,500"), given=True)
        agreeing, joined = await _lookup(rt, BODY.format("1,200"), given=True)
    assert sorted(c.source for c in every.candidates[0]) == ["paper", "wire"]
    assert len({c.story_id for c in every.candidates[0]}) == 1  # one story
    assert placed_of_every is None  # the wire's item bars its story
    assert barred.candidates == [[]]
    assert placed is None
    assert sorted(c.source for c in agreeing.candidates[0]) == ["paper", "wire"]
    assert joined is not None
    assert joined.story_id == every.candidates[0][0].story_id


async def test_a_lookup_keeps_a_story_whose_tonnage_an_approximate_one_rounds(
    make_config: MakeConfig, database_url: str
) -> None:
    """Tonnages that share no value bar nothing when an approximate one rounds the other's
    ("over 18,000 tonnes" and "18,125 tonnes" are one shipment): the lookup keeps that
    story, and the new item joins it as `best_story` joins it given every candidate."""
    config = make_config(database={"url": database_url})
    stored, new = BODY.format("18,125"), BODY.format("over 18,000")
    assert same_story(sketch_text(TITLE, new), sketch_text(TITLE, stored))
    async with Runtime(config) as rt:
        await _save(rt, "wire", TITLE, stored)
        every, placed_of_every = await _lookup(rt, new, given=False)
        kept, placed = await _lookup(rt, new, given=True)
    assert [c.source for c in every.candidates[0]] == ["wire"]
    assert placed_of_every is not None
    assert kept.candidates == every.candidates
    assert placed == placed_of_every


# texts whose facts bar one another or not: tonnages as written, approximate and with
# decimals (a rounding of the other's), elements, countries, months, years, batches
MASKED_TEXTS = [
    *((TITLE, BODY.format(t)) for t in ("1,200", "2,500", "18,125", "over 18,000", "2,480")),
    (TITLE, BODY.format("7,742")),
    (TITLE, BODY.format("7,742.2")),
    TEASER,
    ("China curbs gallium exports", "China's commerce ministry curbed gallium exports in May."),
    ("China curbs gallium exports", "China curbed gallium exports in June 2024."),
    ("Chile curbs lithium exports", "Chile curbed lithium exports of 2,500 tonnes in 2023."),
    ("Quota", "China issued the first batch of 2024 rare earth quotas, 135,000 tonnes."),
    ("Quota", "China issued the second batch of 2024 rare earth quotas, 135,000 tonnes."),
    ("", ""),
]


def _masked_and_barred(by_kind: list[Mapping[int, frozenset[int]]]) -> tuple[int, int]:
    """Over every ordered pair of `by_kind` (facts by kind), asserting that the masks bar
    only where `barring` bars: how many pairs the masks bar, and how many `barring` does."""
    masks = [bar_mask(theirs) for theirs in by_kind]
    barred = masked = 0
    for mine in by_kind:
        exact, masking = barring(mine), mask_barring(bar_mask(mine))
        for theirs, mask in zip(by_kind, masks, strict=True):
            if masking(mask):
                assert exact(theirs), (mine, theirs)
                masked += 1
            barred += exact(theirs)
    return masked, barred


def test_a_bar_mask_bars_only_what_barring_bars_and_most_of_a_template_s_notes() -> None:
    """`mask_barring(bar_mask(mine))(bar_mask(theirs))` is never True where
    `barring(mine)(theirs)` is False (a tonnage an approximate or shorter one rounds
    included), for these texts and the bench's templated notes; of the templated pairs
    `barring` bars, the masks bar at least 80 %."""
    by_kind = [sketch_text(title, body, NOW.date()).by_kind for title, body in MASKED_TEXTS]
    for n in range(120):
        note = templated_item(8, n % 40, n // 40, 1_790_000_000)
        by_kind.append(sketch_text(note.title, note.body, NOW.date()).by_kind)
    widths = dict(BAR_LANES)
    assert widths[TONNAGE] == widths[ROUNDED]  # `mask_barring` moves bits from one to the other
    assert all(0 <= bar_mask(theirs) < 2**63 for theirs in by_kind)  # a signed 64-bit column
    masked, barred = _masked_and_barred(by_kind)
    assert masked >= 0.8 * barred


def test_a_bar_mask_bars_no_pair_of_the_real_story_items_that_barring_lets_through() -> None:
    """Every ordered pair of the 580 real items (`tests/data/stories/real`, facts read
    with no signals): where the masks bar, `barring` bars too."""
    items, _ = load_real()
    by_kind = [
        sketch_text(item.title, item.body, item.published).by_kind for item in items.values()
    ]
    masked, _ = _masked_and_barred(by_kind)
    assert len(by_kind) >= 580
    assert masked > 0


async def _head_rows(rt: Runtime) -> dict[int, tuple[int, datetime, int | None]]:
    def read(connection: Connection) -> dict[int, tuple[int, datetime, int | None]]:
        k = STORY_KEYS.c
        rows = connection.execute(
            select(k.item_id, k.story_id, k.moment, k.bars).where(k.key == HEAD)
        )
        return {item_id: (story, moment, bars) for item_id, story, moment, bars in rows}

    return await rt.db.run_read(read)


async def test_a_filed_item_has_a_head_row_with_its_story_date_and_bar_mask(
    make_config: MakeConfig, database_url: str
) -> None:
    """Each filed item has one `HEAD` row: its story, its date and the `bar_mask` of its
    stored sketch's facts; its other key rows carry no mask."""
    config = make_config(database={"url": database_url})
    async with Runtime(config) as rt:
        await _save(rt, "wire", TITLE, BODY.format("1,200"))
        await _save(rt, "paper", *TEASER)
        heads = await _head_rows(rt)

        def read(connection: Connection) -> tuple[list[int | None], list[tuple[int, int, bytes]]]:
            i, k = ITEMS.c, STORY_KEYS.c
            masks = connection.execute(select(k.bars).where(k.key != HEAD)).scalars().all()
            rows = connection.execute(select(i.id, i.story_id, i.fingerprint))
            return list(masks), [(item_id, story, data) for item_id, story, data in rows]

        masks, items = await rt.db.run_read(read)
    assert masks
    assert set(masks) == {None}
    assert len(heads) == len(items) == 2
    for item_id, story, fingerprint in items:
        sketch = decode_sketch(fingerprint)
        assert sketch is not None
        head_story, moment, mask = heads[item_id]
        assert (head_story, moment) == (story, NOW)
        assert mask == bar_mask(sketch.by_kind) != 0


async def test_a_lookup_finds_the_same_candidates_with_head_rows_and_without(
    make_config: MakeConfig, database_url: str
) -> None:
    """Items filed before head rows (migration 0012) are read and tested by their stored
    facts: with the head rows deleted, every lookup gives the candidates it gives with
    them (a story barred by its wire's tonnage, a story kept, an approximate tonnage)."""
    config = make_config(database={"url": database_url})
    bodies = [BODY.format(t) for t in ("1,200", "2,500", "over 18,000", "18,125", "7,742.2")]
    async with Runtime(config) as rt:
        await _save(rt, "wire", TITLE, BODY.format("1,200"))
        await _save(rt, "paper", *TEASER)
        await _save(rt, "desk2", TITLE, BODY.format("18,125"))
        with_heads = [(await _lookup(rt, body, given=True))[0] for body in bodies]

        def drop_heads(connection: Connection) -> None:
            connection.execute(delete(STORY_KEYS).where(STORY_KEYS.c.key == HEAD))

        await rt.db.run_write(drop_heads)
        assert await _head_rows(rt) == {}
        without = [(await _lookup(rt, body, given=True))[0] for body in bodies]
    assert without == with_heads
    assert [len(found.candidates[0]) for found in with_heads] == [2, 0, 1, 1, 0]


async def test_a_lookup_asks_for_script_keys_only_of_a_script_another_source_filed(
    make_config: MakeConfig, database_url: str
) -> None:
    """An English item's keys for Chinese reports are left out of the postings asked
    for while no other source filed a Chinese item within the dates (their postings are
    empty), and asked for once one did; its word keys always are."""
    config = make_config(database={"url": database_url})
    english = sketch_text(TITLE, BODY.format("1,200"), NOW.date())
    chinese_body = "莱纳斯7月3日表示，韦尔德山矿区1,200吨精矿发运推迟。"
    _, looked_up = script_keys(english)
    assert looked_up
    keys = sorted(index_keys(english) | looked_up)
    dates = (NOW - timedelta(days=7), NOW + timedelta(days=7))

    async def asked(source: str) -> set[int]:
        def read(connection: Connection) -> set[int]:
            return set(_posted(Driver(connection), keys, source, *dates))

        return await rt.db.run_read(read)

    async with Runtime(config) as rt:
        await _save(rt, "wire", TITLE, BODY.format("2,500"))
        before = await asked("desk")
        await _save(rt, "xinhua", "", chinese_body)
        after, own = await asked("desk"), await asked("xinhua")
    assert before == index_keys(english)
    assert after == set(keys)
    assert own == index_keys(english)  # its own source's keys are no other source's


async def test_migration_0012_adds_the_mask_column_and_takes_it_and_the_head_rows_back(
    make_config: MakeConfig, database_url: str
) -> None:
    """Downgraded to 0011, story_keys loses its `bars` column and the head rows and keeps
    the other postings (and on SQLite its single B-tree); upgraded again, it files head
    rows anew."""
    config = make_config(database={"url": database_url})
    async with Runtime(config) as rt:
        await _save(rt, "wire", TITLE, BODY.format("1,200"))
        filed = await rt.db.run_read(_keys)
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_downgrade_to_0011)
        async with engine.connect() as conn:
            columns = await conn.run_sync(
                lambda sync: {c["name"] for c in inspect(sync).get_columns("story_keys")}
            )
            kept = await conn.run_sync(_keys)
            schema = (
                await conn.execute(text("SELECT sql FROM sqlite_schema WHERE name = 'story_keys'"))
                if engine.dialect.name == "sqlite"
                else None
            )
            single_tree = schema is None or "WITHOUT ROWID" in schema.scalar_one()
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()
    assert "bars" not in columns
    assert single_tree
    assert HEAD in filed
    assert kept == filed - {HEAD}
    async with Runtime(config) as rt:
        await _save(rt, "paper", *TEASER)
        heads = await _head_rows(rt)
    assert len(heads) == 1  # the paper's; the wire was filed before


def _keys(connection: Connection) -> set[int]:
    return set(connection.execute(select(STORY_KEYS.c.key)).scalars())


def _downgrade_to_0011(connection: Connection) -> None:
    from alembic import command

    config = migrate.alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, "0011")
