"""The CPU of `text_facts` and of `sketch_text`, and a check that a speed change to them
changes no result.

The items are the real story items (`tests/data/stories/real/items.jsonl`), the synthetic
stories (`tests/data/stories/stories.yaml`, each with its day), the real-text corpus
(`tests/data/realtext/corpus.jsonl`, its labels as the signals) and `TEMPLATED` notes of
the templated farm (`bench.templated`, each with its day), each passed as
`watcher.domain.stories.sketch_text` passes it: the normal text, the title's line
breaks, the day, the signals and, for an ASCII text, its content words.

    python -m bench.text_facts_speed --save out.jsonl     # the results, before a change
    python -m bench.text_facts_speed --check out.jsonl    # after it: exit 1 on any difference
    python -m bench.text_facts_speed --time               # CPU µs per item, one cold pass
    python -m bench.text_facts_speed --ab ../main --passes 6  # this tree against another

`--root TREE` imports `watcher` from another checkout (the same command on `main`);
`--ab TREE` loads the other checkout's `story_facts` beside this one's and times their
`text_facts` in one process, alternating every few items (`alternated`), printing each
pass's CPU ratio (this tree over the other) and their median. Results
are compared as the `repr` of the sorted facts and the hex of the encoded sketch with
its sorted index keys; no item is printed unless it differs.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "realtext" / "corpus.jsonl"
REAL_ITEMS = ROOT / "tests" / "data" / "stories" / "real" / "items.jsonl"
TEMPLATED = (75, 40)  # templated feeds, notes per feed: 3,000 notes
EPOCH = 1_764_000_000  # the templated notes' latest day (2025-11-24)
_SIGNALS = (("export_control", "tightening"),)  # what the classifier finds in a firing note

Item = tuple[str, str, str, date | None, tuple[tuple[str, str], ...]]


def items() -> Iterator[Item]:
    """(key, title, body, day, signals) of every item, in a fixed order."""
    from bench.labelled import labelled_rows
    from bench.stories import load_items
    from bench.templated import templated_item

    yield from labelled_rows(REAL_ITEMS, "real")
    for number, story in enumerate(load_items()):
        yield f"stories:{story.story}:{number}", story.title, story.body, story.published.date(), ()
    yield from labelled_rows(CORPUS, "corpus")
    latest = datetime.fromtimestamp(EPOCH, UTC).date()
    feeds, notes = TEMPLATED
    for feed in range(feeds):
        for index in range(notes):
            note = templated_item(7, feed, index, EPOCH)
            signals = _SIGNALS if note.signal else ()
            when = latest - timedelta(days=index)
            yield f"templated:{feed}:{index}", note.title, note.body, when, signals


def fact_inputs(every: list[Item]) -> list[tuple[Any, ...]]:
    """Each item's arguments to `text_facts` as `sketch_text` passes them, after its key."""
    from watcher.domain import stories
    from watcher.domain.story_facts import normal_text

    out: list[tuple[Any, ...]] = []
    for key, title, body, when, signals in every:
        text = normal_text(title, body)
        words = None
        if text.isascii():
            lowered = stories._THOUSANDS.sub("", text.lower()).encode()
            words = stories._ascii_content_words(stories._ASCII_BYTES_TOKEN.findall(lowered))
        out.append((key, text, title.count("\n"), when, signals, words))
    return out


def results() -> Iterator[str]:
    """One line per item: its key, its sorted facts, its encoded sketch and index keys."""
    from watcher.domain.stories import encode_sketch, index_keys, sketch_text
    from watcher.domain.story_facts import text_facts

    every = list(items())
    for (key, title, body, when, signals), args in zip(every, fact_inputs(every), strict=True):
        facts = sorted(text_facts(*args[1:]))
        sketch = sketch_text(title, body, when, signals)
        encoded = encode_sketch(sketch).hex()
        yield repr((key, facts, encoded, sorted(index_keys(sketch))))


def _cpu(work: Callable[..., Any], every: list[tuple[Any, ...]]) -> float:
    """CPU µs per item of `work(*item[1:])` over `every`, in one pass."""
    start = time.process_time()
    for item in every:
        work(*item[1:])
    return (time.process_time() - start) / len(every) * 1e6


def timed() -> tuple[float, float]:
    """CPU µs per item of `text_facts` and of `sketch_text` over every item, one pass each.

    One pass, each in a fresh state: its caches hold only what a one-line warm-up (the
    automata of the term tables) put there, not the items of an earlier pass, as in a
    cold round; repeat the whole command (`--ab`) for a spread.
    """
    from watcher.domain.stories import sketch_text
    from watcher.domain.story_facts import normal_text, text_facts

    text_facts(normal_text("Warm-up", "A warm-up line of 3 words."), 0)
    every = list(items())
    facts = _cpu(text_facts, fact_inputs(every))
    from watcher.domain import stories, story_facts

    for cached in _caches(story_facts, stories):
        cached.cache_clear()
    return facts, _cpu(sketch_text, every)


def _caches(*modules: ModuleType) -> list[Any]:
    """The bounded caches (`functools.lru_cache` with a size) of `modules`: emptied
    between timed passes, so that each starts as cold as the first."""
    return [
        value
        for module in modules
        for value in vars(module).values()
        if callable(getattr(value, "cache_parameters", None))
        and value.cache_parameters()["maxsize"] is not None
    ]


def _module_of(tree: Path) -> ModuleType:
    """`watcher.domain.story_facts` as `tree` (another checkout) writes it, as a module of
    its own beside this tree's (the modules it imports are this tree's)."""
    path = tree / "watcher" / "domain" / "story_facts.py"
    spec = importlib.util.spec_from_file_location("other_story_facts", path)
    assert spec is not None, path
    assert spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def alternated(other: Path, passes: int, chunk: int = 50) -> list[float]:
    """`passes` CPU ratios of `text_facts`, this tree's over `other`'s, in one process.

    Each pass runs both over every item, `chunk` items at a time, the side that goes
    first alternating from chunk to chunk (the machine is shared: a load that comes and
    goes falls on both), with every bounded cache of both emptied before it.
    """
    from watcher.domain import story_facts

    theirs = _module_of(other)
    every = fact_inputs(list(items()))
    sides = (story_facts.text_facts, theirs.text_facts)
    for text_facts in sides:  # the automata of the term tables, built once
        text_facts(story_facts.normal_text("Warm-up", "A warm-up line of 3 words."), 0)
    out = []
    for number in range(passes):
        for module in (story_facts, theirs):
            for cached in _caches(module):
                cached.cache_clear()
        spent = [0.0, 0.0]
        for at in range(0, len(every), chunk):
            part = every[at : at + chunk]
            order = (0, 1) if (at // chunk + number) % 2 else (1, 0)
            for side in order:
                spent[side] += _cpu(sides[side], part) * len(part)
        out.append(spent[0] / spent[1])
        print(f"pass {number + 1}: text_facts {out[-1]:.3f} (this tree over {other})", flush=True)
    return out


def main() -> int:
    """Save, check, time or compare; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, help="import watcher from this checkout")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", type=Path, help="write the results here")
    group.add_argument("--check", type=Path, help="compare the results with this dump")
    group.add_argument("--time", action="store_true", help="CPU µs per item, one cold pass")
    group.add_argument("--ab", type=Path, metavar="TREE", help="alternated pairs against TREE")
    parser.add_argument("--passes", type=int, default=6, help="passes for --ab")
    args = parser.parse_args()
    if args.root:
        sys.path.insert(0, str(args.root.resolve()))
    if args.time:
        facts, sketch = timed()
        print(f"{facts:.2f} {sketch:.2f} µs per item (text_facts, sketch_text; CPU)")
        return 0
    if args.ab:
        ratios = alternated(args.ab.resolve(), args.passes)
        print(f"median ratio: text_facts {statistics.median(ratios):.3f}")
        return 0
    lines = list(results())
    if args.save:
        args.save.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        print(f"saved {len(lines)} items to {args.save}")
        return 0
    saved = args.check.read_text(encoding="utf-8").splitlines()
    differ = [n for n, (a, b) in enumerate(zip(saved, lines, strict=False)) if a != b]
    if differ or len(saved) != len(lines):
        print(f"{len(differ)} of {len(lines)} items differ (saved {len(saved)})")
        print(f"the first at lines {[n + 1 for n in differ[:5]]}")
        return 1
    print(f"identical: {len(lines)} items")
    return 0


if __name__ == "__main__":
    sys.exit(main())
