"""The story judgement of two trees on scenario 7's notes, in one process, alternated.

`python -m bench.story_writer_ab` times whole rounds of two trees, one process after
another: the round's SQL, filing and sketching move it by a tenth with the load, and the
tree run second in a pair often comes out slower whatever it holds. A change to the
rules of `watcher.domain.stories` alone is timed here instead: tree A's and tree B's
`stories.py` are loaded side by side (every other module is this tree's, so only that
file may differ), each sketches the farm's notes (`bench.templated`, seed 8, 200 feeds
× 20 notes), and each note is judged as the writer does it: its `lookup_keys` against
the `filing_keys` of the previous `--candidates` notes of its day from other feeds
(`shortlist`), then `best_story` over them. The judgements of A and B run alternated
(A B, B A, ...) `--pairs` times; printed: each run's process CPU, the joins of each
(a correct clusterer has none) and B ÷ A per pair and its median.

    python -m bench.story_judge_ab --a ../base --b . --pairs 8
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.stories import default_classifier
from bench.templated import templated_item

SEED, FEEDS, NOTES, EPOCH = 8, 200, 20, 1_790_000_000  # scenario 7's farm
WINDOW = timedelta(days=7)
_Note = tuple[int, datetime, Any]  # (feed, publication time, the tree's sketch)


def load_stories(tree: Path, name: str) -> ModuleType:
    """`tree`'s watcher/domain/stories.py as the module `name` (its imports are this
    tree's modules)."""
    spec = importlib.util.spec_from_file_location(name, tree / "watcher/domain/stories.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"no watcher/domain/stories.py in {tree}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def farm_notes() -> list[tuple[int, int, datetime, str, str, list[tuple[str, str]]]]:
    """Every note of the farm: (feed, day index, publication time, title, body, signals),
    dated and classified as `tests/test_stories_templated.py` does."""
    classify = default_classifier()
    out = []
    for feed, index in itertools.product(range(FEEDS), range(NOTES)):
        item = templated_item(SEED, feed, index, EPOCH)
        when = datetime.fromtimestamp(EPOCH - (NOTES - 1 - index) * 60, UTC)
        signals = [(s.type, s.direction.value) for s in classify(item.title, item.body, when)]
        out.append((feed, index, when, item.title, item.body, signals))
    return out


def sketched(stories: ModuleType, notes: list[Any]) -> list[list[_Note]]:
    """The notes sketched by `stories`, grouped by day, in farm order."""
    days: dict[int, list[_Note]] = {}
    for feed, index, when, title, body, signals in notes:
        sketch = stories.sketch_text(title, body, when.date(), signals)
        days.setdefault(index, []).append((feed, when, sketch))
    return list(days.values())


def judge(stories: ModuleType, days: list[list[_Note]], candidates: int) -> int:
    """Judge every note against the previous `candidates` notes of its day; the joins."""
    joins = 0
    for notes in days:
        for at, (feed, when, sketch) in enumerate(notes):
            earlier = notes[max(0, at - candidates) : at]
            postings: dict[int, list[int]] = {}
            for number, (_, _, other) in enumerate(earlier):
                for key in stories.filing_keys(other):
                    postings.setdefault(key, []).append(number)
            stories.shortlist(stories.lookup_keys(sketch), postings)
            found = [
                stories.Candidate(number, f"feed-{other_feed}", other_when, other)
                for number, (other_feed, other_when, other) in enumerate(earlier)
            ]
            joins += stories.best_story(sketch, f"feed-{feed}", when, WINDOW, found) is not None
    return joins


def main() -> int:
    """Print each run's CPU, the joins and B ÷ A per pair and its median."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", type=Path, required=True, help="tree A (the baseline)")
    parser.add_argument("--b", type=Path, required=True, help="tree B")
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("--candidates", type=int, default=12, help="earlier notes judged")
    args = parser.parse_args()
    trees = {"A": load_stories(args.a, "stories_a"), "B": load_stories(args.b, "stories_b")}
    notes = farm_notes()
    days = {name: sketched(module, notes) for name, module in trees.items()}
    times: dict[str, list[float]] = {"A": [], "B": []}
    for run in range(args.pairs):
        for name in ("A", "B") if run % 2 == 0 else ("B", "A"):
            start = time.process_time()
            joins = judge(trees[name], days[name], args.candidates)
            times[name].append(time.process_time() - start)
            print(f"pair {run + 1} {name}: {times[name][-1]:.3f} s, {joins} joins")
    ratios = [b / a for a, b in zip(times["A"], times["B"], strict=True)]
    print(
        f"B/A per pair {', '.join(f'{r:.3f}' for r in ratios)};"
        f" median {statistics.median(ratios):.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
