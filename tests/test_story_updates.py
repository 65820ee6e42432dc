"""The update decision: a joined item is swallowed only when it is a copy or rewrite of
its story and names nothing new (`watcher.domain.story_updates`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from sqlmodel import select

from bench.stories import default_classifier, load_real, real_sketches, score_pairs
from tests.delivery import save_routed
from tests.orm import reading
from tests.rows import DeliveryRow, ItemRow
from watcher.classify.engine import Classifier
from watcher.config import WatcherConfig
from watcher.domain.identity import with_identity
from watcher.domain.items import Item
from watcher.domain.stories import SCRIPTS, Candidate, Placement, best_story, sketch_text
from watcher.domain.story_facts import (
    NAME,
    REWORDED,
    REWORDED_TEXT,
    described,
    fact,
    kind_of,
)
from watcher.domain.story_updates import NEWS, news, update, written_words
from watcher.service.runtime import Runtime

MakeConfig = Callable[..., WatcherConfig]
DAY = date(2026, 3, 4)
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
WINDOW = timedelta(days=7)

STORY = (
    "Zambia suspends cobalt exports",
    "Zambia's mines ministry said on March 4 it had suspended cobalt hydroxide exports"
    " while it audits the licences of traders, citing smuggling of cobalt through"
    " neighbouring states.",
)
# the same facts in the outlet's own words: joined on the shared day and a few words
OWN_WORDS = (
    "Cobalt export ban",
    "Zambia imposed an export ban on cobalt hydroxide from March 4, pending a review of"
    " every trader's permit after illicit cross-border trade.",
)
TEASER = (
    "Zambia suspends cobalt exports",
    "Zambia's mines ministry said on March 4 it had suspended cobalt hydroxide exports"
    " while it audits the licences of traders.",
)


def _placed(story: tuple[str, str], item: tuple[str, str]) -> Placement | None:
    first, later = sketch_text(*story, DAY), sketch_text(*item, DAY)
    return best_story(later, "later", NOW, WINDOW, [Candidate(1, "first", NOW, first)])


def test_an_item_in_its_own_words_that_names_nothing_new_is_an_update() -> None:
    """A rewrite that shares the day and a few words joins the story (that evidence is
    enough for one event), names no new fact, and is no copy: it is sent, as an account
    in other words."""
    first, later = sketch_text(*STORY, DAY), sketch_text(*OWN_WORDS, DAY)
    assert first.facts == later.facts  # nothing new to name
    placed = _placed(STORY, OWN_WORDS)
    assert placed is not None
    assert placed.adds == {REWORDED}
    assert described(*OWN_WORDS, placed.adds, DAY) == REWORDED_TEXT


def test_a_teaser_copied_from_the_story_is_swallowed() -> None:
    """The first sentence of the story's report, under its headline: a copy, no news."""
    placed = _placed(STORY, TEASER)
    assert placed is not None
    assert placed.adds == frozenset()


def test_a_new_place_and_name_make_an_update_that_names_them() -> None:
    """A place and a proper name the story lacked are news, and the update says them."""
    named = (OWN_WORDS[0], OWN_WORDS[1] + " Traders at Kasumbalesa were told to stop loading.")
    placed = _placed(STORY, named)
    assert placed is not None
    assert described(*named, placed.adds, DAY) == "place kasumbalesa; name kasumbalesa"


def test_a_name_whose_word_the_story_writes_is_not_news() -> None:
    """ "Catalogue" capitalised in the new item is no new actor when the story writes
    "catalogue"; a name the story never writes is news."""
    story = sketch_text("Curbs", "The ministry added gallium to the export catalogue on March 4.")
    item = sketch_text("Curbs", "Gallium joins the Catalogue of Mowbray on March 4.", DAY)
    names = {f for f in item.facts if kind_of(f) == NAME}
    assert names == {fact(NAME, "catalogue"), fact(NAME, "mowbray")}
    written = written_words(story.words)
    assert news(item.facts, story.facts, written) & names == {fact(NAME, "mowbray")}
    assert news(item.facts, story.facts) & names == names  # without the story's words


def test_update_is_news_else_the_wording_unless_a_copy() -> None:
    """`update`: the news when there is any; else `REWORDED` for an item that is no copy
    or rewrite; else nothing."""
    figure = sketch_text("x", "Exports fell 12% on March 4.", DAY)
    known = sketch_text("x", "Exports fell on March 4.", DAY).facts
    assert update(figure.facts, known, frozenset(), copied=True)  # the figure
    assert REWORDED not in update(figure.facts, known, frozenset(), copied=False)
    assert update(known, known, frozenset(), copied=False) == {REWORDED}
    assert update(known, known, frozenset(), copied=True) == frozenset()


def test_the_reworded_marker_is_no_fact_of_any_text() -> None:
    """`REWORDED` is neither script's fact nor a name, and no `NEWS` kind: no comparison
    of facts counts it."""
    assert REWORDED not in SCRIPTS
    assert kind_of(REWORDED) not in NEWS
    assert kind_of(REWORDED) != NAME


def _item(source: str, title: str, body: str) -> Item:
    return with_identity(
        Item(source=source, title=title, body=body, guid=f"{source}-1", published=NOW)
    )


async def test_an_item_in_its_own_words_is_queued_as_an_update(
    make_config: MakeConfig, database_url: str
) -> None:
    """Stored as the service stores it: the story's first report is sent, the teaser
    sends nothing, the account in other words is sent under its own edition and says so."""
    config = make_config(database={"url": database_url})
    classifier = Classifier.from_config(config, warn=False)
    items = [_item("wire", *STORY), _item("teaser", *TEASER), _item("paper", *OWN_WORDS)]
    async with Runtime(config) as rt:
        for item in items:
            found = classifier.classify(item.title, item.body)
            assert found  # every item carries a signal: each could be sent
            await save_routed(rt, config, item, found, NOW)
        async with reading(rt.db) as session:
            rows = {i.source: i for i in (await session.exec(select(ItemRow))).all()}
            deliveries = (await session.exec(select(DeliveryRow))).all()
    assert len({row.story_id for row in rows.values()}) == 1
    assert rows["teaser"].story_news is None
    assert rows["paper"].story_news == REWORDED_TEXT
    sent = {(d.item_id, d.edition) for d in deliveries}
    assert (rows["wire"].id, 0) in sent
    assert (rows["paper"].id, rows["paper"].id) in sent
    assert not any(d.item_id == rows["teaser"].id for d in deliveries)


def test_the_dev_split_misses_few_alerts_at_a_bounded_cost_in_updates() -> None:
    """Real pairs, dev split (`python -m bench.stories`): at most 2 pairs whose later item
    had to be sent are swallowed (measured 2, 5 before a join on weak evidence and a new
    place or name were updates), and at most 149 pairs of plain copies are sent as
    updates (measured 146 of the 200 joined `same` pairs; 115 before): the price."""
    items, pairs = load_real()
    sketches = real_sketches(items, default_classifier())
    dev = score_pairs(items, sketches, [p for p in pairs if p["split"] == "dev"])
    assert dev.joined >= 260  # the joins themselves are unchanged
    assert dev.missed <= 2
    assert dev.extra_updates <= 149
