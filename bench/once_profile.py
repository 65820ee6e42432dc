"""py-spy over `watcher run --once` rounds on the peer farm: `python -m bench.once_profile`.

    python -m bench.once_profile OUT_STEM [--tree TREE] [--n 200] [--m 20] [--gil]
        [--rate 250] [--rounds first]

The same farm, sink and config as `bench.once_ab` (N feeds × M supply-shock items, 100 ms
latency, story clustering off), the tree's own `.venv/bin/watcher run --once` with
`PYTHONPATH` set to the tree, its watcher modules compiled in place first, started under
`py-spy record --subprocesses --threads --format raw`. Writes `OUT_STEM-<round>.collapsed.txt`
and its ranking (`bench.profiling.format_ranking`) beside it, and prints the ranking and
the count of emails the sink accepted (which must be the expected count).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.configs import bench_config
from bench.control import FarmProcess
from bench.feeds import FarmSpec
from bench.once_ab import compile_tree
from bench.profiling import format_ranking, rank_stacks, read_collapsed
from bench.sink import SmtpSink


def _run(command: list[str], cwd: Path, tree: Path) -> None:
    """`command` in `cwd` with `tree` on `PYTHONPATH`, its output dropped; it must succeed."""
    env = os.environ | {"PYTHONPATH": str(tree)}
    subprocess.run(
        command, cwd=cwd, env=env, check=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("out", type=Path)
    p.add_argument("--tree", type=Path, default=Path.cwd())
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--m", type=int, default=20)
    p.add_argument("--k", type=int, default=2)
    p.add_argument("--seed", type=int, default=8)
    p.add_argument("--latency-ms", type=float, default=100.0)
    p.add_argument("--gil", action="store_true")
    p.add_argument("--rate", type=int, default=250)
    p.add_argument("--rounds", default="first")
    args = p.parse_args(argv)
    tree = args.tree.resolve()
    compile_tree(tree)
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    spec = FarmSpec(
        n=args.n, m=args.m, seed=args.seed, epoch=int(time.time()),
        signal_fraction=1.0, latency=args.latency_ms / 1000,
    )  # fmt: skip
    rounds = args.rounds.split(",")
    ok = True
    with tempfile.TemporaryDirectory(prefix="once-profile-") as scratch:
        workdir = Path(scratch)
        with SmtpSink() as sink, FarmProcess(spec, workdir / "farm.log") as farm:
            urls = [farm.control.url(i) for i in range(spec.n)]
            bench_config(
                workdir / "w", urls, smtp_port=sink.port, subscribed=True,
                override={"polling": {"story_window": "0s"}},
            )  # fmt: skip
            config = workdir / "w" / "watcher.yaml"
            for round_ in ("first", "new", "idle"):
                if round_ == "new":
                    farm.control.publish(args.k)
                expected = {"first": spec.n * spec.m, "new": spec.n * args.k, "idle": 0}
                watcher = [str(tree / ".venv/bin/watcher"), "run", "--once", "--config",
                           str(config)]  # fmt: skip
                sink.reset()
                if round_ not in rounds:
                    _run(watcher, workdir / "w", tree)
                    continue
                raw = args.out.with_name(f"{args.out.name}-{round_}.collapsed.txt")
                command = [
                    spy, "record", *(["--gil"] if args.gil else []), "--threads",
                    "--subprocesses", "--rate", str(args.rate), "--format", "raw",
                    "--output", str(raw), "--", *watcher,
                ]  # fmt: skip
                _run(command, workdir / "w", tree)
                counts = sink.snapshot()
                text = format_ranking(rank_stacks(read_collapsed(raw)))
                raw.with_name(raw.name.replace(".collapsed.txt", ".ranking.txt")).write_text(text)
                print(
                    f"== {round_}: emails {counts.messages}/{expected[round_]}, "
                    f"duplicates {counts.duplicate_message_ids}"
                )
                print(text)
                ok = ok and counts.messages == expected[round_]
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
