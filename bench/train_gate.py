"""Train the precision gate (`watcher.classify.gate`) on the labelled sets' dev splits.

`python -m bench.train_gate` classifies the dev items of the real-text corpus and of the
synthetic set with the configured rules and the gate off, turns every firm signal the
rules propose into a training row (kept when the item has a firm gold label of its type,
dropped when it has none; an item with a speculative label of the type is left out), fits
two L1 logistic models with liblinear (deterministic, seeded) and writes
`watcher/classify/gate_weights.json`: the keep model, and the direction model, trained on
the kept rows whose gold label gives a direction (trusted when the rule's direction is
the gold one). No held-back item is ever read: `dev_cases` keeps the dev split only.

`--check` writes nothing and exits 1 when the shipped file differs from what training
gives now (a rule change without retraining). `--design` cross-validates on the dev split
instead (5 folds, grouped by the corpus's `event`; a synthetic item is its own group),
with the newest dev batch (`VALIDATION`) left out of training and scored apart as
aggregates only: it prints, per setting, the out-of-fold macro-F1 and easing items sent
as tightening at each keep threshold.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from watcher.classify.engine import Classifier
from watcher.classify.evaluate import Evaluation, Example, Label, evaluate
from watcher.classify.gate import GROUPS, WEIGHTS, Gate, GateModel, features
from watcher.config import load_config
from watcher.domain.items import Signal

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "tests/data/realtext/corpus.jsonl"
SYNTHETIC = ROOT / "tests/data/classify/devset.jsonl"
CONFIG = ROOT / "config/watcher.yaml"
SEED = 17
FOLDS = 5


def in_validation(item_id: str) -> bool:
    """The newest dev batch (2026-12-07c: en885-en950, zh616-zh686), the design's unread
    validation slice."""
    prefix, digits = item_id[:2], item_id[2:]
    if not digits.isdigit():
        return False
    number = int(digits)
    return (prefix == "en" and 885 <= number <= 950) or (prefix == "zh" and 616 <= number <= 686)


@dataclass(frozen=True, slots=True)
class Params:
    """The training settings: feature groups, L1 strength, class weighting, thresholds."""

    groups: tuple[str, ...] = ("kind", "concepts", "terms", "words", "pairs", "headline")
    c: float = 1.0
    balanced: bool = False
    l1: bool = True
    keep_threshold: float = 0.5
    direction_threshold: float = 0.0


# the settings the shipped weights are trained with (chosen by `--design`, see the README)
SHIPPED = Params(("kind", "concepts", "terms", "position"), c=1.0, keep_threshold=0.5)


@dataclass(slots=True)
class Case:
    """One dev item: its example, CV group, set (`real` or `synthetic`), ungated signals."""

    example: Example
    group: str
    real: bool
    signals: list[Signal]


def _examples(path: Path) -> Iterator[tuple[Example, str]]:
    """The dev items of a labelled file with their CV group (the event, else the id)."""
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            row = json.loads(line)
            if row.get("split", "dev") != "dev":
                continue  # held-back items are never read further
            published = row.get("published")
            example = Example(
                id=str(row["id"]),
                split="dev",
                title=str(row.get("title") or ""),
                body=str(row.get("body") or ""),
                labels=tuple(
                    Label(str(x["type"]), str(x["direction"]), bool(x.get("speculative")))
                    for x in row.get("labels", [])
                ),
                lang=str(row.get("lang") or ""),
                published=date.fromisoformat(published[:10]) if published else None,
            )
            yield example, str(row.get("event") or row["id"])


def dev_cases(classifier: Classifier) -> list[Case]:
    """Every dev item of both sets, classified by `classifier` (whose gate must be off)."""
    out = []
    for path, real in ((REAL, True), (SYNTHETIC, False)):
        for example, group in _examples(path):
            signals = classifier.classify(example.title, example.body, example.published)
            out.append(Case(example, f"{path.stem}:{group}", real, signals))
    return out


@dataclass(frozen=True, slots=True)
class Row:
    """One firm signal as a training row: where it is, its features and its labels."""

    case: int
    signal: int
    features: frozenset[str]
    keep: bool
    direction: bool | None
    """True when the direction is the gold one; None without a gold label of the type."""


def rows(cases: Sequence[Case], groups: Sequence[str]) -> list[Row]:
    """The training rows of `cases`: every firm signal not of a speculative gold type."""
    out = []
    for at, case in enumerate(cases):
        labels = case.example.labels
        for index, signal in enumerate(case.signals):
            if signal.speculative:
                continue
            gold = [x for x in labels if x.type == signal.type]
            if any(x.speculative for x in gold):
                continue
            found = frozenset(features(signal, case.example.title, case.example.body, groups))
            direction = gold[0].direction == signal.direction.value if gold else None
            out.append(Row(at, index, found, bool(gold), direction))
    return out


def _fit(
    rows_: Sequence[Row], labels: Sequence[bool], params: Params
) -> tuple[float, dict[str, float]]:
    """An L1 logistic model of `labels` over the rows' features: bias and nonzero weights
    (rounded to 4 decimals). With a single class, the constant model of that class."""
    if len(set(labels)) < 2:
        return (10.0 if (labels and labels[0]) else -10.0), {}
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    vocabulary = sorted({name for row in rows_ for name in row.features})
    column = {name: at for at, name in enumerate(vocabulary)}
    indices: list[int] = []
    pointers = [0]
    for row in rows_:
        indices.extend(sorted(column[name] for name in row.features))
        pointers.append(len(indices))
    matrix = csr_matrix(
        ([1.0] * len(indices), indices, pointers), shape=(len(rows_), len(vocabulary))
    )
    model = LogisticRegression(
        l1_ratio=1.0 if params.l1 else 0.0,
        C=params.c,
        solver="liblinear",
        class_weight="balanced" if params.balanced else None,
        random_state=SEED,
        max_iter=1000,
    )
    model.fit(matrix, [int(x) for x in labels])
    weights = {
        name: round(float(w), 4)
        for name, w in zip(vocabulary, model.coef_[0], strict=True)
        if round(float(w), 4) != 0.0
    }
    return round(float(model.intercept_[0]), 4), weights


def train(cases: Sequence[Case], params: Params) -> dict[str, Any]:
    """The gate's JSON (as `GateModel.from_json` reads it) trained on `cases`."""
    found = rows(cases, params.groups)
    keep_bias, keep = _fit(found, [r.keep for r in found], params)
    directed = [r for r in found if r.keep and r.direction is not None]
    direction_bias, direction = _fit(directed, [bool(r.direction) for r in directed], params)
    return {
        "about": "the precision gate's weights: python -m bench.train_gate writes this file",
        "groups": list(params.groups),
        "keep": {"bias": keep_bias, "threshold": params.keep_threshold, "weights": keep},
        "direction": {
            "bias": direction_bias,
            "threshold": params.direction_threshold,
            "weights": direction,
        },
    }


class _Replay:
    """A predictor that gives back prepared signal lists in the examples' order."""

    def __init__(self, outcomes: Sequence[list[Signal]]) -> None:
        self._outcomes = iter(outcomes)

    def classify(self, title: str, body: str, published: date | None = None) -> list[Signal]:
        return next(self._outcomes)


def scored(cases: Sequence[Case], decide: Callable[[int, Case], list[Signal]]) -> Evaluation:
    """The evaluation of the real cases among `cases` with signals `decide(index, case)`."""
    chosen = [(at, case) for at, case in enumerate(cases) if case.real]
    outcomes = [decide(at, case) for at, case in chosen]
    return evaluate([case.example for _, case in chosen], _Replay(outcomes))


def gated(cases: Sequence[Case], data: dict[str, Any]) -> Callable[[int, Case], list[Signal]]:
    """The decision of the gate `data` (a trained JSON) on each case."""
    gate = Gate(GateModel.from_json(data))
    return lambda _, case: gate.apply(case.signals, case.example.title, case.example.body)


def out_of_fold(cases: Sequence[Case], params: Params) -> dict[tuple[int, int], float]:
    """Each firm signal's keep score from the model trained on the other folds."""
    from sklearn.model_selection import GroupKFold

    found = rows(cases, params.groups)
    groups = [cases[r.case].group for r in found]
    scores: dict[tuple[int, int], float] = {}
    for train_at, test_at in GroupKFold(n_splits=FOLDS).split(found, groups=groups):
        part = [found[i] for i in train_at]
        bias, weights = _fit(part, [r.keep for r in part], params)
        model = GateModel.from_json(
            {
                "groups": list(params.groups),
                "keep": {"bias": bias, "weights": weights, "threshold": 0.0},
                "direction": {"bias": 0.0, "weights": {}, "threshold": 0.0},
            }
        )
        for i in test_at:
            row = found[i]
            scores[(row.case, row.signal)] = model.keep.score(row.features)
    return scores


def with_threshold(
    scores: dict[tuple[int, int], float], threshold: float
) -> Callable[[int, Case], list[Signal]]:
    """Drop each firm signal whose out-of-fold keep score is under `threshold`."""

    def decide(at: int, case: Case) -> list[Signal]:
        return [
            s for index, s in enumerate(case.signals) if scores.get((at, index), 1.0) >= threshold
        ]

    return decide


def _line(name: str, result: Evaluation) -> str:
    per_type = " ".join(f"{t.type[:5]}={t.precision:.3f}/{t.recall:.3f}" for t in result.types)
    return (
        f"{name:<34} macro-F1 {result.macro_f1:.4f}  e-a-t {len(result.easing_as_tightening)}"
        f"  dir {result.direction_accuracy:.3f}  {per_type}"
    )


THRESHOLDS = (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9)


def design(cases: Sequence[Case], settings: Sequence[Params]) -> None:
    """Print the CV figures of each setting at each threshold, then the validation slice's
    aggregates with the first setting's threshold (the validation slice is never trained
    on here)."""
    training = [c for c in cases if not in_validation(c.example.id)]
    print(_line("CV rules alone", scored(training, lambda _, c: c.signals)))
    from sklearn.metrics import roc_auc_score

    for params in settings:
        scores = out_of_fold(training, params)
        found = rows(training, params.groups)
        kept = [r.keep for r in found]
        oof = [scores[(r.case, r.signal)] for r in found]
        name = f"{'+'.join(g[:4] for g in params.groups)} C={params.c}"
        name += f"{' bal' if params.balanced else ''}{'' if params.l1 else ' L2'}"
        print(
            f"{name}: out-of-fold keep AUC {roc_auc_score(kept, oof):.3f}"
            f" ({sum(kept)} kept, {len(kept) - sum(kept)} false rows)"
        )
        for threshold in THRESHOLDS[1:]:
            result = scored(training, with_threshold(scores, threshold))
            true_dropped = sum(k and s < threshold for k, s in zip(kept, oof, strict=True))
            false_dropped = sum(not k and s < threshold for k, s in zip(kept, oof, strict=True))
            label = f"  t={threshold} drops {false_dropped} false, {true_dropped} true"
            print(_line(label, result))
    _direction_design(training, settings[0])
    slice_ = [c for c in cases if in_validation(c.example.id)]
    chosen = settings[0]
    data = train(training, chosen)
    print(_line("validation slice, rules alone", scored(slice_, lambda _, c: c.signals)))
    print(
        _line(
            f"validation slice, gate t={chosen.keep_threshold}", scored(slice_, gated(slice_, data))
        )
    )


def _direction_design(cases: Sequence[Case], params: Params) -> None:
    """Print how the direction model, trained out of fold, ranks the wrong directions."""
    from sklearn.model_selection import GroupKFold

    directed = [r for r in rows(cases, params.groups) if r.keep and r.direction is not None]
    groups = [cases[r.case].group for r in directed]
    oof: list[float] = [0.0] * len(directed)
    for train_at, test_at in GroupKFold(n_splits=FOLDS).split(directed, groups=groups):
        part = [directed[i] for i in train_at]
        bias, weights = _fit(part, [bool(r.direction) for r in part], params)
        for i in test_at:
            total = bias + sum(weights.get(name, 0.0) for name in directed[i].features)
            oof[i] = 1.0 / (1.0 + math.exp(-max(total, -30.0)))
    wrong = sorted(s for r, s in zip(directed, oof, strict=True) if not r.direction)
    right = sorted(s for r, s in zip(directed, oof, strict=True) if r.direction)
    print(
        f"direction: {len(wrong)} wrong of {len(directed)}; their out-of-fold trust"
        f" {[round(s, 2) for s in wrong]}; right directions under 0.9: "
        f"{sum(s < 0.9 for s in right)}, under 0.5: {sum(s < 0.5 for s in right)}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the shipped file")
    parser.add_argument("--design", action="store_true", help="cross-validate settings")
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    args = parser.parse_args(argv)
    classifier = Classifier.from_config(load_config(CONFIG), warn=False, gate=False)
    cases = dev_cases(classifier)
    if args.design:
        design(cases, _settings())
        return 0
    text = dumps(train(cases, SHIPPED))
    if args.check:
        same = args.out.read_text(encoding="utf-8") == text
        print("gate weights up to date" if same else f"{args.out} differs: retrain (make gate)")
        return 0 if same else 1
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out} ({len(text):,} bytes)")
    return 0


def dumps(data: dict[str, Any]) -> str:
    """The weights file's text: stable key order, one line per weight."""
    return json.dumps(data, ensure_ascii=False, indent=0, sort_keys=True) + "\n"


def _settings() -> list[Params]:
    """`SHIPPED` first (the one scored on the validation slice), then the others tried."""
    small = ("kind", "concepts", "terms")
    return [
        SHIPPED,
        Params(small, 3.0, keep_threshold=0.4),
        Params(small, 1.0),
        Params((*small, "words"), 1.0, l1=False),
        Params(GROUPS, 1.0, l1=False),
        Params(GROUPS, 1.0),
    ]


if __name__ == "__main__":
    sys.exit(main())
