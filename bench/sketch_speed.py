"""Every item's encoded story sketch over a fixed corpus, dumped or checked; and its cost.

A speed change to the sketching path (`watcher.domain.stories.sketch_text`, `index_keys`,
`encode_sketch` and the story facts under them) must not change a byte of what an item
stores. This script sketches, as `watcher.service.analysis.analyse` does, the real-text
corpus (`tests/data/realtext/corpus.jsonl`, with its labels as the signals), the real
story items (`tests/data/stories/real/items.jsonl`), the classifier bench's items
(`bench.bench_classify.build_items`, at each signal mix) and the templated farm's notes
(`bench.templated.templated_item`, each with its day), and writes one JSON line per
item: its key, its encoded sketch (hex) and its index keys (sorted).

    python -m bench.sketch_speed --save out.jsonl    # the baseline, before a change
    python -m bench.sketch_speed --check out.jsonl   # after it: exit 1 on any difference
    python -m bench.sketch_speed --time 5            # CPU µs per item, best of 5
    python -m bench.sketch_speed --time 5 --only bench   # the classifier bench's items alone

Only aggregate outputs are compared; no item is printed unless it differs.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bench.bench_classify import MIXES, build_items
from bench.labelled import labelled_rows
from bench.output_guard import cpu_per_item, guard_parser, save_or_check
from bench.templated import templated_item
from watcher.domain.stories import encode_sketch, index_keys, sketch_text

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "realtext" / "corpus.jsonl"
REAL_ITEMS = ROOT / "tests" / "data" / "stories" / "real" / "items.jsonl"
BENCH_ITEMS = 400  # classifier-bench items per signal mix
FEEDS, NOTES = 20, 40  # templated feeds, notes per feed
EPOCH = 1_764_000_000  # the templated notes' latest day (2025-11-24)
_SIGNALS = (("export_control", "tightening"),)  # what the classifier finds in a bench item

Item = tuple[str, str, str, date | None, tuple[tuple[str, str], ...]]


def items() -> Iterator[Item]:
    """(key, title, body, date, signals) of every item sketched, in a fixed order."""
    yield from labelled_rows(CORPUS, "corpus")
    yield from labelled_rows(REAL_ITEMS, "real")
    day = date(2025, 11, 24)
    for mix, share in MIXES:
        for number, (title, body) in enumerate(build_items(BENCH_ITEMS, signal_share=share)):
            signals = _SIGNALS if number % 3 == 0 else ()
            yield f"bench:{mix}:{number}", title, body, day - timedelta(days=number % 9), signals
    latest = datetime.fromtimestamp(EPOCH, UTC).date()
    for feed in range(FEEDS):
        for index in range(NOTES):
            note = templated_item(7, feed, index, EPOCH)
            signals = _SIGNALS if note.signal else ()
            when = latest - timedelta(days=index)
            yield f"templated:{feed}:{index}", note.title, note.body, when, signals


def outputs() -> Iterator[str]:
    """One JSON line per item: its key, encoded sketch (hex) and index keys."""
    for key, title, body, when, signals in items():
        sketch = sketch_text(title, body, when, signals)
        keys = sorted(index_keys(sketch))
        yield json.dumps({"key": key, "sketch": encode_sketch(sketch).hex(), "keys": keys})


def _sketched(
    title: str, body: str, when: date | None, signals: tuple[tuple[str, str], ...]
) -> None:
    """What `analyse` does with an item's story: its sketch, keyed and encoded."""
    sketch = sketch_text(title, body, when, signals)
    index_keys(sketch)
    encode_sketch(sketch)


def cost(repeats: int, only: str = "") -> float:
    """CPU microseconds per item of sketching, keying and encoding every item whose key
    starts with `only` (as `analyse` does), the best of `repeats` runs."""
    return cpu_per_item(_sketched, [item for item in items() if item[0].startswith(only)], repeats)


def main() -> int:
    """Save, check or time; see the module docstring."""
    parser = guard_parser(__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="time only the items whose key starts so")
    args = parser.parse_args()
    if args.time:
        print(f"{cost(args.time, args.only):.1f} µs per item (CPU, best of {args.time})")
        return 0
    return save_or_check(list(outputs()), args.save, args.check, "encoded sketches")


if __name__ == "__main__":
    sys.exit(main())
