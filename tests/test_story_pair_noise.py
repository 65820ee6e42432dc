"""`bench.stories.pair_intervals`: the labelled pairs' figures with bootstrap intervals."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.stories import PairScore, pair_intervals, score_pairs
from tests.story_pairs import Real, first_dev_pairs


@pytest.fixture(scope="module")
def real() -> Real:
    """The first 120 dev pairs of the real set, their items sketched without signals."""
    return first_dev_pairs(120)


def test_point_estimates_are_score_pairs_figures(real: Real) -> None:
    """The figures the intervals surround are the ones `bench.stories` prints."""
    items, sketches, pairs = real
    whole: PairScore = score_pairs(items, sketches, pairs)
    spread = pair_intervals(items, sketches, pairs, samples=200)
    assert spread["precision"][0] == whole.precision
    assert spread["recall"][0] == whole.recall
    assert spread["missed"][0] == whole.missed
    for _point, low, high in spread.values():
        assert low <= high


def test_pairs_of_one_event_give_no_spread(real: Real) -> None:
    """Resampling draws whole events: the pairs of one event alone never vary."""
    items, sketches, pairs = real
    event, _ = Counter(items[p["a"]].event for p in pairs).most_common(1)[0]
    one = [p for p in pairs if items[p["a"]].event == event]
    spread = pair_intervals(items, sketches, one, samples=100)
    assert all(low == point == high for point, low, high in spread.values())


def test_resampling_spreads_a_mixed_set(real: Real) -> None:
    """Over many events whose pairs disagree, recall does vary between resamples."""
    items, sketches, pairs = real
    point, low, high = pair_intervals(items, sketches, pairs, samples=300)["recall"]
    assert low < point < high
