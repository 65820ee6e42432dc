"""The evaluation's arithmetic, on a tiny hand-made labelled file and rule set."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import DATA
from watcher.classify.engine import Classifier
from watcher.classify.evaluate import Evaluation, evaluate, format_evaluation, load_examples
from watcher.cli import app
from watcher.config import SignalRule
from watcher.domain.items import Direction, Severity, Signal

TINY = DATA / "classify" / "tiny_eval.jsonl"
CONCEPTS = {
    "ban": ["ban"],
    "lifted": ["lifted"],
    "may": ["may"],
    "metal": ["gallium"],
    "quota": ["quota"],
    "late": ["late"],
}
SIGNALS = {
    "export_control": {
        "match": [["ban"]],
        "context": ["metal"],
        "hedging": ["may"],
        "easing": ["lifted"],
    },
    "quota_delay": {"match": [["quota", "late"]], "context": ["metal"]},
}


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    """A two-rule classifier whose output on the tiny file is known item by item."""
    return Classifier(CONCEPTS, {k: SignalRule.model_validate(v) for k, v in SIGNALS.items()})


def _scores(result: Evaluation) -> dict[str, tuple[int, int, int, float, float, float]]:
    return {
        t.type: (t.tp, t.fp, t.fn, round(t.precision, 3), round(t.recall, 3), round(t.f1, 3))
        for t in result.types
    }


def test_dev_split_arithmetic(classifier: Classifier) -> None:
    """Speculative labels are don't-care; wrong direction is still a true positive."""
    result = evaluate(load_examples(TINY), classifier, "dev")
    assert result.items == 8
    assert _scores(result) == {
        "export_control": (3, 1, 1, 0.75, 0.75, 0.75),
        "quota_delay": (1, 0, 0, 1.0, 1.0, 1.0),
    }
    assert result.macro_f1 == pytest.approx(0.875)
    export, _ = result.types
    assert export.direction_accuracy == pytest.approx(2 / 3)
    assert result.direction_accuracy == pytest.approx(0.75)
    assert (export.speculative_found, export.speculative_gold) == (1, 2)
    kinds = sorted((e.id, e.kind) for e in result.errors)
    assert kinds == [
        ("t3", "wrong direction"),
        ("t4", "missed"),
        ("t5", "false alarm"),
        ("t7", "not speculative"),
    ]


def test_heldout_and_all_splits(classifier: Classifier) -> None:
    """Nothing predicted and nothing to find count as perfect; a miss zeroes recall."""
    heldout = evaluate(load_examples(TINY), classifier, "heldout")
    assert _scores(heldout) == {
        "export_control": (0, 0, 0, 1.0, 1.0, 1.0),
        "quota_delay": (0, 0, 1, 1.0, 0.0, 0.0),
    }
    assert heldout.macro_f1 == pytest.approx(0.5)
    everything = evaluate(load_examples(TINY), classifier, "all")
    assert _scores(everything)["quota_delay"] == (1, 0, 1, 1.0, 0.5, 0.667)


def test_report_lists_scores_and_errors(classifier: Classifier) -> None:
    """The printed report has the table, the summary line and each error with evidence."""
    text = format_evaluation(evaluate(load_examples(TINY), classifier, "dev"))
    assert "export_control             3   1   1   0.750   0.750   0.750    0.667   1/2" in text
    assert "macro-F1 0.875 · min precision 0.750 · direction accuracy 0.750 (3/4)" in text
    assert "errors: 3 (+ 1 speculative labels not flagged)" in text
    assert "t5    false alarm     export_control: expected -, got tightening  | Gallium ban" in text
    assert "> Gallium [ban]" in text


def test_bad_line_names_file_and_line(tmp_path: Path) -> None:
    """A line that is not a labelled item is reported with its line number."""
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "labels": []}\n[1, 2]\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.jsonl:2: not a labelled item"):
        load_examples(path)


def test_eval_command_runs_on_a_split(write_config: Callable[..., Path]) -> None:
    """`watcher eval FILE --split dev --config C` prints the same report."""
    path = write_config(include=[], concepts=CONCEPTS, signals=SIGNALS)
    result = CliRunner().invoke(app, ["eval", str(TINY), "--split", "dev", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert "== split dev: 8 items ==" in result.stdout
    assert "macro-F1 0.875" in result.stdout


class _Fixed:
    """A predictor that returns set signals per title, to pin the item-level measures
    (a direction ending in `?` is flagged uncertain)."""

    def __init__(self, answers: dict[str, list[tuple[str, str]]]) -> None:
        self.answers = answers

    def classify(self, title: str, body: str, published: date | None = None) -> list[Signal]:
        return [
            Signal(
                kind,
                Direction(direction.rstrip("?")),
                Severity.MEDIUM,
                0.5,
                kind,
                (),
                direction_uncertain=direction.endswith("?"),
            )
            for kind, direction in self.answers.get(title, [])
        ]


def test_easing_sent_as_tightening_and_languages(tmp_path: Path) -> None:
    """An easing item with any firm tightening signal is counted; figures split by `lang`."""
    rows = [
        {"id": "a", "lang": "en", "title": "A", "labels": [{"type": "x", "direction": "easing"}]},
        {"id": "b", "lang": "en", "title": "B", "labels": [{"type": "x", "direction": "easing"}]},
        {
            "id": "c",
            "lang": "zh",
            "title": "C",
            "labels": [{"type": "x", "direction": "tightening"}],
        },
        {"id": "d", "lang": "zh", "title": "D", "labels": []},
        {"id": "e", "lang": "en", "title": "E", "labels": [{"type": "x", "direction": "easing"}]},
    ]
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    predictor = _Fixed(
        {
            "A": [("x", "easing")],
            "B": [("y", "tightening")],
            "C": [("x", "easing")],
            "E": [("x", "tightening?")],
        }
    )
    result = evaluate(load_examples(path), predictor)
    assert result.easing_as_tightening == ["b", "e"]
    assert result.easing_as_tightening_flagged == 1  # e: its tightening said it was uncertain
    assert sorted(result.languages) == ["en", "zh"]
    assert result.languages["zh"].types[0].tp == 1
    assert result.languages["zh"].direction_accuracy == 0.0
    text = format_evaluation(result, errors=False)
    assert "easing sent as tightening 2 (1 flagged uncertain)" in text
    assert "  zh          2 items · macro-F1" in text
