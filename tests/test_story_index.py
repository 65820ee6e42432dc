"""The story-key lookup leaves out the stories a candidate's contradicting facts bar."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from watcher.config import WatcherConfig
from watcher.domain.identity import with_identity
from watcher.domain.items import Item
from watcher.domain.stories import (
    Candidate,
    apart_kind,
    barring,
    best_story,
    contradictions,
    decode_sketch,
    encode_sketch,
    encoded_facts,
    encoded_facts_by_kind,
    index_keys,
    same_story,
    sketch_text,
)
from watcher.service.runtime import Runtime
from watcher.sources.result import Validators
from watcher.store.driver import Driver
from watcher.store.poll import ItemPlan, save_poll
from watcher.store.source_state import Success
from watcher.store.story_index import Lookup, lookup

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
