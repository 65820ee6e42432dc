"""One event retold: a quarter of the words and an actor in common, nothing contradicting;
one event in two scripts: a shared day found through one script key.

The dev split of tests/data/stories/real held 69 pairs of one event (42 events) whose
reports shared a fifth to three tenths of their content words and no day, figure or
number: two outlets' own sentences about one announcement. `RETOLD` (a word Jaccard of
0.25) with a shared actor (a material, country or proper name) is evidence of one event;
such a join is never swallowed, since the reader cannot tell a retelling from a new
fact by its words: it is sent as an account in other words.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from watcher.domain.stories import (
    MIN_SHARED_KEYS,
    RETOLD,
    REWRITE,
    Candidate,
    Sketch,
    best_story,
    contradictions,
    filing_keys,
    index_keys,
    lookup_keys,
    same_story,
    script_keys,
    shortlist,
    similarity,
    sketch_text,
)
from watcher.domain.stories import _jaccard as jaccard
from watcher.domain.story_facts import REWORDED

ANNOUNCED = (
    "Malaysia to stop raw rare earth exports",
    "Malaysia will stop the export of raw rare earth ore to keep the value of its"
    " deposits at home, Prime Minister Anwar Ibrahim told parliament. The government"
    " will help local refiners build processing plants instead of shipping unprocessed"
    " material abroad, he said.",
)
RETOLD_BY_ANOTHER = (
    "Anwar: Malaysia plans rare earth export halt",
    "Prime Minister Anwar Ibrahim says Malaysia plans to halt overseas sales of"
    " unprocessed rare earth ore so that the country keeps the gains of its deposits."
    " Officials will support domestic refiners and new factories, according to the"
    " premier's remarks to lawmakers.",
)


def _overlap(a: Sketch, b: Sketch) -> float:
    return jaccard(a.words, b.words)


def test_a_retelling_with_shared_actors_joins_and_is_sent_in_other_words() -> None:
    """Two outlets' sentences on one announcement (a quarter of the words, the country,
    the material and the premier in common, no day or figure) are one event; the later
    one joins the story and is sent as an account in other words, not swallowed."""
    first, later = sketch_text(*ANNOUNCED), sketch_text(*RETOLD_BY_ANOTHER)
    assert RETOLD <= _overlap(first, later) < REWRITE
    assert not contradictions(first, later)
    assert same_story(first, later)
    assert same_story(later, first)
    when = datetime(2026, 3, 3, 12, tzinfo=UTC)
    placed = best_story(
        later, "b", when, timedelta(days=7), [Candidate(7, "a", when - timedelta(hours=5), first)]
    )
    assert placed is not None
    assert placed.story_id == 7
    assert placed.adds == frozenset({REWORDED})


def test_a_retelling_without_an_actor_in_common_stays_apart() -> None:
    """The same overlap of words with no material, country or name in either is no
    evidence: "the country", "the prime minister" fit every such announcement."""
    first = sketch_text(
        "Authorities to stop raw ore exports",
        "The country will stop the export of raw ore to keep the value of its deposits at"
        " home, the prime minister told parliament. The government will help local"
        " refiners build processing plants instead of shipping unprocessed material"
        " abroad, he said.",
    )
    later = sketch_text(
        "Premier plans raw ore export halt",
        "The prime minister says the country plans to halt overseas sales of unprocessed"
        " raw ore so that the nation keeps the gains of its deposits. Officials will"
        " support domestic refiners and processing plants, according to the premier's"
        " remarks to lawmakers.",
    )
    assert RETOLD <= _overlap(first, later) < REWRITE
    assert not contradictions(first, later)
    assert similarity(first, later) < 1.0
    assert not same_story(first, later)


def test_a_retelling_that_names_another_day_stays_apart() -> None:
    """Shared actors and wording do not join reports of two days: each names a day the
    other does not (a follow-up in the same words)."""
    first = sketch_text(ANNOUNCED[0], ANNOUNCED[1] + " The rule was approved on March 3.")
    later = sketch_text(
        RETOLD_BY_ANOTHER[0], RETOLD_BY_ANOTHER[1] + " The rule takes effect on June 1."
    )
    assert _overlap(first, later) >= RETOLD
    assert "day" in contradictions(first, later)
    assert not same_story(first, later)


def test_less_than_a_quarter_of_the_words_is_not_enough_with_actors_alone() -> None:
    """Below `RETOLD`, shared actors are no evidence: a country's and a material's
    follow-ups name them too."""
    first = sketch_text(*ANNOUNCED)
    later = sketch_text(
        "Anwar: Malaysia plans rare earth export halt",
        "Prime Minister Anwar Ibrahim says Malaysia plans to halt overseas sales of"
        " unprocessed rare earth ore so the nation keeps the gains of its mines. Officials"
        " will back domestic firms and new factories, according to the premier's remarks"
        " to lawmakers.",
    )
    assert _overlap(first, later) < RETOLD
    assert not contradictions(first, later)
    assert not same_story(first, later)


ZIMBABWE_EN = (
    "Zimbabwe halts lithium concentrate exports",
    "Zimbabwe has suspended all exports of raw minerals and lithium concentrates with"
    " immediate effect, the mines ministry said on February 25, to tighten oversight of"
    " the sector.",
)
ZIMBABWE_ZH = ("", "津巴布韦矿业部2月25日宣布立即暂停所有原矿及锂精矿出口,以加强矿产监管。")


def test_one_shared_script_key_shortlists_a_report_in_the_other_script() -> None:
    """A Chinese and an English report of one event that share one day, what happened
    (a suspension of exports) and to whom (lithium, Zimbabwe) are one event by their
    evidence (`_translated`); a script key counts as two keys, so the lookup compares
    them in either order. A word key shared alone shortlists nothing."""
    signals = [("export_control", "tightening")]
    en = sketch_text(*ZIMBABWE_EN, date(2026, 2, 26), signals)
    zh = sketch_text(*ZIMBABWE_ZH, date(2026, 2, 26), signals)
    (en_filed, en_looked_up), (zh_filed, _) = script_keys(en), script_keys(zh)
    assert len(en_looked_up & zh_filed) == 1  # February 25
    assert len(index_keys(en) & index_keys(zh)) < MIN_SHARED_KEYS
    assert same_story(en, zh)
    assert shortlist(lookup_keys(zh), {key: [1] for key in filing_keys(en)}) == [1]
    assert shortlist(lookup_keys(en), {key: [1] for key in filing_keys(zh)}) == [1]
    word = min(index_keys(en))
    assert shortlist([word], {word: [1]}) == []
    assert not en_filed & en_looked_up
