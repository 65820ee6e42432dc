"""The precision gate (watcher/classify/gate.py): what it drops and marks, its setting,
its pure-Python inference, and shipped weights that match the rules they were trained on."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from bench import train_gate
from tests.conftest import ROOT
from watcher.classify.engine import Classifier
from watcher.classify.gate import WEIGHTS, Gate, GateModel, features, shipped_model
from watcher.config import WatcherConfig, load_config
from watcher.domain.items import Severity

BAN = ("China bans gallium exports", "China banned exports of gallium and germanium on Tuesday.")
HEDGED = ("", "China may ban exports of gallium, analysts said.")


@pytest.fixture(scope="module")
def rules() -> Classifier:
    """The default rules with the gate off."""
    return Classifier.from_config(load_config(ROOT / "config/watcher.yaml"), warn=False, gate=False)


def _model(
    keep: dict[str, float], keep_bias: float, direction: dict[str, float] | None = None
) -> GateModel:
    """A hand-made gate: `keep` weights and bias, optional direction weights (bias 0)."""
    return GateModel.from_json(
        {
            "groups": ["kind", "concepts", "terms", "position"],
            "keep": {"bias": keep_bias, "weights": keep, "threshold": 0.5},
            "direction": {"bias": 0.0, "weights": direction or {}, "threshold": 0.5},
        }
    )


def test_a_firm_signal_scored_under_the_threshold_is_dropped(rules: Classifier) -> None:
    """The keep model decides a firm signal's fate; what it keeps is the rules' own signal."""
    signals = rules.classify(*BAN)
    assert [(s.type, s.speculative) for s in signals] == [("export_control", False)]
    assert "T=export_control|D=tightening" in features(signals[0], *BAN)
    dropping = Gate(_model({"T=export_control|D=tightening": -20.0}, 0.0))
    assert dropping.apply(signals, *BAN) == []
    keeping = Gate(_model({}, 5.0))
    assert keeping.apply(signals, *BAN) == signals
    assert keeping.apply(signals, *BAN)[0] is signals[0]
    # a setting's threshold outranks the model's: at 0 nothing is dropped
    assert (
        Gate(_model({"T=export_control|D=tightening": -20.0}, 0.0), 0.0).apply(signals, *BAN)
        == signals
    )


def test_a_speculative_signal_passes_whatever_its_score(rules: Classifier) -> None:
    """Speculative signals are never gated: they are never sent at tightening severity."""
    signals = rules.classify(*HEDGED)
    assert [s.speculative for s in signals] == [True]
    assert (
        Gate(_model({"T=export_control|D=tightening": -20.0}, -20.0)).apply(signals, *HEDGED)
        == signals
    )


def test_a_distrusted_direction_becomes_uncertain_and_capped(rules: Classifier) -> None:
    """Kept with a direction score under its threshold: uncertain, at most medium, and
    the explanation gives both of the gate's scores."""
    signals = rules.classify(*BAN)
    assert signals[0].severity is Severity.CRITICAL
    gate = Gate(_model({}, 5.0, {"T=export_control|D=tightening": -3.0}))
    [marked] = gate.apply(signals, *BAN)
    assert marked.direction_uncertain
    assert marked.direction is signals[0].direction
    assert marked.severity is Severity.MEDIUM
    assert "precision gate trusts its direction at 0.05 (under 0.50)" in marked.direction_doubt
    assert "keep score 0.99" in marked.direction_doubt
    assert marked.evidence == signals[0].evidence
    # a direction threshold of 0 never marks one
    assert (
        Gate(_model({}, 5.0, {"T=export_control|D=tightening": -3.0}), None, 0.0).apply(
            signals, *BAN
        )
        == signals
    )


def test_the_setting_turns_the_gate_on_and_sets_its_thresholds(
    make_config: Callable[..., WatcherConfig], rules: Classifier
) -> None:
    """`classify.gate` is off by default; on, its keep threshold is the one in force."""
    default = make_config()
    assert default.classify.gate.enabled is False
    assert Classifier.from_config(default, warn=False).classify(*BAN) == rules.classify(*BAN)
    strict = make_config(classify={"gate": {"enabled": True, "keep_threshold": 1.0}})
    assert Classifier.from_config(strict, warn=False).classify(*BAN) == []
    # the training switch overrides the setting
    assert Classifier.from_config(strict, warn=False, gate=False).classify(*BAN) == rules.classify(
        *BAN
    )
    lenient = make_config(classify={"gate": {"enabled": True, "keep_threshold": 0.0}})
    assert Classifier.from_config(lenient, warn=False).classify(*BAN) == rules.classify(*BAN)


def test_the_gate_only_drops_and_marks(rules: Classifier) -> None:
    """With the shipped model, every signal out of the gate is a rule's signal, unchanged
    but for the direction flag, its doubt and the severity cap, in the rules' order."""
    gate = Gate(shipped_model(), 0.5, 0.99)
    cases = train_gate.dev_cases(rules)[:300]
    assert sum(len(c.signals) for c in cases) > 100
    for case in cases:
        title, body = case.example.title, case.example.body
        out = gate.apply(case.signals, title, body)
        original = [s for s in case.signals if s.type in {o.type for o in out}]
        assert [s.type for s in out] == [s.type for s in original]
        for before, after in zip(original, out, strict=True):
            assert (before.direction, before.evidence, before.rule) == (
                after.direction,
                after.evidence,
                after.rule,
            )
            assert after.severity.rank <= before.severity.rank


def test_shipped_weights_are_what_training_gives_on_the_current_rules(rules: Classifier) -> None:
    """A rule change (or a change to the dev splits) without `make gate` fails here."""
    trained: dict[str, Any] = train_gate.train(train_gate.dev_cases(rules), train_gate.SHIPPED)
    assert train_gate.dumps(trained) == WEIGHTS.read_text(encoding="utf-8"), "run `make gate`"
    assert WEIGHTS.stat().st_size < 300_000


_PROBE = """
import sys
from watcher.classify.engine import Classifier
from watcher.config import load_config
from watcher.config.schema import GateSetting
config = load_config("config/watcher.yaml")
classifier = Classifier(config.concepts, config.signals, GateSetting(enabled=True))
print(len(classifier.classify("China bans gallium exports", "China banned exports of gallium.")))
print(sorted({m.split(".")[0] for m in sys.modules} & {"numpy", "scipy", "sklearn", "bench"}))
"""


def test_inference_imports_no_numerical_library() -> None:
    """The service's gate is pure Python: classifying with it on loads no numpy, scipy,
    scikit-learn or training code."""
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[:2] == ["1", "[]"]
