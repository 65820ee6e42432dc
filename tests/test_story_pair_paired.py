"""`bench.stories` paired comparison: outcomes saved in one tree, compared in another."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.stories import (
    Outcome,
    _check_options,
    decide,
    load_outcomes,
    paired_differences,
    save_outcomes,
    tally,
)
from tests.story_pairs import Real, first_dev_pairs


@pytest.fixture(scope="module")
def real() -> Real:
    """The first 120 dev pairs of the real set, their items sketched without signals."""
    return first_dev_pairs(120)


def test_saved_outcomes_load_back_in_pair_order(real: Real, tmp_path: Path) -> None:
    """A save holds ids and two flags per pair, and loads back as the same outcomes,
    whatever order the other tree lists the pairs in."""
    items, sketches, pairs = real
    outcomes = [decide(items, sketches, pair) for pair in pairs]
    path = tmp_path / "run.json"
    save_outcomes(pairs, outcomes, path)
    rows = json.loads(path.read_text(encoding="utf-8"))
    assert all(len(v) == 2 and all(isinstance(f, bool) for f in v) for v in rows.values())
    assert load_outcomes(pairs, path) == outcomes
    assert load_outcomes(pairs[::-1], path) == outcomes[::-1]


def test_a_save_for_other_pairs_is_refused(real: Real, tmp_path: Path) -> None:
    """Pairing with a save that lacks some of the pairs raises instead of comparing a part."""
    items, sketches, pairs = real
    path = tmp_path / "run.json"
    save_outcomes(pairs[:60], [decide(items, sketches, pair) for pair in pairs[:60]], path)
    with pytest.raises(ValueError, match="60 of 120 pairs not saved"):
        load_outcomes(pairs, path)


def test_a_run_against_itself_differs_by_nothing(real: Real) -> None:
    """The same outcomes on both sides: every difference and its interval is zero, and each
    side's point is the figure `tally` gives."""
    items, sketches, pairs = real
    outcomes = [decide(items, sketches, pair) for pair in pairs]
    whole = tally(pairs, outcomes)
    found = paired_differences(items, pairs, (outcomes, list(outcomes)), samples=200)
    assert [d.name for d in found] == ["precision", "recall", "missed"]
    assert [d.a.point for d in found] == [whole.precision, whole.recall, whole.missed]
    for d in found:
        assert (d.difference.point, d.difference.low, d.difference.high) == (0.0, 0.0, 0.0)
        assert d.above == 0.0


def test_an_extra_true_join_shows_as_a_paired_gain(real: Real) -> None:
    """Run A joins one split pair of one event more than run B: A's recall is higher by
    that pair in every resample that draws its event and never lower, so the difference's
    interval is at or above zero, and the point is exactly one pair over the gold joins."""
    items, sketches, pairs = real
    base = [decide(items, sketches, pair) for pair in pairs]
    split = [
        i for i, pair in enumerate(pairs) if pair["relation"] != "different" and not base[i].joined
    ]
    assert split, "the fixture has a same-event pair left apart"
    better = list(base)
    better[split[0]] = Outcome(joined=True, swallowed=False)
    found = {d.name: d for d in paired_differences(items, pairs, (better, base), samples=300)}
    gold = tally(pairs, base).gold_joins
    assert found["recall"].difference.point == pytest.approx(1 / gold)
    assert found["recall"].difference.low >= 0.0
    assert found["recall"].difference.high > 0.0
    assert 0.0 < found["recall"].above <= 1.0
    assert found["missed"].difference.point == 0.0


def test_a_swallowed_update_is_a_paired_missed_alert(real: Real) -> None:
    """Swallowing a joined `same_update` or `different` pair in run A is one more missed
    alert than run B, and the count's difference never goes below zero."""
    items, sketches, pairs = real
    base = [decide(items, sketches, pair) for pair in pairs]
    sent = [
        i for i, pair in enumerate(pairs) if pair["relation"] != "same" and not base[i].swallowed
    ]
    worse = list(base)
    worse[sent[0]] = Outcome(joined=True, swallowed=True)
    found = {d.name: d for d in paired_differences(items, pairs, (worse, base), samples=300)}
    assert found["missed"].difference.point == 1.0
    assert found["missed"].difference.low >= 0.0
    assert found["missed"].a.point == found["missed"].b.point + 1


def test_an_unknown_option_is_refused_before_any_split_is_scored() -> None:
    """`--help` or a misspelt `--dev` stops with the usage instead of falling through
    to the run that prints the held-back split; known options and their files pass."""
    for wrong in (["--help"], ["--dve"], ["--dev", "-x"]):
        with pytest.raises(SystemExit, match="unknown option"):
            _check_options(wrong)
    _check_options(["--dev", "-v", "--noise", "--save", "a.json", "--against-saved", "b.json"])
    _check_options([])
