"""Save a dump of outputs, or check the outputs against a saved dump.

Shared by the speed guards (`bench.classify_outputs`, `bench.story_facts_outputs`,
`bench.sketch_speed`): one JSON line per item, compared line by line; their command line
(`guard_parser`) and, for the two that time their work, `cpu_per_item`.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


def guard_parser(description: str, timed: bool = True) -> argparse.ArgumentParser:
    """A parser whose one required action is `--save FILE`, `--check FILE` or, when
    `timed`, `--time RUNS`."""
    parser = argparse.ArgumentParser(description=description)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", type=Path, help="write the outputs here")
    group.add_argument("--check", type=Path, help="compare the outputs with this dump")
    if timed:
        group.add_argument("--time", type=int, metavar="RUNS", help="CPU µs per item, best of RUNS")
    return parser


def cpu_per_item(work: Callable[..., Any], every: Sequence[tuple[Any, ...]], repeats: int) -> float:
    """CPU microseconds per item of `work(*item[1:])` (an item less its key) over `every`,
    the best of `repeats` runs."""
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        for item in every:
            work(*item[1:])
        best = min(best, time.process_time() - start)
    return best / len(every) * 1e6


def save_or_check(lines: list[str], save: Path | None, check: Path | None, what: str = "") -> int:
    """Write `lines` to `save`, or compare them with the dump at `check`.

    Returns 0 when saved or identical, 1 when any line or the count differs (the first
    five differences are printed). `what` is added to the summary line.
    """
    suffix = f", {what}" if what else ""
    if save is not None:
        save.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        print(f"saved {len(lines)} items{suffix} to {save}")
        return 0
    assert check is not None, "either save or check"
    saved = check.read_text(encoding="utf-8").splitlines()
    differ = [(old, new) for old, new in zip(saved, lines, strict=False) if old != new]
    if len(saved) != len(lines):
        print(f"item count differs: saved {len(saved)}, now {len(lines)}")
    for old, new in differ[:5]:
        print(f"- {old}\n+ {new}")
    if differ or len(saved) != len(lines):
        print(f"{len(differ)} of {len(lines)} items differ")
        return 1
    print(f"identical: {len(lines)} items{suffix}")
    return 0
