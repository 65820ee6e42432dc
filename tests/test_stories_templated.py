"""Distinct templated items never join: the judgement alone, without the shortlist.

The bench's templated farm (`bench.templated`, scenario 7: 200 feeds × 20 notes) writes
every item as another event in a few shared frames. Two notes of one day in two frames
can share the day, the element and the percentage change and still report two markets:
other ports, other prices, other tonnages. The lookup's shortlist happens to keep such
pairs apart today; these tests hold the rules (`best_story`) to it on their own.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest

from bench.stories import default_classifier
from bench.templated import FRAMES, templated_item
from watcher.domain.stories import (
    Candidate,
    Sketch,
    best_story,
    contradictions,
    same_story,
    script_keys,
    sketch_text,
)
from watcher.domain.story_facts import FIGURE, fact_values

# the farm of bench scenario 7 (`bench.run`: --seed 8, --m 20, --stories-n 200)
SEED, FEEDS, NOTES, EPOCH = 8, 200, 20, 1_790_000_000
WINDOW = timedelta(days=7)


@pytest.fixture(scope="module")
def notes_by_day() -> dict[int, list[tuple[int, datetime, Sketch]]]:
    """Every note of the farm as the service sketches it (its signals from the shipped
    rules, its feed's publication time), grouped by the day its text names."""
    classify = default_classifier()
    out: dict[int, list[tuple[int, datetime, Sketch]]] = {}
    for feed, index in itertools.product(range(FEEDS), range(NOTES)):
        item = templated_item(SEED, feed, index, EPOCH)
        # the farm publishes a feed's notes a minute apart, the last one at the epoch
        when = datetime.fromtimestamp(EPOCH - (NOTES - 1 - index) * 60, UTC)
        signals = [(s.type, s.direction.value) for s in classify(item.title, item.body, when)]
        sketch = sketch_text(item.title, item.body, when.date(), signals)
        out.setdefault(index, []).append((feed, when, sketch))
    return out


@pytest.mark.timeout(120)
def test_no_two_notes_of_one_day_join_whatever_the_shortlist(
    notes_by_day: dict[int, list[tuple[int, datetime, Sketch]]],
) -> None:
    """Every pair of one day's notes of two feeds (398,000 pairs) is judged by
    `best_story` as if the lookup had shortlisted it: none joins."""
    joined = []
    for pairs in notes_by_day.values():
        for (feed_a, when_a, a), (feed_b, when_b, b) in itertools.combinations(pairs, 2):
            earlier = [Candidate(1, f"feed-{feed_a}", when_a, a)]
            if best_story(b, f"feed-{feed_b}", when_b, WINDOW, earlier) is not None:
                joined.append((feed_a, feed_b, when_a.date()))
    assert sum(len(p) * (len(p) - 1) // 2 for p in notes_by_day.values()) == 398_000
    assert joined == []


def _note(frame: int, place: str, price: int, tonnes: int) -> Sketch:
    """A gallium note of September 2 in one of the farm's frames, up 5.9%."""
    title, body, fires = FRAMES[frame]
    fields = {
        "element": "gallium",
        "Element": "Gallium",
        "place": place,
        "day": date(2026, 9, 2),
        "tonnes": tonnes,
        "rise": "5.9",
        "price": price,
    }
    signals = [("export_control", "tightening")] if fires else []
    return sketch_text(title.format(**fields), body.format(**fields), date(2026, 9, 2), signals)


def test_another_port_and_price_in_another_frame_is_another_event() -> None:
    """Two frames, one day, element and change: the same port, price and tonnage join (the
    evidence is there); another price in yuan keeps them apart, and so does another port
    unless both name one tonnage or price (then it is one market's report, and the port
    one of the places each happens to name)."""
    daily = _note(0, "Tianjin", 83_400, 3_039)
    assert same_story(daily, _note(1, "Tianjin", 83_400, 3_039))
    assert contradictions(daily, _note(1, "Tianjin", 64_820, 3_039)) == ["price"]
    farm = contradictions(daily, _note(1, "Dalian", 64_820, 3_038))
    assert {"tonnage", "price", "place"} <= set(farm)
    assert same_story(daily, _note(1, "Dalian", 83_400, 3_039))
    held = "Customs held gallium exports at {} port on September 2, up 5.9% on the week."
    tianjin, dalian = (sketch_text("", held.format(port)) for port in ("Tianjin", "Dalian"))
    assert contradictions(tianjin, dalian) == ["place", "name"]  # one frame, other ports
    assert not same_story(tianjin, dalian)


def test_figures_compare_as_written() -> None:
    """3,039 t and 3,038 t are two tonnages; "7,742 t" is "7,742.2 t" written with fewer
    decimals, and "9%" is "8.7%", so neither pair contradicts."""
    daily = _note(0, "Tianjin", 83_400, 3_039)
    assert "tonnage" in contradictions(daily, _note(0, "Tianjin", 83_400, 3_038))
    assert (FIGURE, "3039 t") in fact_values("", "3,039 tonnes")
    whole, tenth = sketch_text("", "exports of 7,742 t"), sketch_text("", "exports of 7,742.2 t")
    assert contradictions(whole, tenth) == []
    nine, rounded = sketch_text("", "Exports rose 9%"), sketch_text("", "Exports rose 8.7%")
    assert contradictions(nine, rounded) == []


def test_the_farm_files_no_script_key_it_looks_up(
    notes_by_day: dict[int, list[tuple[int, datetime, Sketch]]],
) -> None:
    """The farm is English only: its notes are filed under the keys of their days and
    figures for other scripts (`script_keys`), and none looks one of them up, so these
    keys shortlist no pair of its notes."""
    filed: set[int] = set()
    looked_up: set[int] = set()
    for notes in notes_by_day.values():
        for _, _, sketch in notes:
            mine, theirs = script_keys(sketch)
            filed |= mine
            looked_up |= theirs
    assert filed  # its days and figures
    assert not filed & looked_up
