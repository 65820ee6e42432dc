"""`watcher run --once` of two source trees, alternated on one farm: CPU ratios per round.

    python -m bench.peer_ab --base /path/to/other/tree [--tree B] [--pairs 3] [--n 200]

Each pair is a fresh farm (every item a signal, as in the peer bench) and one SMTP sink;
tree A (`--base`) and tree B (`--tree`, by default this checkout), each imported
through `PYTHONPATH` (copy a tree you keep editing), keep their own database and run
the peer bench's rounds (first, new with `--k` items per feed, idle) as cron runs
them, one after the other in an order that flips from pair to pair. Every run must
mail exactly the expected emails, each once; a run that does not is listed and exits
1. Printed: each run's tree CPU, then per round the median of the pairs' CPU ratios
B ÷ A with their range (ratios, not seconds: the machine is shared).
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.configs import bench_config
from bench.control import ROOT, FarmProcess
from bench.feeds import FarmSpec
from bench.peer import ROUNDS, measured, watcher_command
from bench.sink import SmtpSink


def _run(tree: Path, config: Path, workdir: Path, label: str) -> dict[str, float]:
    """One `run --once` of the watcher in `tree`, measured as the peer bench measures it."""
    saved = {key: os.environ.get(key) for key in ("PYTHONPATH", "PYTHONPYCACHEPREFIX")}
    os.environ["PYTHONPATH"] = f"{tree}{os.pathsep}{ROOT}"
    # bytecode from each tree's own __pycache__ and site-packages', as the peer bench runs
    os.environ.pop("PYTHONPYCACHEPREFIX", None)
    try:
        return measured(watcher_command(config), workdir, label)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def main(argv: list[str] | None = None) -> int:
    """Run the pairs; print the runs and the ratios; 1 when an email count was wrong."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True, help="tree A (the baseline)")
    parser.add_argument("--tree", type=Path, default=ROOT, help="tree B (this checkout)")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--m", type=int, default=20)
    parser.add_argument("--k", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    trees = {"A": args.base.resolve(), "B": args.tree.resolve()}
    os.environ.pop("PYTHONPYCACHEPREFIX", None)
    for tree in trees.values():
        compileall.compile_dir(tree / "watcher", quiet=1)
    ratios: dict[str, list[float]] = {round_: [] for round_ in ROUNDS}
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="peer-ab-") as tmp, SmtpSink() as sink:
        for pair in range(args.pairs):
            spec = FarmSpec(
                n=args.n, m=args.m, seed=args.seed + pair, epoch=int(time.time()),
                signal_fraction=1.0, latency=0.0,
            )  # fmt: skip
            work = Path(tmp) / f"pair-{pair}"
            with FarmProcess(spec, Path(tmp) / f"farm-{pair}.log") as farm:
                urls = [farm.control.url(i) for i in range(spec.n)]
                override = {"polling": {"story_window": "0s"}}
                for label in trees:
                    bench_config(work / label, urls, smtp_port=sink.port, subscribed=True,
                                 override=override)  # fmt: skip
                order = ["A", "B"] if pair % 2 == 0 else ["B", "A"]
                for round_ in ROUNDS:
                    if round_ == "new":
                        farm.control.publish(args.k)
                    expected = {"first": spec.n * spec.m, "new": spec.n * args.k, "idle": 0}
                    cpu: dict[str, float] = {}
                    for label in order:
                        sink.reset()
                        config = work / label / "watcher.yaml"
                        figures = _run(trees[label], config, work / label, f"{label}-{round_}")
                        emails = sink.snapshot()
                        cpu[label] = figures["cpu"]
                        if (
                            emails.messages != expected[round_]
                            or emails.duplicate_message_ids
                            or figures.get("exit") not in (0, None)
                        ):
                            problems.append(
                                f"pair {pair + 1} {round_} {label}: {emails.messages}/"
                                f"{expected[round_]} emails, exit {figures.get('exit')}"
                            )
                        shown = f"emails {emails.messages}/{expected[round_]}"
                        print(f"pair {pair + 1} {round_:<5} {label} cpu {figures['cpu']:.3f} s"
                              f" {shown}", flush=True)  # fmt: skip
                    ratios[round_].append(cpu["B"] / cpu["A"])
    for round_, values in ratios.items():
        print(f"{round_:<5} B/A median {statistics.median(values):.3f}"
              f" ({min(values):.3f}-{max(values):.3f}, {len(values)} pairs)")  # fmt: skip
    for problem in problems:
        print("PROBLEM", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
