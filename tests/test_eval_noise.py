"""`bench.eval_noise`: event-level bootstrap intervals of the classifier's figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.eval_noise import Outcomes, bootstrap, load_saved, report, save
from tests.conftest import DATA
from watcher.classify.engine import Classifier
from watcher.classify.evaluate import evaluate, load_examples, score_outcomes
from watcher.config import SignalRule

TINY = DATA / "classify" / "tiny_eval.jsonl"
CONCEPTS = {"ban": ["ban"], "lifted": ["lifted"], "metal": ["gallium"]}
RULES = {"export_control": {"match": [["ban"]], "context": ["metal"], "easing": ["lifted"]}}


@pytest.fixture(scope="module")
def outcomes() -> Outcomes:
    """The tiny labelled file classified by a one-rule classifier."""
    rules = {k: SignalRule.model_validate(v) for k, v in RULES.items()}
    classifier = Classifier(CONCEPTS, rules)
    return [(e, classifier.classify(e.title, e.body)) for e in load_examples(TINY)]


def _types(run: Outcomes) -> list[str]:
    return sorted({label.type for example, _ in run for label in example.labels})


def test_point_estimate_is_watcher_eval_s_figure(outcomes: Outcomes) -> None:
    """The figure the intervals are drawn around is the one `watcher eval` prints."""
    rules = {k: SignalRule.model_validate(v) for k, v in RULES.items()}
    expected = evaluate(load_examples(TINY), Classifier(CONCEPTS, rules))
    assert score_outcomes("all", _types(outcomes), outcomes).macro_f1 == expected.macro_f1
    (line,) = report(["rules"], [outcomes], {}, samples=50)
    assert line.startswith(f"rules: macro-F1 {expected.macro_f1:.3f} [")


def test_identical_runs_differ_by_exactly_zero(outcomes: Outcomes) -> None:
    """Paired resamples: the same classification twice differs by nothing in any draw."""
    lines = report(["A", "B"], [outcomes, outcomes], {}, samples=200)
    diff = next(line for line in lines if line.startswith("A − B, macro-F1"))
    assert diff == "A − B, macro-F1: 0.000 [0.000, 0.000] · above zero in 0%"


def test_dropping_a_true_positive_is_never_a_gain_in_any_resample(outcomes: Outcomes) -> None:
    """A run that loses one right signal scores at most as well on every paired resample,
    and strictly worse on the full sample."""
    index = next(i for i, (e, found) in enumerate(outcomes) if e.labels and found)
    worse = list(outcomes)
    worse[index] = (outcomes[index][0], [])
    types = _types(outcomes)
    base, lost = bootstrap([outcomes, worse], {}, types, samples=300, seed=7)
    assert all(b[0] >= w[0] for b, w in zip(base, lost, strict=True))
    assert any(b[0] > w[0] for b, w in zip(base, lost, strict=True))
    assert (
        score_outcomes("all", types, worse).macro_f1
        < score_outcomes("all", types, outcomes).macro_f1
    )


def test_passages_of_one_event_are_drawn_together(outcomes: Outcomes) -> None:
    """With every passage in one event, each resample is the whole set: no spread."""
    events = {example.id: "one" for example, _ in outcomes}
    (draws,) = bootstrap([outcomes], events, _types(outcomes), samples=100)
    assert len({d[0] for d in draws}) == 1
    assert draws[0][0] == score_outcomes("all", _types(outcomes), outcomes).macro_f1


def test_a_saved_run_scores_as_the_run_it_saved(outcomes: Outcomes, tmp_path: Path) -> None:
    """`--save` then `--against-saved` (another tree's run): the saved run read back pairs
    with the live one at exactly zero difference, and a saved run of other passages is
    refused rather than paired in part."""
    path = tmp_path / "run.json"
    save(outcomes, path)
    examples = [example for example, _ in outcomes]
    back = load_saved(examples, path)
    lines = report(["A", "B"], [outcomes, back], {}, samples=200)
    assert "A − B, macro-F1: 0.000 [0.000, 0.000] · above zero in 0%" in lines
    live, read = (score_outcomes("all", _types(outcomes), run) for run in (outcomes, back))
    assert [(e.id, e.kind, e.got) for e in read.errors] == [
        (e.id, e.kind, e.got) for e in live.errors
    ]
    assert (read.macro_f1, read.direction_accuracy, read.uncertain) == (
        live.macro_f1,
        live.direction_accuracy,
        live.uncertain,
    )
    with pytest.raises(ValueError, match="saved for other passages"):
        load_saved(examples[1:], path)
