"""Classification CPU of two source trees, in alternated pairs of fresh processes.

    python -m bench.classify_ab /work/main /work/mine [--pairs 8] [--runs 3]

Each process imports the classifier from one tree (`PYTHONPATH`), builds the default
rules, classifies the items once to warm up, then times `--runs` passes over them in
CPU time of that process and prints the best, so other processes on a shared machine
count as little as they can. The items are those of `bench_classify` at dev-set density
and the dev split of the real-text corpus (never the held-back split). Pairs run A then
B, then B then A, so a drift of the machine's load falls on both sides; the figure is
the median of the pairs' B/A ratios (below 1: B is cheaper).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "realtext" / "corpus.jsonl"


def _items(count: int) -> list[tuple[str, str]]:
    """The timed items: `bench_classify`'s headline mix, then the corpus's dev split."""
    from bench.bench_classify import build_items

    items = build_items(count)
    with CORPUS.open(encoding="utf-8") as rows:
        for row in map(json.loads, rows):
            if row["split"] == "dev":
                items.append((row["title"], row["body"]))
    return items


def _child(count: int, runs: int) -> None:
    """Print the best CPU seconds of `runs` passes over the items (run in the tree's process)."""
    import watcher
    from watcher.classify.engine import Classifier
    from watcher.config.load import load_config

    classifier = Classifier.from_config(load_config(ROOT / "config" / "watcher.yaml"), warn=False)
    items = _items(count)
    classify = classifier.classify
    for title, body in items:
        classify(title, body)
    best = float("inf")
    for _ in range(runs):
        start = time.process_time()
        for title, body in items:
            classify(title, body)
        best = min(best, time.process_time() - start)
    print(watcher.__file__, best)


def _time(tree: Path, count: int, runs: int) -> float:
    """The CPU seconds a fresh process importing `tree` reports."""
    env = {**os.environ, "PYTHONPATH": f"{tree}{os.pathsep}{ROOT}"}
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(count), str(runs)],
        env=env,
        cwd=tree,
        check=True,
        capture_output=True,
        text=True,
    )
    where, seconds = out.stdout.split()
    if not where.startswith(str(tree)):
        raise SystemExit(f"{tree}: the classifier came from {where}")
    return float(seconds)


def main(argv: list[str] | None = None) -> int:
    """Print each pair's ratio and the median ratio B/A."""
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--child"]:
        _child(int(argv[1]), int(argv[2]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--items", type=int, default=2_000)
    args = parser.parse_args(argv)
    ratios = []
    for pair in range(args.pairs):
        order = (args.a, args.b) if pair % 2 == 0 else (args.b, args.a)
        seconds = {tree: _time(tree, args.items, args.runs) for tree in order}
        ratios.append(seconds[args.b] / seconds[args.a])
        print(f"pair {pair + 1}: B/A {ratios[-1]:.3f}", flush=True)
    print(f"median B/A over {len(ratios)} pairs: {statistics.median(ratios):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
