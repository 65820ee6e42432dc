"""How far a split's classifier figures move by chance: an event-level bootstrap.

`python -m bench.eval_noise [--split heldout] [--config A] [--against B]` classifies the
split of the real-text corpus once per configuration, then resamples its **events** with
replacement (every passage of a drawn event comes with it: passages of one event are not
independent) and rescores each resample. It prints the macro-F1, direction accuracy and
easing-sent-as-tightening count of the split with their 95 % intervals, and, with
`--against`, the paired difference A − B on the same resamples and how often it is above
zero. A change of code rather than rules is compared the same way through a saved run:
`--save FILE` writes each passage's signals (type, direction, severity, flags; no text)
from one tree, and `--against-saved FILE` in another tree pairs its run with them. A
change whose difference interval straddles zero has not shown an effect on that split;
a merge rule that asks for a smaller gain than the interval's half-width is a coin toss.
Only aggregates are printed, never an item, so the held-back split can be read with it
under the same rule as `watcher eval --no-errors`.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from watcher.classify.evaluate import Evaluation, Example, load_examples, score_outcomes
from watcher.domain.items import Direction, Severity, Signal

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "realtext" / "corpus.jsonl"
CONFIG = ROOT / "config" / "watcher.yaml"

Outcomes = list[tuple[Example, list[Signal]]]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Interval:
    """A point estimate and the 2.5th and 97.5th percentiles of its resamples."""

    point: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.point:.3f} [{self.low:.3f}, {self.high:.3f}]"

    def as_count(self) -> str:
        """The interval of a count, in whole numbers."""
        return f"{self.point:.0f} [{self.low:.0f}, {self.high:.0f}]"


def events_of(path: Path) -> dict[str, str]:
    """Passage id → its event (the id itself where a row names no event)."""
    rows = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line)
    return {str(row["id"]): str(row.get("event") or row["id"]) for row in rows}


def classify(examples: Sequence[Example], config: Path) -> Outcomes:
    """Each example with the signals the rules of `config` give it."""
    from watcher.classify.engine import Classifier
    from watcher.config import load_config

    classifier = Classifier.from_config(load_config(config))
    return [(e, classifier.classify(e.title, e.body, published=e.published)) for e in examples]


def save(run: Outcomes, path: Path) -> None:
    """Write each passage's signals, as far as scoring reads them, to `path` (JSON)."""
    rows = {
        example.id: [
            {
                "type": s.type,
                "direction": s.direction.value,
                "severity": s.severity.value,
                "speculative": s.speculative,
                "direction_uncertain": s.direction_uncertain,
            }
            for s in found
        ]
        for example, found in run
    }
    path.write_text(json.dumps(rows, sort_keys=True), encoding="utf-8")


def load_saved(examples: Sequence[Example], path: Path) -> Outcomes:
    """The run `save` wrote, paired with `examples`; raises ValueError when it was saved
    for other passages (another split or corpus), so a pairing is never silently partial."""
    rows = json.loads(path.read_text(encoding="utf-8"))
    missing = [e.id for e in examples if e.id not in rows]
    if missing or len(rows) != len(examples):
        raise ValueError(
            f"{path}: saved for other passages ({len(rows)} saved, {len(missing)} missing)"
        )
    return [
        (
            e,
            [
                Signal(
                    type=s["type"],
                    direction=Direction(s["direction"]),
                    severity=Severity(s["severity"]),
                    score=0.0,
                    rule=s["type"],
                    evidence=(),
                    speculative=s["speculative"],
                    direction_uncertain=s["direction_uncertain"],
                )
                for s in rows[e.id]
            ],
        )
        for e in examples
    ]


def _figures(result: Evaluation) -> tuple[float, float, float]:
    return result.macro_f1, result.direction_accuracy, float(len(result.easing_as_tightening))


def interval(point: float, draws: Sequence[float]) -> Interval:
    """`point` with the 2.5th and 97.5th percentiles of its resampled `draws`."""
    ordered = sorted(draws)
    last = len(ordered) - 1
    return Interval(point, ordered[round(0.025 * last)], ordered[round(0.975 * last)])


def paired_difference(
    a: float, b: float, draws_a: Sequence[float], draws_b: Sequence[float]
) -> tuple[Interval, float]:
    """A − B of two runs' figure with its interval over their paired draws (the same
    resamples, in order), and the share of draws in which it is above zero."""
    diffs = [x - y for x, y in zip(draws_a, draws_b, strict=True)]
    return interval(a - b, diffs), sum(d > 0 for d in diffs) / len(diffs)


def resamples(groups: Mapping[str, Sequence[T]], samples: int, seed: int = 0) -> Iterator[list[T]]:
    """`samples` resamples of the groups (events) drawn with replacement, each as the
    members of the groups drawn, in draw order; the same `seed` gives the same draws."""
    keys = sorted(groups)
    rng = random.Random(seed)
    for _ in range(samples):
        yield [member for key in rng.choices(keys, k=len(keys)) for member in groups[key]]


def bootstrap(
    runs: Sequence[Outcomes],
    events: dict[str, str],
    types: list[str],
    *,
    samples: int,
    seed: int = 0,
) -> list[list[tuple[float, float, float]]]:
    """For each run (the same examples, classified by one configuration each), the
    figures (macro-F1, direction accuracy, easing sent as tightening) of `samples`
    event-level resamples; every run is scored on the same resamples (paired)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for index, (example, _) in enumerate(runs[0]):
        groups[events.get(example.id, example.id)].append(index)
    draws: list[list[tuple[float, float, float]]] = [[] for _ in runs]
    for picked in resamples(groups, samples, seed):
        for run, out in zip(runs, draws, strict=True):
            out.append(_figures(score_outcomes("resample", types, [run[i] for i in picked])))
    return draws


def report(
    names: Sequence[str], runs: Sequence[Outcomes], events: dict[str, str], samples: int
) -> list[str]:
    """The lines `main` prints: each run's figures with intervals, then the differences."""
    types = sorted({label.type for example, _ in runs[0] for label in example.labels})
    points = [_figures(score_outcomes("all", types, run)) for run in runs]
    draws = bootstrap(runs, events, types, samples=samples)
    lines = []
    labels = ("macro-F1", "direction accuracy", "easing sent as tightening")
    for name, point, drawn in zip(names, points, draws, strict=True):
        spreads = [interval(point[k], [d[k] for d in drawn]) for k in range(len(labels))]
        parts = [f"{labels[0]} {spreads[0]}", f"{labels[1]} {spreads[1]}"]
        parts.append(f"{labels[2]} {spreads[2].as_count()}")
        lines.append(f"{name}: " + " · ".join(parts))
    if len(runs) == 2:
        for k, label in enumerate(labels):
            spread, above = paired_difference(
                points[0][k], points[1][k], [d[k] for d in draws[0]], [d[k] for d in draws[1]]
            )
            shown = spread.as_count() if k == 2 else str(spread)
            lines.append(f"{names[0]} − {names[1]}, {label}: {shown} · above zero in {above:.0%}")
    return lines


def main() -> None:
    """Parse the command line, classify, resample, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--split", choices=("dev", "heldout", "all"), default="heldout")
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--against", type=Path, help="a second configuration, compared paired")
    parser.add_argument("--save", type=Path, help="write the --config run's signals to this file")
    parser.add_argument("--against-saved", type=Path, help="a run --save wrote (another tree)")
    parser.add_argument("--samples", type=int, default=1000)
    args = parser.parse_args()
    if args.against and args.against_saved:
        parser.error("--against and --against-saved name the same B: give one")
    examples = [e for e in load_examples(args.corpus) if args.split in ("all", e.split)]
    configs = [args.config] + ([args.against] if args.against else [])
    runs = [classify(examples, config) for config in configs]
    if args.save:
        save(runs[0], args.save)
    if args.against_saved:
        runs.append(load_saved(examples, args.against_saved))
    events = events_of(args.corpus)
    print(
        f"{args.corpus.name}, split {args.split}: {len(examples)} passages on "
        f"{len({events.get(e.id, e.id) for e in examples})} events, {args.samples} resamples"
    )
    names = ["A", "B"] if len(runs) == 2 else ["rules"]
    for line in report(names, runs, events, args.samples):
        print(line)


if __name__ == "__main__":
    main()
