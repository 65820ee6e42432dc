"""Two checkouts' `watcher run --once` rounds, A/B on one farm: `python -m bench.once_ab`.

    python -m bench.once_ab --a /tmp/base --b . [--pairs 4] [--n 200] [--m 20] [--k 2]
        [--latency-ms 100] [--rounds first,new,idle] [--out FILE.json]

The peer scenario's rounds (`bench.peer`: a farm of N feeds × M supply-shock items, one
SMTP sink, story clustering off) for the watcher alone, each tree run as cron runs it:
its own `.venv/bin/watcher run --once` with `PYTHONPATH` set to that tree (never this
checkout's, the mistake `bench.peer`'s defaults invite), its watcher modules compiled in
place first, as an install compiles them. Every pair is a fresh farm and two fresh data
folders; in each round the two trees run one after the other, the order alternating
from pair to pair. Each run is measured as `bench.peer` measures one (`measured`: wall
from start to exit and CPU of the whole process tree by `bench.treerun`, peak tree PSS)
and must leave exactly the expected emails at the sink, each Message-ID once; the
sink's first and last accepted message give the run's delivery span from its start.

Prints one line a run and, per round, the median and range of the B ÷ A ratios of wall
and CPU over the pairs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.configs import bench_config
from bench.control import FarmProcess
from bench.feeds import FarmSpec
from bench.peer import measured
from bench.sink import SmtpSink

Result = dict[str, Any]
TREES = ("A", "B")


def compile_tree(tree: Path) -> None:
    """Write the bytecode of the tree's watcher modules in place, as an install would
    (`bench.peer.compile_watcher`); the venv's libraries were compiled at install."""
    python = str(tree / ".venv/bin/python")
    command = [python, "-m", "compileall", "-q", str(tree / "watcher")]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def run_once(tree: Path, config: Path, workdir: Path, label: str) -> Result:
    """`watcher run --once` of `tree`, measured (`bench.peer.measured`); with its start."""
    command = [str(tree / ".venv/bin/watcher"), "run", "--once", "--config", str(config)]
    started = time.time()
    return measured(command, workdir, label, tree=tree) | {"started": started}


def one_pair(args: argparse.Namespace, index: int, trees: dict[str, Path], tmp: Path,
             sink: SmtpSink) -> list[Result]:  # fmt: skip
    """One farm, both trees, every round asked for; one result a run."""
    spec = FarmSpec(
        n=args.n, m=args.m, seed=args.seed + index, epoch=int(time.time()),
        signal_fraction=1.0, latency=args.latency_ms / 1000,
    )  # fmt: skip
    workdir = tmp / f"pair-{index + 1}"
    workdir.mkdir(parents=True)
    results: list[Result] = []
    with FarmProcess(spec, workdir / "farm.log") as farm:
        urls = [farm.control.url(i) for i in range(spec.n)]
        configs = {}
        for name in TREES:
            bench_config(
                workdir / name, urls, smtp_port=sink.port, subscribed=True,
                override={"polling": {"story_window": "0s"}},
            )  # fmt: skip
            configs[name] = workdir / name / "watcher.yaml"
        for round_ in ("first", "new", "idle"):
            expected = {"first": spec.n * spec.m, "new": spec.n * args.k, "idle": 0}[round_]
            if round_ == "new":
                farm.control.publish(args.k)
            order = TREES if index % 2 == 0 else TREES[::-1]
            for name in order:
                sink.reset()
                figures = run_once(trees[name], configs[name], workdir / name, round_)
                counts = sink.snapshot()
                start = figures.pop("started")
                figures |= {
                    "pair": index + 1, "tree": name, "round": round_,
                    "emails": counts.messages, "expected": expected,
                    "duplicates": counts.duplicate_message_ids,
                    "first_email": (counts.first_accept_at or start) - start,
                    "last_email": (counts.last_accept_at or start) - start,
                }  # fmt: skip
                ok = (
                    counts.messages == expected
                    and not counts.duplicate_message_ids
                    and figures["exit"] == 0
                )
                figures["ok"] = ok
                results.append(figures)
                print(
                    f"pair {index + 1} {round_:<5} {name} wall {figures['wall']:6.2f}"
                    f" cpu {figures['cpu']:6.2f} emails {counts.messages}/{expected}"
                    f" first/last email {figures['first_email']:5.2f}/"
                    f"{figures['last_email']:5.2f} s{'' if ok else '  PROBLEM'}",
                    flush=True,
                )
    return results


def summary(results: list[Result]) -> str:
    """Per round: B ÷ A median and range of wall and CPU over the pairs."""
    lines = []
    for round_ in ("first", "new", "idle"):
        by_pair: dict[int, dict[str, Result]] = {}
        for r in results:
            if r["round"] == round_:
                by_pair.setdefault(r["pair"], {})[r["tree"]] = r
        pairs = [p for p in by_pair.values() if set(p) == set(TREES)]
        if not pairs:
            continue
        for key in ("wall", "cpu"):
            ratios = sorted(p["B"][key] / p["A"][key] for p in pairs)
            lines.append(
                f"{round_:<5} {key:<4} B/A median {statistics.median(ratios):.3f}"
                f" (range {ratios[0]:.3f}–{ratios[-1]:.3f}, {len(ratios)} pairs)"
            )
    bad = [r for r in results if not r["ok"]]
    lines.append(f"runs with a problem: {len(bad)}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--a", type=Path, required=True)
    p.add_argument("--b", type=Path, required=True)
    p.add_argument("--pairs", type=int, default=4)
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--m", type=int, default=20)
    p.add_argument("--k", type=int, default=2)
    p.add_argument("--seed", type=int, default=8)
    p.add_argument("--latency-ms", type=float, default=100.0)
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    trees = {"A": args.a.resolve(), "B": args.b.resolve()}
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="once-ab-") as scratch:
        tmp = Path(scratch)
        for tree in trees.values():
            compile_tree(tree)
        with SmtpSink() as sink:
            for index in range(args.pairs):
                results += one_pair(args, index, trees, tmp, sink)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(summary(results))
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
