"""Every signal the classifier gives on a fixed set of items, dumped or checked against a dump.

A speed change to the classifier must not change what it outputs. This script runs the
classifier over the labelled synthetic set (`tests/data/classify/*.jsonl`), the real-text
corpus (`tests/data/realtext/corpus.jsonl`, with each item's `published` date as `watcher
eval` passes it) and the items of `bench_classify` (every mix), and writes one JSON line
per item: its set and id, and per signal its type, direction, severity, score (as
`repr`, so every bit counts), speculative and uncertain flags, entities and each
evidence sentence with its spans (offsets, concept, gloss).

    python -m bench.classify_outputs --save out.jsonl    # the baseline, before a change
    python -m bench.classify_outputs --check out.jsonl   # after it: exit 1 on any difference

`--check` prints the first differing items and how many differ.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from bench.bench_classify import MIXES, build_items
from bench.labelled import labelled_rows
from bench.output_guard import guard_parser, save_or_check
from watcher.classify.engine import Classifier
from watcher.config.load import load_config
from watcher.domain.items import Signal

ROOT = Path(__file__).resolve().parent.parent
LABELLED = (
    ROOT / "tests" / "data" / "classify" / "devset.jsonl",
    ROOT / "tests" / "data" / "classify" / "tiny_eval.jsonl",
    ROOT / "tests" / "data" / "realtext" / "corpus.jsonl",
)
BENCH_ITEMS = 4_000


def items() -> Iterator[tuple[str, str, str, date | None]]:
    """(key, title, body, published) of every item checked, in a fixed order."""
    for path in LABELLED:
        for key, title, body, day, _ in labelled_rows(path, path.name):
            yield key, title, body, day
    for name, share in MIXES:
        for number, (title, body) in enumerate(build_items(BENCH_ITEMS, signal_share=share)):
            yield f"bench {name}:{number}", title, body, None


def describe(signal: Signal) -> dict[str, object]:
    """Everything a signal carries, as JSON-ready values (the score as its `repr`)."""
    return {
        "type": signal.type,
        "rule": signal.rule,
        "direction": signal.direction.value,
        "severity": signal.severity.value,
        "score": repr(signal.score),
        "speculative": signal.speculative,
        "direction_uncertain": signal.direction_uncertain,
        "entities": signal.entities.as_dict(),
        "evidence": [
            {
                "sentence": evidence.sentence,
                "in_title": evidence.in_title,
                "spans": [[s.start, s.end, s.concept, s.gloss] for s in evidence.spans],
            }
            for evidence in signal.evidence
        ],
    }


def dump(classifier: Classifier) -> list[str]:
    """One JSON line per item."""
    return [
        json.dumps(
            {"item": key, "signals": [describe(s) for s in classifier.classify(t, b, day)]},
            ensure_ascii=False,
            sort_keys=True,
        )
        for key, t, b, day in items()
    ]


def main(argv: list[str] | None = None) -> int:
    """Save the dump, or check it against a saved one (exit 1 when any item differs)."""
    parser = guard_parser(__doc__.splitlines()[0], timed=False)
    parser.add_argument("--config", type=Path, default=ROOT / "config" / "watcher.yaml")
    args = parser.parse_args(argv)
    lines = dump(Classifier.from_config(load_config(args.config), warn=False))
    signals = sum(len(json.loads(line)["signals"]) for line in lines)
    return save_or_check(lines, args.save, args.check, f"{signals} signals")


if __name__ == "__main__":
    sys.exit(main())
