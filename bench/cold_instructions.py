"""Instructions of a cold `watcher run --once` round, counted by callgrind, A/B.

    python -m bench.cold_instructions --a TREE [--b TREE] [--n 40] [--m 20] [--repeats 1]
        [--latency-ms 100] [--keep DIR]

The cold scenario of `bench.run` (a farm of N feeds × M items, a quarter of them supply
shocks, every item new, story clustering on with the default window, no subscriber) as
cron runs it: for each tree and repeat, a fresh data folder and one `watcher run --once`
(the tree's `.venv`, `PYTHONPATH` set to it, compiled in place first) under
`valgrind --tool=callgrind` (`bench.callgrind.child_instructions`), and its instruction
count. Instructions do not depend on the machine's load; what remains is the round's own
run-to-run variation (which poll finishes first, how many rows a writer batch takes),
shown as the spread of the repeats.

Valgrind runs the threads one at a time and about 50 times slower, so the deadlines
that would otherwise change what the round does are lifted (`DEADLINES`): no request,
poll or parse times out and no parse worker process starts (callgrind would not count
it). The round must exit 0 and store N × M items. Every database is compared with the
first one of tree A by `bench.same_db` (the same items, signals, stories and outbox
rows); a difference fails the run (exit 1). Prints each run's count, each tree's median
and spread, and B ÷ A of the medians.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.callgrind import child_instructions, compile_in_place
from bench.configs import bench_config
from bench.control import FarmProcess
from bench.feeds import FarmSpec
from bench.same_db import Rows, contents, differences

# lifted so that valgrind's slowness changes nothing the round decides
DEADLINES = {
    "http": {"timeout": "1h", "connect_timeout": "1h", "read_timeout": "1h"},
    "polling": {"parse_timeout": "1h", "parse_backlog": "10h"},
}
SOURCE_DEADLINES = {"timeout": "2h"}

_CHILD = """
import sys
sys.argv = ["watcher", "run", "--once", "--config", sys.argv[1]]
from watcher.__main__ import main
main()
"""


def cold_round(tree: Path, folder: Path, urls: list[str]) -> tuple[int, Path]:
    """One cold round of `tree` in a fresh `folder` under callgrind: (instructions, db)."""
    bench_config(folder, urls, override=DEADLINES, source_override=SOURCE_DEADLINES)
    count, _ = child_instructions(tree, _CHILD, str(folder / "watcher.yaml"))
    return count, folder / "data" / "watcher.db"


def stored_items(db: Path) -> int:
    """How many items the round stored."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT count(*) FROM items").fetchone()[0])


def spread(counts: list[int]) -> str:
    """Median and (max − min) ÷ median of a tree's counts."""
    middle = statistics.median(counts)
    return f"median {middle / 1e6:,.1f} M, spread {(max(counts) - min(counts)) / middle:.4f}"


def checked(name: str, run: int, count: int, db: Path, expected: int,
            reference: dict[str, Rows]) -> bool:  # fmt: skip
    """Print one run's count and how its database compares; True when it is as it should
    be (`expected` items, no row differing from `reference`)."""
    stored = stored_items(db)
    differing = {t: d for t, (_, _, d) in differences(reference, contents(db)).items() if d}
    ok = stored == expected and not differing
    print(
        f"{name} run {run}: {count / 1e6:,.1f} M instructions, {stored} items,"
        f" differing from A run 1: {differing or 'none'}{'' if ok else '  PROBLEM'}",
        flush=True,
    )
    return ok


def rounds(args: argparse.Namespace, trees: dict[str, Path]) -> tuple[dict[str, list[int]], int]:
    """Every tree's `args.repeats` cold rounds on one farm: the counts by tree, and how
    many runs had a problem (`checked`)."""
    spec = FarmSpec(
        n=args.n, m=args.m, seed=args.seed, epoch=int(time.time()),
        latency=args.latency_ms / 1000,
    )  # fmt: skip
    counts: dict[str, list[int]] = {name: [] for name in trees}
    problems = 0
    with tempfile.TemporaryDirectory(prefix="cold-ir-") as scratch:
        work = Path(scratch)
        with FarmProcess(spec, work / "farm.log") as farm:
            urls = [farm.control.url(i) for i in range(spec.n)]
            reference: dict[str, Rows] | None = None
            for repeat in range(1, args.repeats + 1):
                for name, tree in trees.items():
                    count, db = cold_round(tree, work / f"{name}-{repeat}", urls)
                    counts[name].append(count)
                    reference = reference or contents(db)
                    problems += not checked(name, repeat, count, db, spec.n * spec.m, reference)
                    if args.keep:
                        args.keep.mkdir(parents=True, exist_ok=True)
                        shutil.copy(db, args.keep / f"{name}-{repeat}.db")
    return counts, problems


def main(argv: list[str] | None = None) -> int:
    """Run every tree's rounds on one farm; print counts, spreads and B ÷ A."""
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--a", type=Path, default=Path.cwd())
    p.add_argument("--b", type=Path)
    p.add_argument("--n", type=int, default=40, help="feeds")
    p.add_argument("--m", type=int, default=20, help="items a feed")
    p.add_argument("--repeats", type=int, default=1, help="rounds a tree")
    p.add_argument("--latency-ms", type=float, default=100.0)
    p.add_argument("--seed", type=int, default=8)
    p.add_argument("--keep", type=Path, help="copy every run's database here")
    args = p.parse_args(argv)
    trees = {"A": args.a.resolve()} | ({"B": args.b.resolve()} if args.b else {})
    for tree in trees.values():
        compile_in_place(tree)
    counts, problems = rounds(args, trees)
    for name, found in counts.items():
        print(f"{name} {trees[name]}: {spread(found)}")
    if "B" in counts:
        ratio = statistics.median(counts["B"]) / statistics.median(counts["A"])
        print(f"B / A = {ratio:.4f}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
