"""Every story fact of a fixed set of items, dumped or checked against a dump; and its cost.

A speed change to `watcher.domain.story_facts` must not change what it outputs. This
script runs `fact_values` and `facts_of` over the real story items
(`tests/data/stories/real/items.jsonl`, each with its `published` day as
`bench.stories.real_sketches` passes it), the synthetic stories and their variants
(`tests/data/stories/stories.yaml` and `heldout.yaml`, each with its date as
`bench.stories.cluster` passes it), the real-text corpus
(`tests/data/realtext/corpus.jsonl`) and the labelled classifier set
(`tests/data/classify/devset.jsonl`, with its labels as the signals), and writes one JSON
line per item: its key, its readable facts (kind and value, sorted) and its 32-bit facts
(sorted).

    python -m bench.story_facts_outputs --save out.jsonl    # the baseline, before a change
    python -m bench.story_facts_outputs --check out.jsonl   # after it: exit 1 on any difference
    python -m bench.story_facts_outputs --time 5            # CPU µs per item, best of 5

`--check` prints the first differing items and how many differ.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from bench.labelled import labelled_rows
from bench.output_guard import cpu_per_item, guard_parser, save_or_check
from bench.stories import DATA as STORIES
from bench.stories import HELDOUT, load_items, load_real
from watcher.domain.story_facts import fact_values, facts_of

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "realtext" / "corpus.jsonl"
DEVSET = ROOT / "tests" / "data" / "classify" / "devset.jsonl"

Item = tuple[str, str, str, date | None, tuple[tuple[str, str], ...]]


def items() -> Iterator[Item]:
    """(key, title, body, publication day, signals) of every item checked, in a fixed order."""
    real, _ = load_real()
    for key, item in real.items():
        yield f"real:{key}", item.title, item.body, item.published, ()
    for path in (STORIES, HELDOUT):
        for number, story in enumerate(load_items(path)):
            key = f"{path.name}:{story.story}:{number}"
            yield key, story.title, story.body, story.published.date(), ()
    for path in (CORPUS, DEVSET):
        yield from labelled_rows(path, path.name)


def outputs() -> Iterator[str]:
    """One JSON line per item: its key, readable facts and 32-bit facts, sorted."""
    for key, title, body, when, signals in items():
        values = sorted(fact_values(title, body, when, signals))
        facts = sorted(facts_of(title, body, when, signals))
        yield json.dumps({"key": key, "values": values, "facts": facts}, ensure_ascii=False)


def cost(repeats: int) -> float:
    """CPU microseconds per item of `facts_of` over every item, the best of `repeats` runs."""
    return cpu_per_item(facts_of, list(items()), repeats)


def main() -> int:
    """Save, check or time; see the module docstring."""
    args = guard_parser(__doc__.splitlines()[0]).parse_args()
    if args.time:
        print(f"{cost(args.time):.1f} µs per item (CPU, best of {args.time})")
        return 0
    lines = list(outputs())
    return save_or_check(lines, args.save, args.check)


if __name__ == "__main__":
    sys.exit(main())
