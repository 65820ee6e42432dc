"""Story clustering: measured on tests/data/stories, and one alert per story end to end."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from sqlmodel import col, select

from bench.stories import (
    DATA,
    HELDOUT,
    REAL,
    cluster,
    default_classifier,
    dev_events_pairs,
    load_items,
    load_real,
    real_sketches,
    score,
    score_pairs,
)
from tests.clock import Clock
from tests.delivery import save_routed
from tests.orm import reading, writing
from tests.rows import DeliveryRow, HotStoryKeyRow, ItemRow, StoryKeyRow
from tests.servers import FeedServer, Route
from tests.test_render import html_part, outbound, text_part
from watcher.classify.engine import Classifier
from watcher.config import WatcherConfig
from watcher.domain.identity import with_identity
from watcher.domain.items import Item
from watcher.domain.stories import (
    HOT_ITEMS,
    JOIN,
    MIN_SHARED_KEYS,
    SHORTLIST,
    Candidate,
    _bound,
    _normal_tokens,
    best_story,
    contradictions,
    decode_sketch,
    encode_sketch,
    filing_keys,
    hot_keys,
    index_keys,
    lookup_keys,
    same_story,
    script_keys,
    shortlist,
    sketch_text,
    tokens,
)
from watcher.domain.story_facts import described, normal_text
from watcher.domain.story_updates import news
from watcher.notify.channels.mail.alert import render_alert
from watcher.service.pipeline import poll_source
from watcher.service.rounds import prepare_sources
from watcher.service.runtime import Runtime
from watcher.sources.result import Validators
from watcher.store.driver import Driver
from watcher.store.outbox import reporting_sources
from watcher.store.poll import ItemPlan, save_poll
from watcher.store.source_state import Success
from watcher.store.story_index import HEAD
from watcher.store.story_index import lookup as find

MakeConfig = Callable[..., WatcherConfig]


def test_clustering_keeps_its_measured_quality_on_the_synthetic_sets() -> None:
    """Pairs precision ≥ 0.95 and recall ≥ 0.95 on the synthetic tuning and held-out sets."""
    for path in (DATA, HELDOUT):
        items = load_items(path)
        result = score(items, cluster(items))
        print(f"\n{path.name}: precision {result.precision:.3f} recall {result.recall:.3f}")
        assert result.precision >= 0.95, path.name
        assert result.recall >= 0.95, path.name
    assert len({i.story for i in load_items(DATA)}) >= 40


def test_the_real_dev_split_keeps_the_figures_the_rules_were_chosen_on() -> None:
    """Real pairs, dev split of the batches the rules were chosen on (pairs without a
    `batch`): precision ≥ 0.98, recall ≥ 0.70, at most 1 missed alert (measured 1.000,
    0.706 and 1; 0.724 before a name each of two notices of one frame lacks set them
    apart). With the 2026-12-06 and 2026-12-07 batches, labelled after the rules were
    written, the whole dev split keeps precision ≥ 0.99, recall ≥ 0.56 and at most 1
    missed alert (measured 1.000, 0.570 and 1; 0.994, 0.574 and 2 before proper names
    were facts). Later batches are scored alone (`python -m bench.stories`)."""
    items, pairs = load_real()
    sketches = real_sketches(items, default_classifier())
    dev = [p for p in pairs if p["split"] == "dev"]
    chosen_on = score_pairs(items, sketches, [p for p in dev if "batch" not in p])
    assert chosen_on.pairs >= 290
    assert chosen_on.precision >= 0.98
    assert chosen_on.recall >= 0.70
    assert chosen_on.missed <= 1
    measured = ("2026-12-06", "2026-12-07")  # later fresh batches are scored alone
    kept = [p for p in dev if p.get("batch", measured[0]) in measured]
    whole = score_pairs(items, sketches, kept)
    assert whole.pairs >= 500
    assert whole.precision >= 0.99
    assert whole.recall >= 0.56
    assert whole.missed <= 1


# labelled after the bounds below were measured
FRESH_BATCHES = ("2026-12-07c", "2026-12-07d", "2026-12-07e")


def _measured_ids() -> set[str]:
    """Ids of the real items of the batches the bounds were measured on (an item of a
    fresh batch carries its `batch`; those are scored alone by `python -m bench.stories`)."""
    lines = (REAL / "items.jsonl").read_text(encoding="utf-8").splitlines()
    raw = [json.loads(line) for line in lines]
    return {item["id"] for item in raw if item.get("batch") not in FRESH_BATCHES}


def test_few_items_of_two_dev_events_join_labelled_or_not() -> None:
    """Every pair of the dev events' items (labelled or not) of the batches it was
    measured on: at most 5 of two events join, each a follow-up of an announcement or one
    notice of a series (measured 5, with 301 pairs of one event joined; 6 and 302 before
    a name each of two notices of one frame lacks set them apart), and no held-back event
    is listed. Fresh batches are scored alone, as their labelled pairs are."""
    everything, pairs = load_real()
    measured = _measured_ids()
    items = {key: item for key, item in everything.items() if key in measured}
    assert len(items) >= 927
    sketches = real_sketches(items, default_classifier())
    right, wrong = dev_events_pairs(items, sketches)
    assert right >= 295
    assert len(wrong) <= 5
    split = {(p["a"], p["b"]): p["split"] for p in pairs}
    listed = [tuple(line.split()[1:3]) for line in wrong]
    assert all(split.get(pair, "dev") == "dev" for pair in listed)


def test_sketches_survive_the_database_round_trip() -> None:
    """encode → decode gives the same sketch; a damaged value is no sketch."""
    sketch = sketch_text("Lynas halts Mount Weld", "Flooding stopped the mine. " * 40)
    assert decode_sketch(encode_sketch(sketch)) == sketch
    assert decode_sketch(b"\x09garbage") is None


def test_a_sketch_read_back_builds_its_sets_when_asked() -> None:
    """A decoded sketch equals the original set by set, facts by kind included."""
    sketch = sketch_text("Lynas halts Mount Weld", "Flooding stopped the mine on March 3. " * 9)
    read = decode_sketch(encode_sketch(sketch))
    assert read is not None
    assert read.facts == sketch.facts
    assert read.by_kind == sketch.by_kind
    assert (read.shingles, read.words, read.title_words) == (
        sketch.shingles,
        sketch.words,
        sketch.title_words,
    )
    assert read == sketch
    assert hash(read) == hash(sketch)


def test_chinese_reprints_match_and_different_news_does_not() -> None:
    """CJK text is compared by characters: a reprint matches, another event does not."""
    a = sketch_text(
        "赣州启动稀土矿山环保督察",
        "赣州市本周启动新一轮稀土矿山环保督察，多家稀土分离企业已暂停生产。",
    )
    b = sketch_text(
        "赣州稀土环保督察致分离厂停产",
        "赣州市本周启动新一轮稀土矿山环保督察，多家稀土分离企业已暂停生产。",
    )
    c = sketch_text(
        "北方稀土上调挂牌价", "北方稀土公布本月稀土产品挂牌价，氧化镨钕上调至每吨54万元。"
    )
    assert same_story(a, b)
    assert not same_story(a, c)


# Two outlets' own words on one event: they share names but few sentences.
ANNOUNCED = (
    "China curbs tungsten exports",
    "China's commerce ministry announced export controls on tungsten, tellurium and"
    " bismuth items, saying the move protects national security and that licences will be"
    " granted to compliant exporters.",
)
REWORDED = (
    "Beijing puts tungsten on its control list",
    "Shipments of tungsten, tellurium and bismuth abroad will now need a permit from the"
    " commerce authorities, Beijing said, citing national security; traders expect delays.",
)


def test_shared_wording_alone_is_not_enough_a_shared_specific_is() -> None:
    """Rewrites sharing a few names join only with positive evidence of one event.

    Undated and naming nothing specific in common, they stay apart: a follow-up or
    another announcement in the same words looks the same. The same texts naming the
    same day, or dated by their sources within a day of each other, are one event.
    """
    a, b = sketch_text(*ANNOUNCED), sketch_text(*REWORDED)
    assert not contradictions(a, b)
    assert not same_story(a, b)
    on_day = " The rules take effect on February 4."
    assert same_story(
        sketch_text(ANNOUNCED[0], ANNOUNCED[1] + on_day),
        sketch_text(REWORDED[0], REWORDED[1] + on_day),
    )
    monday, tuesday, friday = date(2025, 2, 3), date(2025, 2, 4), date(2025, 2, 7)
    assert same_story(sketch_text(*ANNOUNCED, monday), sketch_text(*REWORDED, tuesday))
    assert not same_story(sketch_text(*ANNOUNCED, monday), sketch_text(*REWORDED, friday))


def test_the_same_text_in_the_opposite_direction_is_another_event() -> None:
    """Controls imposed and controls lifted: the classifier's directions differ, no join."""
    title, body = LYNAS
    tight = sketch_text(title, body, None, [("ore_supply_disruption", "tightening")])
    eased = sketch_text(title, body, None, [("ore_supply_disruption", "easing")])
    assert "signal" in contradictions(tight, eased)
    assert not same_story(tight, eased)
    assert same_story(
        tight, sketch_text(title, body, None, [("ore_supply_disruption", "tightening")])
    )


def test_a_number_the_story_lacked_is_news() -> None:
    """A count ("eight products") makes a joined item an update, as a figure does."""
    title, body = ANNOUNCED
    longer = body + " The list covers eight tungsten products and 25 technologies."
    story, item = sketch_text(title, body), sketch_text(title, longer)
    assert same_story(story, item)
    added = news(item.facts, story.facts)
    assert described(title, longer, added) == "number 25; number 8"
    assert not news(sketch_text(title, body).facts, story.facts)
    versioned = sketch_text(title, body + " Rules 1.2.3 and 4.5.6 apply.")  # no count
    assert not news(versioned.facts, story.facts)


def test_a_batch_of_another_year_is_another_event() -> None:
    """The first batch of one year's quotas is not the first batch of another year's,
    even when both texts name both years and the same tonnage."""
    this_year = (
        "China keeps tungsten quota flat",
        "The natural resources ministry published the first batch of tungsten mining"
        " quotas for 2026 at 58,000 tonnes. Caps were unchanged from 2025, when the"
        " total was also 58,000 tonnes.",
    )
    last_year = (
        "China keeps tungsten quota flat",
        "The natural resources ministry published the first batch of tungsten mining"
        " quotas for 2025 at 58,000 tonnes. Caps were unchanged from 2024, when the"
        " total was also 58,000 tonnes.",
    )
    a, b = sketch_text(*this_year), sketch_text(*last_year)
    assert contradictions(a, b) == ["batch of year"]
    assert not same_story(a, b)
    reworded = (
        "Tungsten mining cap held",
        "For 2026 the first batch of tungsten mining quotas stays at 58,000 tonnes,"
        " the natural resources ministry said, unchanged from 2025.",
    )
    assert not contradictions(a, sketch_text(*reworded))


def test_the_same_announcement_number_of_another_year_is_another_event() -> None:
    """MOFCOM numbers its announcements anew each year: No. 5 of 2026 is not No. 5 of 2025."""
    body = (
        "The commerce ministry and customs issued Announcement No. 5 of {year}, adding"
        " graphite anodes to the export control list from next month. The list was last"
        " revised in 2024."
    )
    a = sketch_text("China adds graphite anodes to control list", body.format(year=2026))
    b = sketch_text("China adds graphite anodes to control list", body.format(year=2025))
    assert contradictions(a, b) == ["batch of year"]
    assert not same_story(a, b)
    assert same_story(a, sketch_text("Graphite anode curbs", body.format(year=2026)))


def test_a_day_between_the_two_publications_is_a_later_development() -> None:
    """Friday's item that names Wednesday, a day after Monday's item was published and
    not named in it, reports a new development; Friday's rewrite naming only Monday's
    news is the same event, and so is the same text when either is undated."""
    monday = (
        "China requires licences for tungsten exports",
        "China's commerce ministry said on Monday that exporters of tungsten, tellurium and"
        " bismuth items will need a licence, citing national security and"
        " non-proliferation.",
    )
    follow_up = (
        "Tungsten licence applications stall",
        "China's commerce ministry said on March 3 that exporters of tungsten, tellurium"
        " and bismuth items will need a licence, citing national security. On Wednesday"
        " traders said no licences had been granted yet.",
    )
    rewrite = (
        "Tungsten exports need licences",
        "China's commerce ministry said on March 3 that exporters of tungsten, tellurium"
        " and bismuth items will need a licence, citing national security and"
        " non-proliferation obligations.",
    )
    signals = [("export_control", "tightening")]
    first = sketch_text(*monday, date(2025, 3, 3), signals)
    later = sketch_text(*follow_up, date(2025, 3, 7), signals)
    assert contradictions(later, first) == contradictions(first, later) == ["later day"]
    assert not same_story(later, first)
    assert same_story(sketch_text(*rewrite, date(2025, 3, 7), signals), first)
    assert same_story(sketch_text(*follow_up, None, signals), first)


def test_traditional_and_simplified_chinese_of_one_text_are_one_story() -> None:
    """A Hong Kong or Taiwan outlet's traditional characters are compared as simplified."""
    simplified = (
        "刚果(金)延长钴出口禁令",
        "刚果(金)战略矿产监管局宣布，将钴出口禁令再延长三个月，以缓解全球市场供应过剩，"
        "矿企须继续暂停出口钴产品。",
    )
    traditional = (
        "剛果(金)延長鈷出口禁令",
        "剛果(金)戰略礦產監管局宣布，將鈷出口禁令再延長三個月，以緩解全球市場供應過剩，"
        "礦企須繼續暫停出口鈷產品。",
    )
    assert same_story(sketch_text(*simplified), sketch_text(*traditional))


def test_a_chinese_day_named_alone_is_read_in_the_month_of_publication() -> None:
    """ "18日" in a wire of December 19 is December 18: it matches "12月18日" elsewhere."""
    wire = sketch_text(
        "商务部回应稀土出口管制",
        "商务部新闻发言人18日表示，对符合规定的稀土出口许可申请将依法予以批准。",
        date(2025, 12, 19),
    )
    dated = sketch_text(
        "商务部就稀土出口许可答问",
        "12月18日，商务部新闻发言人表示，对符合规定的稀土出口许可申请将依法予以批准。",
        date(2025, 12, 20),
    )
    other_day = sketch_text(
        "商务部就稀土出口许可答问",
        "12月11日，商务部新闻发言人表示，对符合规定的稀土出口许可申请将依法予以批准。",
        date(2025, 12, 20),
    )
    assert not contradictions(wire, dated)
    assert contradictions(wire, other_day) == ["day"]


LYNAS = (
    "Lynas halts Mount Weld after flooding",
    "Lynas Rare Earths said on Tuesday it had halted mining at Mount Weld in Western"
    " Australia after heavy rain flooded the pit, and warned that concentrate shipments to"
    " its Kuantan plant in Malaysia would be delayed by at least three weeks.",
)
REPRINT = (
    "Flooding stops Mount Weld mine",
    "Lynas Rare Earths said on Tuesday it had halted mining at Mount Weld in Western"
    " Australia after heavy rain flooded the pit, and warned that concentrate shipments to"
    " its Kuantan plant in Malaysia would be delayed.",
)
OTHER = (
    "MP Materials raises NdPr output",
    "MP Materials lifted neodymium-praseodymium oxide output at Mountain Pass to a record"
    " in the third quarter and said its Fort Worth magnet plant had started trial runs.",
)


def test_a_reprint_shares_index_keys_and_other_news_does_not() -> None:
    """The keys find a reprint (enough shared keys to be shortlisted) and not other news."""
    original, reprint, other = (index_keys(sketch_text(*t)) for t in (LYNAS, REPRINT, OTHER))
    assert len(original & reprint) >= MIN_SHARED_KEYS
    assert len(original & other) < MIN_SHARED_KEYS
    postings = {key: [1] for key in original}
    for key in other:
        postings.setdefault(key, []).append(2)
    assert shortlist(reprint, postings) == [1]
    assert shortlist(reprint, postings, hot=original) == []  # hot keys do not count


GALLIUM_EN = (
    "China curbs gallium exports",
    "China's commerce ministry said on July 3 that exporters of gallium and germanium will"
    " need licences from August 1.",
)
GALLIUM_ZH = ("", "商务部7月3日宣布，自8月1日起对镓、锗相关物项实施出口管制。")
LITHIUM_EN = (
    "",
    "Lithium carbonate prices in Shanghai slipped on July 3, and a new contract starts on"
    " August 1.",
)


def test_reports_in_two_scripts_find_each_other_through_their_days() -> None:
    """A Chinese and an English report of one event share no word key but two days: each
    looks up the keys the other is filed under (`script_keys`), so either order is
    shortlisted, and the judgement joins them."""
    en, zh = sketch_text(*GALLIUM_EN), sketch_text(*GALLIUM_ZH)
    assert len(index_keys(en) & index_keys(zh)) < MIN_SHARED_KEYS
    (en_filed, en_looked_up), (zh_filed, zh_looked_up) = script_keys(en), script_keys(zh)
    assert len(en_filed) == 2  # July 3, August 1
    assert (en_filed, en_looked_up) == (zh_looked_up, zh_filed)
    assert shortlist(lookup_keys(zh), {key: [1] for key in filing_keys(en)}) == [1]
    assert shortlist(lookup_keys(en), {key: [1] for key in filing_keys(zh)}) == [1]
    assert same_story(en, zh)
    every = filing_keys(en) | lookup_keys(en)
    assert not (en_filed | en_looked_up) & index_keys(en)
    assert all(0 <= key < 1 << 63 for key in every)  # a signed 64-bit story key


def test_reports_in_one_script_never_meet_through_script_keys() -> None:
    """Two English items of one day are filed under the same script keys, and neither
    looks one up: only the other script does (`index_keys` alone shortlists them)."""
    gallium, lithium = sketch_text(*GALLIUM_EN), sketch_text(*LITHIUM_EN)
    (filed, looked_up), (other_filed, other_looked_up) = script_keys(gallium), script_keys(lithium)
    assert filed & other_filed  # the same days
    assert not filed & other_looked_up
    assert not other_filed & looked_up
    assert not filed & looked_up
    assert script_keys(sketch_text("", "")) == (frozenset(), frozenset())


def test_a_key_of_many_items_is_hot() -> None:
    """Hot means filed under HOT_ITEMS items (whatever their stories), not fewer."""
    many = list(range(HOT_ITEMS))
    few = many[: HOT_ITEMS - 1]
    assert hot_keys({1: many, 3: few}) == {1}


def test_the_shortlist_is_capped_and_keeps_the_closest_items() -> None:
    """However many earlier items share keys, at most SHORTLIST are compared: the closest."""
    keys = list(range(1, 11))
    postings = {key: list(range(SHORTLIST * 3)) for key in keys}
    for key in keys:
        postings[key].append(10_000)
    for key in keys[2:]:
        postings[key] = postings[key][SHORTLIST * 2 :]  # the first 2 * SHORTLIST share 2 keys
    found = shortlist(keys, postings)
    assert len(found) == SHORTLIST
    assert found[0] == 10_000  # shares every key: first


def _item(source: str, title: str, body: str, guid: str) -> Item:
    return with_identity(Item(source=source, title=title, body=body, guid=guid, published=NOW))


NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


async def _save(rt: Runtime, item: Item) -> None:
    await save_poll(
        rt.db,
        success=Success(item.source, "feed", NOW, None, Validators(), domain="test.invalid"),
        plans=[ItemPlan(item=item, signals=[], recipients={})],
    )


async def test_items_are_filed_under_their_keys_and_found_by_a_reprint(
    make_config: MakeConfig, database_url: str
) -> None:
    """A stored item is filed under its keys; another source's reprint joins its story."""
    config = make_config(database={"url": database_url})
    async with Runtime(config) as rt:
        await _save(rt, _item("wire", *LYNAS, "w1"))
        await _save(rt, _item("other", *OTHER, "o1"))
        await _save(rt, _item("reprint", *REPRINT, "r1"))
        async with reading(rt.db) as session:
            items = {i.source: i for i in (await session.exec(select(ItemRow))).all()}
            filed = (
                await session.exec(select(StoryKeyRow).where(StoryKeyRow.source == "wire"))
            ).all()
    assert {k.key for k in filed} == filing_keys(sketch_text(*LYNAS, NOW.date())) | {HEAD}
    assert {k.story_id for k in filed} == {items["wire"].story_id}
    assert items["reprint"].story_id == items["wire"].story_id
    assert items["other"].story_id != items["wire"].story_id


async def test_the_store_joins_reports_in_two_scripts_and_keeps_one_script_apart(
    make_config: MakeConfig, database_url: str
) -> None:
    """Through the store: a Chinese report of the English wire's event joins its story
    through the script keys (they share no word key), while an English note naming the
    same days stays a story of its own."""
    config = make_config(database={"url": database_url})
    async with Runtime(config) as rt:
        await _save(rt, _item("wire", *GALLIUM_EN, "w1"))
        await _save(rt, _item("prices", *LITHIUM_EN, "p1"))
        await _save(rt, _item("xinhua", "商务部：对镓锗实施出口管制", GALLIUM_ZH[1], "x1"))
        async with reading(rt.db) as session:
            items = {i.source: i for i in (await session.exec(select(ItemRow))).all()}
    assert items["xinhua"].story_id == items["wire"].story_id
    assert items["prices"].story_id != items["wire"].story_id


async def test_a_revised_item_is_filed_under_its_new_text(
    make_config: MakeConfig, database_url: str
) -> None:
    """A revision replaces the item's story keys with those of its new text."""
    config = make_config(database={"url": database_url})
    first = _item("wire", *LYNAS, "w1")
    revised = with_identity(replace(first, title=OTHER[0], body=OTHER[1]))
    assert revised.identity == first.identity
    assert revised.content_hash != first.content_hash
    async with Runtime(config) as rt:
        await _save(rt, first)
        await _save(rt, revised)
        async with reading(rt.db) as session:
            keys = (await session.exec(select(StoryKeyRow.key))).all()
    assert set(keys) == filing_keys(sketch_text(*OTHER)) | {HEAD}


async def test_a_key_found_in_many_stories_is_marked_hot_and_no_longer_filed(
    make_config: MakeConfig, database_url: str
) -> None:
    """The poll that sees a key filed under HOT_ITEMS items records it and skips it."""
    config = make_config(database={"url": database_url})
    sketch = sketch_text(*LYNAS, NOW.date())
    common = min(index_keys(sketch))
    async with Runtime(config) as rt:
        for n in range(HOT_ITEMS + 10):
            words = uuid.uuid5(uuid.NAMESPACE_URL, str(n)).hex  # random text: ≥ HOT_ITEMS items
            await _save(rt, _item(f"s{n}", f"Report {words[:8]}", f"{words} {words[::-1]}", "g"))
        async with writing(rt.db) as session:
            stored = (await session.exec(select(ItemRow))).all()
            assert len(stored) >= HOT_ITEMS
            for row in stored:
                assert row.id is not None
                assert row.story_id is not None
                session.add(
                    StoryKeyRow(
                        key=common,
                        item_id=row.id,
                        story_id=row.story_id,
                        source=row.source,
                        moment=NOW,
                    )
                )
        lookup = await rt.db.run_write(
            lambda connection: find(
                Driver(connection),
                source="wire",
                wanted=[(index_keys(sketch), NOW)],
                window=timedelta(days=7),
                now=NOW,
            )
        )
        assert common in lookup.hot
        assert lookup.candidates == [[]]
        await _save(rt, _item("wire", *LYNAS, "w1"))
        async with reading(rt.db) as session:
            hot = (await session.exec(select(HotStoryKeyRow.key))).all()
            wire_keys = (
                await session.exec(select(StoryKeyRow.key).where(StoryKeyRow.source == "wire"))
            ).all()
    assert hot == [common]
    assert set(wire_keys) == (filing_keys(sketch) - {common}) | {HEAD}


def _feed(title: str, body: str, guid: str, when: datetime) -> bytes:
    return (
        "<rss version='2.0'><channel><title>x</title><item>"
        f"<title>{title}</title><guid>{guid}</guid><link>https://x.example/{guid}</link>"
        f"<description>{body}</description>"
        f"<pubDate>{when:%a, %d %b %Y %H:%M:%S} +0000</pubDate></item></channel></rss>"
    ).encode()


async def test_a_syndicated_story_alerts_once_and_lists_the_other_source(
    feed_server: FeedServer, make_config: MakeConfig
) -> None:
    """Two outlets, one story: one story row, one email per signal type, 'also reported by'."""
    now = datetime.now(UTC) - timedelta(hours=1)
    body = (
        "China will require exporters of gallium and germanium products to apply for licences"
        " from August 1, the commerce ministry said, citing national security. Analysts said"
        " export controls could delay shipments to chip makers."
    )
    feed_server.routes["/a"] = Route(_feed("China to require gallium licences", body, "a1", now))
    feed_server.routes["/b"] = Route(
        _feed("Beijing imposes licensing on gallium exports", body, "b1", now)
    )
    config = make_config(
        sources=[
            {"name": "wire", "kind": "feed", "url": feed_server.url("/a")},
            {"name": "reprint", "kind": "feed", "url": feed_server.url("/b")},
        ]
    )
    async with Runtime(config) as rt:
        await prepare_sources(rt)
        for source in config.sources:  # one after the other: no race between the two inserts
            assert (await poll_source(rt, source)).ok
        async with reading(rt.db) as session:
            items = (await session.exec(select(ItemRow).order_by(col(ItemRow.id)))).all()
            deliveries = (await session.exec(select(DeliveryRow))).all()
        assert len(items) == 2
        assert items[0].story_id == items[1].story_id
        assert items[0].story_id is not None
        assert len(deliveries) == len({d.signal_type for d in deliveries}) >= 1
        story = items[0].story_id
        reporting = await rt.db.run_read(lambda c: reporting_sources(c, {story}))
    assert reporting == {story: {"wire", "reprint"}}


async def test_a_zero_story_window_turns_clustering_off(
    feed_server: FeedServer, make_config: MakeConfig
) -> None:
    """`story_window: 0s`: the same text from two outlets is two stories, each alerted;
    no story key is filed, so no later item can join either, and no sketch is made."""
    now = datetime.now(UTC) - timedelta(hours=1)
    body = (
        "China will require exporters of gallium and germanium products to apply for licences"
        " from August 1, the commerce ministry said, citing national security."
    )
    feed_server.routes["/a"] = Route(_feed("China to require gallium licences", body, "a1", now))
    feed_server.routes["/b"] = Route(_feed("China to require gallium licences", body, "b1", now))
    config = make_config(
        sources=[
            {"name": "wire", "kind": "feed", "url": feed_server.url("/a")},
            {"name": "reprint", "kind": "feed", "url": feed_server.url("/b")},
        ],
        polling={"story_window": "0s"},
    )
    async with Runtime(config) as rt:
        await prepare_sources(rt)
        for source in config.sources:
            assert (await poll_source(rt, source)).ok
        async with reading(rt.db) as session:
            items = (await session.exec(select(ItemRow).order_by(col(ItemRow.id)))).all()
            deliveries = (await session.exec(select(DeliveryRow))).all()
            keys = (await session.exec(select(StoryKeyRow))).all()
    assert len(items) == 2
    assert items[0].story_id != items[1].story_id
    assert all(item.fingerprint is None for item in items)  # not sketched: no key leads to it
    assert {d.story_id for d in deliveries} == {items[0].story_id, items[1].story_id}
    assert keys == []


DAILY_TITLE = "Rare earth daily: dysprosium exports held at ports"
DAILY = (
    "Chinese customs held {tonnes:,} tonnes of dysprosium oxide exports at Tianjin port on"
    " {day:%B} {day.day}, traders said, as the export licence backlog grew. Dysprosium oxide"
    " prices rose {rise}% to {price:,} yuan per kg in Shanghai on the day, the highest since"
    " the export controls began."
)


def _daily(day: datetime, n: int) -> str:
    return DAILY.format(
        tonnes=120 + 35 * n, day=day, rise=(1.5, 2.1, 0.8, 3.2, 1.1)[n % 5], price=3100 + 40 * n
    )


def _feed_of(entries: list[tuple[str, str, str, datetime]]) -> bytes:
    items = "".join(
        f"<item><title>{title}</title><guid>{guid}</guid><link>https://x.example/{guid}</link>"
        f"<description>{body}</description>"
        f"<pubDate>{when:%a, %d %b %Y %H:%M:%S} +0000</pubDate></item>"
        for title, body, guid, when in entries
    )
    return f"<rss version='2.0'><channel><title>x</title>{items}</channel></rss>".encode()


async def test_a_daily_templated_report_alerts_once_a_day_and_copies_do_not(
    feed_server: FeedServer, make_config: MakeConfig
) -> None:
    """Five days of one template with other figures and dates: five stories, five alerts.

    Two outlets print each day's note; the second outlet's copy joins the first's story
    and adds nothing, so it sends nothing. Every day is within the story window of the
    days before it, so only the facts keep the days apart.
    """
    start = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)
    clock = Clock(start)
    config = make_config(
        sources=[
            {"name": "wire", "kind": "feed", "url": feed_server.url("/wire")},
            {"name": "desk", "kind": "feed", "url": feed_server.url("/desk")},
        ]
    )
    wire: list[tuple[str, str, str, datetime]] = []
    desk: list[tuple[str, str, str, datetime]] = []
    async with Runtime(config, clock=clock) as rt:
        await prepare_sources(rt)
        for n in range(5):
            day = start + timedelta(days=n)
            wire.insert(0, (DAILY_TITLE, _daily(day, n), f"w{n}", day))
            desk.insert(0, ("Dysprosium held at Tianjin", _daily(day, n), f"d{n}", day))
            feed_server.routes["/wire"] = Route(_feed_of(wire))
            feed_server.routes["/desk"] = Route(_feed_of(desk))
            clock.now = day + timedelta(hours=1)
            for source in config.sources:
                assert (await poll_source(rt, source)).ok
        async with reading(rt.db) as session:
            items = (await session.exec(select(ItemRow))).all()
            deliveries = (await session.exec(select(DeliveryRow))).all()
    assert len(items) == 10
    by_guid = {(i.link or "").rsplit("/", 1)[-1]: i for i in items}
    stories = {by_guid[f"w{n}"].story_id for n in range(5)}
    assert len(stories) == 5  # no day joins another
    for n in range(5):
        assert by_guid[f"d{n}"].story_id == by_guid[f"w{n}"].story_id  # the copy joins
        assert by_guid[f"d{n}"].story_news is None  # and adds nothing
    assert {d.signal_type for d in deliveries} == {"export_control"}
    assert sorted(d.story_id for d in deliveries) == sorted(stories)  # one alert a day
    assert {d.item_id for d in deliveries} == {by_guid[f"w{n}"].id for n in range(5)}


async def test_a_joined_item_with_a_new_figure_is_sent_as_an_update(
    make_config: MakeConfig, database_url: str
) -> None:
    """A rewrite of one event that adds a figure joins the story and is queued again."""
    config = make_config(database={"url": database_url})
    first = _item(
        "wire",
        "China halts gallium exports to the US",
        "China's commerce ministry said on Tuesday it would ban exports of gallium and"
        " germanium to the United States with immediate effect, citing national security.",
        "w1",
    )
    update = _item(
        "other",
        "Beijing bans gallium and germanium exports to US",
        "China's commerce ministry said on Tuesday it would ban exports of gallium and"
        " germanium to the United States with immediate effect, citing national security;"
        " the US imported 1,200 tonnes of gallium last year.",
        "o1",
    )
    copy = _item("third", "Gallium ban", first.body, "t1")
    classifier = Classifier.from_config(config, warn=False)
    async with Runtime(config) as rt:
        assert classifier.classify(first.title, first.body)
        for item in (first, update, copy):
            found = classifier.classify(item.title, item.body)
            await save_routed(rt, config, item, found, NOW)
        async with reading(rt.db) as session:
            items = {i.source: i for i in (await session.exec(select(ItemRow))).all()}
            deliveries = (await session.exec(select(DeliveryRow))).all()
    assert items["other"].story_id == items["wire"].story_id == items["third"].story_id
    assert items["other"].story_news is not None
    assert "figure 1200 t" in items["other"].story_news
    assert items["third"].story_news is None
    sent = {(d.item_id, d.edition) for d in deliveries}
    assert (items["wire"].id, 0) in sent
    assert (items["other"].id, items["other"].id) in sent  # the update, its own edition
    assert not any(d.item_id == items["third"].id for d in deliveries)  # the copy: nothing


def test_an_update_says_what_it_adds_and_how_many_sources_carry_the_story(
    make_config: MakeConfig,
) -> None:
    """The subject starts "Update:"; both parts name the news and count the sources."""
    config = make_config()
    first = replace(outbound(), also_reported_by=("desk", "reprint"))
    update = replace(first, story_news="figure 1200 t; material Ga")
    plain = render_alert(first, config, config.subscribers[0], NOW)
    news = render_alert(update, config, config.subscribers[0], NOW)
    assert not plain["Subject"].startswith("Update:")
    assert news["Subject"].startswith("Update:")
    for part in (text_part(news), html_part(news)):
        assert "now also reports figure 1200 t; material Ga" in part
        assert "carried by 3 sources" in part
    assert "now also reports" not in text_part(plain)
    assert "carried by 3 sources" in text_part(plain)


async def test_a_lookup_hands_over_only_candidates_within_each_items_window(
    make_config: MakeConfig, database_url: str
) -> None:
    """Of two new items sharing the keys of one stored item, only the one whose window holds
    its date gets it as a candidate (its sketch decoded); the other gets none."""
    config = make_config(database={"url": database_url})
    keys = index_keys(sketch_text(*REPRINT))
    window = timedelta(days=2)
    async with Runtime(config) as rt:
        await _save(rt, _item("wire", *LYNAS, "w1"))  # published NOW
        lookup = await rt.db.run_write(
            lambda connection: find(
                Driver(connection),
                source="paper",
                wanted=[(keys, NOW + timedelta(days=1)), (keys, NOW + timedelta(days=3))],
                window=window,
                now=NOW + timedelta(days=3),
            )
        )
    near, far = lookup.candidates
    assert [c.source for c in near] == ["wire"]
    assert near[0].sketch == sketch_text(*LYNAS, NOW.date(), [])
    assert far == []


async def test_a_lookup_after_a_revision_compares_the_revised_text(
    make_config: MakeConfig, database_url: str
) -> None:
    """A candidate read by an earlier lookup is not reused once its item is revised."""
    config = make_config(database={"url": database_url})
    first = _item("wire", *LYNAS, "w1")
    revised = with_identity(replace(first, title=REPRINT[0], body=REPRINT[1] + " Shares fell."))
    keys = index_keys(sketch_text(*REPRINT))

    async def candidates(rt: Runtime) -> list[Candidate]:
        found = await rt.db.run_write(
            lambda connection: find(
                Driver(connection),
                source="paper",
                wanted=[(keys, NOW)],
                window=timedelta(days=2),
                now=NOW,
            )
        )
        return found.candidates[0]

    async with Runtime(config) as rt:
        await _save(rt, first)
        (before,) = await candidates(rt)
        await _save(rt, revised)
        (after,) = await candidates(rt)
    assert before.sketch == sketch_text(*LYNAS, NOW.date(), [])
    assert after.sketch == sketch_text(revised.title, revised.body, NOW.date(), [])


def test_an_unlike_item_that_contradicts_bars_its_story_from_a_reprint() -> None:
    """A story is joined only if none of its compared items contradicts the new one, even
    an item too unlike the new one to be scored (its contradiction is still looked at)."""
    when = datetime(2026, 3, 6, tzinfo=UTC)
    body = (
        "Lynas Rare Earths said on 3 March it had halted mining at Mount Weld in Western"
        " Australia after heavy rain flooded the pit, and warned that concentrate shipments"
        " to its Kuantan plant would be delayed"
    )
    new = sketch_text("Lynas halts Mount Weld after flooding", body + " by three weeks.")
    reprint = sketch_text("Flooding stops Mount Weld mine", body + ".")
    other_day = sketch_text(
        "Kuantan plant update",
        "The Kuantan plant resumed cracking and leaching on 5 March after maintenance,"
        " the operator said in a filing.",
    )
    assert contradictions(new, other_day)
    assert _bound(new, other_day) < JOIN
    week = timedelta(days=7)
    alike = Candidate(1, "wire", when, reprint)
    unlike = Candidate(1, "paper", when, other_day)
    joined = best_story(new, "own", when, week, [alike])
    assert joined is not None
    assert joined.story_id == 1
    assert best_story(new, "own", when, week, [alike, unlike]) is None
    assert best_story(new, "own", when, week, [unlike, alike]) is None


def test_an_item_is_tokenised_alike_with_its_title_a_line_or_a_space_apart() -> None:
    """`sketch_text` tokenises the text its facts read (title and body a line apart): the
    tokens a space apart give, combining marks, jamo and digits at the seam included."""
    seams = ["", "a", "3,", ",000", "\u0301e", "\u1100", "\u1161", "稀", "土", "Ⅻ", "①", "ﬁ", "Ç"]
    for title in seams:
        for body in seams:
            assert _normal_tokens(normal_text(title, body)) == tokens(f"{title} {body}")
    ascii_text = "Prices at 3,000.5 yuan_t rose 8.7% on Q2, 1.2.3 x2y"
    assert _normal_tokens(ascii_text) == [
        "prices",
        "at",
        "3000.5",
        "yuan",
        "t",
        "rose",
        "8.7",
        "on",
        "q",
        "2",
        "1.2.3",
        "x",
        "2",
        "y",
    ]
