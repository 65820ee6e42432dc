"""Follow-ups kept apart: a retelling's evidence (`RETOLD`) is not enough for a development.

A follow-up of an event (its extension, clarification, amendment, lifting; a later
report that no longer dates the event) names the same actors in much the same words as
the event's reports, so a quarter of the words and an actor in common (`RETOLD`) would
take it for a retelling and file the new fact under the old story. SIGNALS.md makes a
later development a new fact: such a pair joins only on stronger evidence. The sentences
here are written for these tests.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from watcher.domain.stories import (
    DEVELOPMENTS,
    REPORTED_AFTER,
    RETOLD,
    REWRITE,
    Candidate,
    K,
    _developed,
    _developments,
    _reported_after,
    best_story,
    contradictions,
    same_story,
    sketch_text,
)
from watcher.domain.stories import _jaccard as jaccard

ANNOUNCED = (
    "Gabon halts manganese ore exports",
    "Gabon will halt exports of raw manganese ore to push miners to build local processing"
    " plants, the mines minister told reporters. The suspension covers every mining"
    " company in the country and raw ore already waiting at the port, he said.",
)
RETOLD_BODY = (
    "Gabon's government {verb} raw manganese ore exports so that producers invest in"
    " processing plants at home, according to the mines minister. Cargoes at the docks"
    " are covered too."
)
RETELLING = ("Manganese: Libreville acts", RETOLD_BODY.format(verb="will halt"))


def _follow_up(verb: str) -> tuple[str, str]:
    return ("Manganese: Libreville acts", RETOLD_BODY.format(verb=verb))


def test_a_retelling_joins_and_its_extension_in_the_same_words_does_not() -> None:
    """The same retelling with "has extended its halt on" reports the halt's extension:
    a quarter of the words, the actors and no contradicting fact in common, but one
    names a development the other lacks, so it is no retelling and stays apart."""
    first = sketch_text(*ANNOUNCED)
    retold, extended = sketch_text(*RETELLING), sketch_text(*_follow_up("has extended its halt on"))
    for later in (retold, extended):
        assert RETOLD <= jaccard(first.words, later.words) < REWRITE
        assert not contradictions(first, later)
    assert same_story(first, retold)
    assert not _developed(first, retold)
    assert _developed(first, extended)
    assert not same_story(first, extended)
    assert not same_story(extended, first)


def test_each_kind_of_development_keeps_a_retelling_apart() -> None:
    """A clarification, an amendment or a revision of the measure is a development as an
    extension is; a word of one kind in both items is not (two reports of one
    extension)."""
    first = sketch_text(*ANNOUNCED)
    for verb in ("clarified its halt of", "amended its halt of", "revised its halt of"):
        later = sketch_text(*_follow_up(verb))
        assert jaccard(first.words, later.words) >= RETOLD, verb
        assert _developments(later), verb
        assert not same_story(first, later), verb
    both = sketch_text(ANNOUNCED[0], ANNOUNCED[1] + " The halt was extended.")
    extended = sketch_text(*_follow_up("has extended its halt on"))
    assert _developments(both) == _developments(extended) == {"extension"}
    assert not _developed(both, extended)


def test_words_common_in_other_senses_are_no_development() -> None:
    """ "Resume", "lift" and "renew" are no development words: a retelling that says
    shipments may resume, or that miners want to renew permits, still joins (a lifting
    or a resumption of the measure is its other direction, which signals tell apart)."""
    first = sketch_text(*ANNOUNCED)
    for extra in ("Shipments may resume next year.", "Miners hope to renew permits."):
        later = sketch_text(RETELLING[0], f"{RETELLING[1]} {extra}")
        assert jaccard(first.words, later.words) >= RETOLD, extra
        assert not _developments(later), extra
        assert same_story(first, later), extra


def test_development_words_are_read_in_chinese_too() -> None:
    """ "延长" (extend) in a Chinese report is an extension; its bigram is a content word."""
    chinese = sketch_text("", "刚果(金)宣布将钴出口暂停期延长三个月,以应对全球市场供应过剩。")
    assert _developments(chinese) == {"extension"}
    assert "延长" in DEVELOPMENTS["extension"].split()


def test_a_partial_sketch_does_not_say_a_development_word_is_missing() -> None:
    """A text of more than `K` content words keeps a sample of them in its sketch: its
    lack of a development word the other item names is not read as a development."""
    extended = sketch_text(*_follow_up("has extended its halt on"))
    padding = " ".join(f"filler{n:03d}" for n in range(2 * K))
    long = sketch_text(ANNOUNCED[0], f"{ANNOUNCED[1]} {padding}")
    short = sketch_text(*ANNOUNCED)
    assert long.word_count > K >= short.word_count
    assert _developed(short, extended)
    assert not _developed(long, extended)


def test_a_report_two_days_after_a_named_day_that_leaves_it_out_is_a_follow_up() -> None:
    """An item dated `REPORTED_AFTER` days or more after the day the other names, that does
    not name it, was written after that day's event (a spokesman's later remarks on it):
    no retelling. Dated the next day, it is still a retelling."""
    first = sketch_text(ANNOUNCED[0], ANNOUNCED[1] + " The minister spoke on March 3.")
    next_day = sketch_text(*RETELLING, date(2026, 3, 4))
    later = sketch_text(*RETELLING, date(2026, 3, 3) + timedelta(days=REPORTED_AFTER))
    assert not contradictions(first, later)
    assert not _reported_after(first, next_day)
    assert same_story(first, next_day)
    assert _reported_after(first, later)
    assert not same_story(first, later)
    ahead = sketch_text(ANNOUNCED[0], ANNOUNCED[1] + " It takes effect on March 20.")
    assert not _reported_after(ahead, later)  # a day ahead of the report says nothing


def test_a_follow_up_is_sent_as_its_own_alert() -> None:
    """The store places the extension in no story: it is its own alert, while the
    retelling joins the announcement's story and is sent as an account in other words."""
    when = datetime(2026, 3, 5, 9, tzinfo=UTC)
    story = [Candidate(3, "a", when - timedelta(hours=6), sketch_text(*ANNOUNCED))]
    window = timedelta(days=7)
    extended = sketch_text(*_follow_up("has extended its halt on"))
    assert best_story(extended, "b", when, window, story) is None
    placed = best_story(sketch_text(*RETELLING), "b", when, window, story)
    assert placed is not None
    assert placed.story_id == 3
    assert placed.adds
