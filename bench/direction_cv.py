"""Does the direction model help? Event-grouped cross-validation on the real dev split.

`python -m bench.direction_cv` splits the real corpus's dev rows into 5 folds by event
(scikit-learn's GroupKFold: passages of one event never straddle folds), trains the
direction model on 4 folds' dev leads (plus, unless `--no-synthetic`, the synthetic
set's dev rows, which are never scored), classifies the 5th fold with rules + that
model, and scores the 5 folds' outcomes together with `watcher eval`'s measures. The
same items with the rules alone are the baseline. Every (FLIP, FLAG) pair of the grid
is shown; the engine's defaults are marked. Held-back rows are never read.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date

from bench.direction_train import REALTEXT, ROOT, load_rows, train, training_rows
from watcher.classify.engine import FLAG, FLIP, Classifier
from watcher.classify.evaluate import Evaluation, evaluate, load_examples
from watcher.config.load import load_config
from watcher.domain.items import Signal

FOLDS = 5
NEVER = 1.01  # a threshold no probability reaches
FLIPS = (0.6, 0.7, 0.8, 0.85, 0.9, 0.95, NEVER)
FLAGS = (0.5, 0.6, 0.7, 0.8, NEVER)


class _ByFold:
    """A predictor that classifies each item with the classifier of its fold."""

    def __init__(self, fold_of: dict[tuple[str, str], int], classifiers: list[Classifier]):
        self._fold_of = fold_of
        self._classifiers = classifiers

    def classify(self, title: str, body: str, published: date | None = None) -> list[Signal]:
        return self._classifiers[self._fold_of[(title, body)]].classify(title, body, published)


def figures(result: Evaluation) -> str:
    """One line of the figures the merge rule looks at."""
    return (
        f"macro-F1 {result.macro_f1:.3f}  min P {result.min_precision:.3f}"
        f"  dir {result.direction_accuracy:.3f}"
        f"  e-a-t {unflagged(result):>2} unflagged (+{result.easing_as_tightening_flagged} flagged)"
        f"  uncertain {result.uncertain:>3} ({result.uncertain_wrong} wrong)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    from sklearn.model_selection import GroupKFold

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-synthetic", action="store_true", help="train on real dev only")
    parser.add_argument("--config", default=str(ROOT / "config" / "watcher.yaml"))
    args = parser.parse_args(argv)

    config = load_config(args.config, environ={})
    examples = [e for e in load_examples(REALTEXT) if e.split == "dev"]
    rows = {r.id: r for r in load_rows(REALTEXT, "real") if r.split == "dev"}
    groups = [rows[e.id].event for e in examples]
    fold_of: dict[tuple[str, str], int] = {}
    ids_of: list[set[str]] = [set() for _ in range(FOLDS)]
    splitter = GroupKFold(n_splits=FOLDS)
    for k, (_, test) in enumerate(splitter.split(examples, groups=groups)):
        for i in test:
            key = (examples[i].title, examples[i].body)
            if fold_of.setdefault(key, k) != k:
                raise SystemExit(f"two dev items share a text across folds: {examples[i].id}")
            ids_of[k].add(examples[i].id)

    directed = training_rows(synthetic=not args.no_synthetic)
    classifiers = []
    for k in range(FOLDS):
        # train on the other folds' real dev rows (and the synthetic dev rows)
        fitted = train([r for r in directed if r.source != "real" or r.id not in ids_of[k]])
        classifiers.append(
            Classifier(config.concepts, config.signals, direction_model=fitted, flip=NEVER)
        )

    # the model alone: its reading of every directed dev lead, out of fold
    directed_ids = {r.id: r for r in directed if r.source == "real"}
    right = total = 0
    for k, classifier in enumerate(classifiers):
        model = classifier.direction_model
        assert model is not None
        for item_id in ids_of[k] & directed_ids.keys():
            row = directed_ids[item_id]
            total += 1
            right += (model.easing_probability(row.lead) >= 0.5) == row.easing
    rules = evaluate(examples, Classifier(config.concepts, config.signals), "dev")
    print(f"real dev, {len(examples)} items, {FOLDS} event-grouped folds")
    print(f"model alone, out of fold: {right}/{total} directed leads right ({right / total:.3f})")
    print(f"{'rules alone':<24}{figures(rules)}")
    predictor = _ByFold(fold_of, classifiers)
    verdict = "the engine default is not in the grid"
    for flip in FLIPS:
        for flag in FLAGS:
            if flag > flip:
                continue
            for classifier in classifiers:
                classifier.flip, classifier.flag = flip, flag
            result = evaluate(examples, predictor, "dev")
            mark = " <- engine default" if (flip, flag) == (FLIP, FLAG) else ""
            name = f"flip {flip:.2f} flag {flag:.2f}".replace("1.01", "never")
            print(f"{name:<24}{figures(result)}{mark}")
            if mark:
                verdict = merge_rule(rules, result)
    print(f"merge rule at the engine default: {verdict}")
    return 0


def unflagged(result: Evaluation) -> int:
    """Easing items sent as tightening at a tightening severity."""
    return len(result.easing_as_tightening) - result.easing_as_tightening_flagged


def merge_rule(rules: Evaluation, both: Evaluation) -> str:
    """The rule fixed before the model was built: fewer unflagged easing-as-tightening
    items, direction accuracy not lower, macro-F1 not lower by more than 0.005."""
    checks = [
        ("fewer unflagged e-a-t", unflagged(both) < unflagged(rules)),
        ("direction not lower", both.direction_accuracy >= rules.direction_accuracy),
        ("macro-F1 within 0.005", both.macro_f1 >= rules.macro_f1 - 0.005),
    ]
    failed = [name for name, ok in checks if not ok]
    return "passes" if not failed else "fails (" + ", ".join(failed) + ")"


if __name__ == "__main__":
    sys.exit(main())
