"""The learned direction model: shipped file, shared tokeniser, and how the engine uses it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.direction_train import SHIPPED, lead_text, provenance, training_rows
from watcher.classify.direction_model import DirectionModel, features, shipped_model
from watcher.classify.engine import FLAG, Classifier
from watcher.classify.severity import EASING_CAP
from watcher.config.load import load_config
from watcher.domain.items import Direction

ROOT = Path(__file__).resolve().parent.parent
CONFIG = load_config(ROOT / "config" / "watcher.yaml", environ={})
# not in either labelled set: the rules read "curbs" as a tightening export control
WOUND_DOWN = (
    "Rare earth export curbs wound down",
    "China wound down its rare earth export controls on Thursday, and exporters can ship"
    " magnets without a licence from next month.",
)


def test_shipped_model_names_the_training_data_it_was_fitted_on() -> None:
    rows = training_rows()
    assert all(row.split == "dev" for row in rows)
    assert shipped_model().provenance == provenance(rows), "run make train-direction"


def test_training_reproduces_the_shipped_file() -> None:
    pytest.importorskip("sklearn")
    from bench.direction_train import train

    fresh, shipped = train(training_rows()), shipped_model()
    assert fresh.provenance == shipped.provenance
    # the same fit; another numpy or scipy build may move a weight by a rounding step
    assert fresh.bias == pytest.approx(shipped.bias, abs=2e-4)
    names = fresh.weights.keys() | shipped.weights.keys()
    moved = [n for n in names if abs(fresh.weights.get(n, 0) - shipped.weights.get(n, 0)) > 2e-4]
    assert not moved, f"run make train-direction: {moved[:5]}"


def test_shipped_file_is_small_and_loads() -> None:
    assert SHIPPED.stat().st_size < 400_000
    model = DirectionModel.from_json(SHIPPED.read_text(encoding="utf-8"))
    assert model == shipped_model()
    assert len(model.weights) > 1000


def test_a_file_of_another_format_is_refused() -> None:
    data = json.loads(SHIPPED.read_text(encoding="utf-8"))
    data["lead_chars"] = 1
    with pytest.raises(ValueError, match="not a direction model"):
        DirectionModel.from_json(json.dumps(data))


def test_both_chinese_scripts_give_the_same_features() -> None:
    traditional = lead_text("稀土出口管制措施暫停實施", "商務部宣佈暫停實施稀土出口管制措施。")
    simplified = lead_text("稀土出口管制措施暂停实施", "商务部宣布暂停实施稀土出口管制措施。")
    assert features(traditional) == features(simplified)
    assert "z:暂停" in features(simplified)


def test_features_are_words_word_pairs_and_character_grams() -> None:
    found = features("export ban lifted")
    assert {"w:export", "b:ban lifted", "c:<lif", "c:ted>"} <= found
    assert features("") == set()


def test_inference_is_a_normalised_sparse_dot_product() -> None:
    model = DirectionModel(-0.5, {"w:lifted": 3.0, "w:ban": -1.0})
    found = features("ban lifted")  # 2 words, 2 pairs, 2 character 4-grams of "lifted"...
    z = -0.5 + (3.0 - 1.0) / len(found) ** 0.5
    assert model.easing_probability("ban lifted") == pytest.approx(1 / (1 + 2.718281828**-z))


def test_the_product_classifier_has_no_model() -> None:
    assert Classifier.from_config(CONFIG, warn=False).direction_model is None


def test_rules_alone_read_the_unseen_item_as_tightening() -> None:
    [signal] = Classifier.from_config(CONFIG, warn=False).classify(*WOUND_DOWN)
    assert signal.type == "export_control"
    assert signal.direction is Direction.TIGHTENING
    assert not signal.direction_uncertain


def test_the_model_flags_an_unseen_easing_item_the_rules_read_as_tightening() -> None:
    classifier = Classifier.from_config(CONFIG, warn=False, direction_model=True)
    [signal] = classifier.classify(*WOUND_DOWN)
    assert signal.direction is Direction.TIGHTENING  # below FLIP: flagged, not changed
    assert signal.direction_uncertain
    assert signal.severity.rank <= EASING_CAP.rank
    assert signal.direction_doubt.startswith("the direction model reads the lead as easing (p=0.")


def test_above_the_flip_threshold_the_model_changes_the_direction() -> None:
    classifier = Classifier(
        CONFIG.concepts, CONFIG.signals, direction_model=shipped_model(), flip=0.8, flag=0.8
    )
    [signal] = classifier.classify(*WOUND_DOWN)
    assert signal.direction is Direction.EASING
    assert signal.direction_uncertain
    assert signal.severity.rank <= EASING_CAP.rank
    assert "reads the lead as easing" in signal.direction_doubt
    assert signal.direction_doubt.endswith("the rules read tightening")


def test_below_the_flag_threshold_the_rules_decide_alone() -> None:
    title = "China halts exports of gallium to the United States"
    body = "The ministry banned gallium and germanium exports to the US with immediate effect."
    plain = Classifier(CONFIG.concepts, CONFIG.signals).classify(title, body)
    with_model = Classifier(
        CONFIG.concepts, CONFIG.signals, direction_model=shipped_model()
    ).classify(title, body)
    assert shipped_model().easing_probability(lead_text(title, body)) < FLAG
    assert with_model == plain


def test_eval_command_adds_the_model_when_asked(tmp_path: Path) -> None:
    """`watcher eval --direction-model` scores the rules plus the model; without it, the
    rules alone (the product)."""
    from typer.testing import CliRunner

    from watcher.cli.app import app

    labelled = tmp_path / "one.jsonl"
    labelled.write_text(
        json.dumps(
            {
                "id": "x1",
                "split": "dev",
                "title": WOUND_DOWN[0],
                "body": WOUND_DOWN[1],
                "labels": [{"type": "export_control", "direction": "easing"}],
            }
        )
        + "\n",
        encoding="utf-8",
    )
    config = str(ROOT / "config" / "watcher.yaml")
    plain = CliRunner().invoke(app, ["eval", str(labelled), "--config", config])
    model = CliRunner().invoke(
        app, ["eval", str(labelled), "--config", config, "--direction-model"]
    )
    assert plain.exit_code == 0, plain.output
    assert model.exit_code == 0, model.output
    assert "easing sent as tightening 1 (0 flagged uncertain)" in plain.output
    assert "easing sent as tightening 1 (1 flagged uncertain)" in model.output
