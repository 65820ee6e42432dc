"""A rewrite that joins its story is sent, a copy is swallowed (`best_story`'s placement,
`watcher.domain.story_updates.update`): the sentences below are written for the test."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from watcher.domain.stories import (
    COPY,
    REWRITE,
    Candidate,
    Placement,
    _containment,
    _jaccard,
    best_story,
    sketch_text,
)
from watcher.domain.story_facts import REWORDED, kind_of
from watcher.domain.story_updates import NEWS

DAY = date(2026, 6, 17)
NOW = datetime(2026, 6, 17, 12, 0, tzinfo=UTC)
WINDOW = timedelta(days=7)

# a union source's flash, then the company's statement of the same decision: in other
# sentences, and naming no fact the flash lacks (the day, the smelter, the company)
FLASH = (
    "Andean Copper to close Punta smelter, union source",
    "SANTIAGO, June 17 - Chilean state miner Andean Copper will start a path to close"
    " its troubled Punta copper smelter, a union source said. Workers had threatened"
    " to strike unless the board of directors invested to upgrade the smelter.",
)
STATEMENT = (
    "Andean Copper board approves Punta smelter closure",
    "SANTIAGO, June 17 - The board of directors of Chilean state miner Andean Copper"
    " approved closing its troubled Punta copper smelter, the company said in a"
    " statement. The refinery next to the smelter will keep working, and workers will"
    " be relocated once the closure starts.",
)
# the flash reprinted by a wire page with a line of its own
REPRINT = (
    "Andean Copper to close Punta smelter",
    "SANTIAGO, June 17 - Chilean state miner Andean Copper will start a path to close"
    " its troubled Punta copper smelter, a union source said. Workers had threatened"
    " to strike unless the board of directors invested to upgrade the smelter."
    " More to follow.",
)


def _placed(story: tuple[str, str], item: tuple[str, str]) -> Placement | None:
    first, later = sketch_text(*story, DAY), sketch_text(*item, DAY)
    return best_story(later, "later", NOW, WINDOW, [Candidate(1, "first", NOW, first)])


def test_the_statement_is_a_rewrite_of_the_flash_with_no_new_fact() -> None:
    """The premise: the statement joins the flash as a rewrite (`REWRITE` of their words,
    less than `COPY` of its text in the flash) and names no fact of a `NEWS` kind that the
    flash lacks, so only its wording can make it an update."""
    flash, statement = sketch_text(*FLASH, DAY), sketch_text(*STATEMENT, DAY)
    assert _jaccard(flash.words, statement.words) >= REWRITE
    assert _containment(flash, statement) < COPY
    assert not {f for f in statement.facts - flash.facts if kind_of(f) in NEWS}


def test_a_rewrite_with_no_new_fact_is_sent_as_an_account_in_other_words() -> None:
    """The company's confirmation of a union source's flash joins its story and is sent
    (`REWORDED`): its other sentences say what no fact names (the board approved it, the
    refinery keeps working), and a duplicate is cheaper than a missed alert."""
    placed = _placed(FLASH, STATEMENT)
    assert placed is not None
    assert placed.story_id == 1
    assert placed.adds == frozenset({REWORDED})


def test_a_reprint_with_no_new_fact_is_swallowed() -> None:
    """The flash reprinted (its text in the story, a line added) joins and sends nothing."""
    placed = _placed(FLASH, REPRINT)
    assert placed is not None
    assert placed.story_id == 1
    assert placed.adds == frozenset()
