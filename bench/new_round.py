"""The new-items round alone, repeated from one saved state: `python -m bench.new_round`.

    python -m bench.new_round --a TREE [--b TREE] [--pairs 6] [--idle] [--spy OUT [--gil]]
        [--script FILE] [--logs DIR] [--n 200] [--m 20] [--k 2] [--latency-ms 100]

One farm (the peer's: N feeds x M supply-shock items, 100 ms latency) and one SMTP
sink. Each tree runs the first round once in its own data folder, which is saved, then
K new items per feed are published. Every later run of a tree starts from a copy of its
saved folder, so each is the same new-items round (N x K emails) on the same farm:
with `--b`, A and B alternate (A B, then B A, ...) for `--pairs` pairs and the B / A
median and range of wall and tree CPU are printed, each run measured as
`bench.once_ab` measures one (`bench.peer.measured`) and checked for every expected
email once. With `--idle`, each tree's new round is followed by an idle one (all 304)
and the idle CPU ratio is printed too. With `--spy OUT`, tree A's round runs once under
`py-spy record --format raw --rate 200` instead (`--gil`: only the thread holding the
GIL), its samples written to OUT. `--script FILE` runs `python FILE CONFIG` in the new
rounds instead of the console script (a probe that wraps `watcher.ops.startup.start`).
`--logs DIR` keeps every run's output (with `PYTHONPROFILEIMPORTTIME=1` set, the
imports of each).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.configs import bench_config
from bench.control import FarmProcess
from bench.feeds import FarmSpec
from bench.once_ab import compile_tree
from bench.peer import measured
from bench.sink import SmtpSink


def _restore(saved: Path, data: Path) -> None:
    if data.exists():
        shutil.rmtree(data)
    shutil.copytree(saved, data)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--a", type=Path, required=True)
    p.add_argument("--b", type=Path)
    p.add_argument("--pairs", type=int, default=6)
    p.add_argument("--spy", type=Path)
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--m", type=int, default=20)
    p.add_argument("--k", type=int, default=2)
    p.add_argument("--seed", type=int, default=8)
    p.add_argument("--latency-ms", type=float, default=100.0)
    p.add_argument("--gil", action="store_true", help="with --spy: only the thread holding the GIL")
    p.add_argument(
        "--script",
        type=Path,
        help="run `python SCRIPT CONFIG` in the new round instead of the console script",
    )
    p.add_argument("--idle", action="store_true", help="after each new round, an idle one")
    p.add_argument("--logs", type=Path, help="copy every run's log here (e.g. -X importtime)")
    args = p.parse_args(argv)
    trees = {"A": args.a.resolve()} | ({"B": args.b.resolve()} if args.b else {})
    for tree in trees.values():
        compile_tree(tree)
    spec = FarmSpec(
        n=args.n, m=args.m, seed=args.seed, epoch=int(time.time()),
        signal_fraction=1.0, latency=args.latency_ms / 1000,
    )  # fmt: skip
    failures = 0
    with tempfile.TemporaryDirectory(prefix="new-round-") as scratch, SmtpSink() as sink:
        work = Path(scratch)
        with FarmProcess(spec, work / "farm.log") as farm:
            urls = [farm.control.url(i) for i in range(spec.n)]
            config, data, saved = {}, {}, {}
            for name, tree in trees.items():  # each tree's own first round and data folder
                bench_config(
                    work / name, urls, smtp_port=sink.port, subscribed=True,
                    override={"polling": {"story_window": "0s"}},
                )  # fmt: skip
                config[name] = work / name / "watcher.yaml"
                data[name], saved[name] = work / name / "data", work / name / "saved"
                command = [str(tree / ".venv/bin/watcher"), "run", "--once", "--config"]
                first = measured([*command, str(config[name])], work, f"first-{name}", tree=tree)
                print(f"first round {name}: wall {first['wall']:.2f} cpu {first['cpu']:.2f}",
                      flush=True)  # fmt: skip
                shutil.copytree(data[name], saved[name])
            farm.control.publish(args.k)
            expected = spec.n * args.k
            watcher = [str(trees["A"] / ".venv/bin/watcher"), "run", "--once", "--config"]
            if args.spy:
                _restore(saved["A"], data["A"])
                sink.reset()
                spy = [
                    str(trees["A"] / ".venv/bin/py-spy"), "record", "--format", "raw",
                    "--rate", "200", "--subprocesses", "-o", str(args.spy.resolve()),
                    *(["--gil"] if args.gil else []), "--",
                ]  # fmt: skip
                if args.script:
                    watcher = [str(trees["A"] / ".venv/bin/python"), str(args.script.resolve())]
                try:
                    run = measured([*spy, *watcher, str(config["A"])], work, "spy", tree=trees["A"])
                except FileNotFoundError:
                    print((work / "spy.log").read_text(errors="replace")[-3000:])
                    return 1
                counts = sink.snapshot()
                print(f"spy run: wall {run['wall']:.2f} cpu {run['cpu']:.2f}"
                      f" emails {counts.messages}/{expected}")  # fmt: skip
                failures += counts.messages != expected
                args.pairs = 0
            ratios: dict[str, list[float]] = {"wall": [], "cpu": [], "idle-cpu": []}
            for index in range(args.pairs):
                names = list(trees) if index % 2 == 0 else list(trees)[::-1]
                figures = {}
                for name in names:
                    _restore(saved[name], data[name])
                    sink.reset()
                    command = [str(trees[name] / ".venv/bin/watcher"), "run", "--once",
                               "--config", str(config[name])]  # fmt: skip
                    if args.script:
                        command = [str(trees[name] / ".venv/bin/python"),
                                   str(args.script.resolve()), str(config[name])]  # fmt: skip
                    run = measured(command, work, f"{name}-{index}", tree=trees[name])
                    counts = sink.snapshot()
                    ok = (counts.messages == expected and not counts.duplicate_message_ids
                          and run["exit"] == 0)  # fmt: skip
                    failures += not ok
                    figures[name] = run
                    print(f"pair {index + 1} {name} wall {run['wall']:.2f} cpu {run['cpu']:.2f}"
                          f" (user {run['user']:.2f} system {run['system']:.2f})"
                          f" emails {counts.messages}/{expected}{'' if ok else '  PROBLEM'}",
                          flush=True)  # fmt: skip
                    if args.idle:  # the same tree again: every feed answers 304
                        sink.reset()
                        idle = measured(command, work, f"{name}-{index}-idle", tree=trees[name])
                        idle_ok = sink.snapshot().messages == 0 and idle["exit"] == 0
                        failures += not idle_ok
                        figures[f"{name}-idle"] = idle
                        print(f"pair {index + 1} {name} idle wall {idle['wall']:.2f}"
                              f" cpu {idle['cpu']:.2f}{'' if idle_ok else '  PROBLEM'}",
                              flush=True)  # fmt: skip
                if "B" in figures:
                    for key in ("wall", "cpu"):
                        ratios[key].append(figures["B"][key] / figures["A"][key])
                    if args.idle:
                        ratios["idle-cpu"].append(
                            figures["B-idle"]["cpu"] / figures["A-idle"]["cpu"]
                        )
            for key, values in ratios.items():
                if values:
                    values.sort()
                    print(
                        f"{key} B/A median {statistics.median(values):.3f}"
                        f" (range {values[0]:.3f}-{values[-1]:.3f}, {len(values)} pairs)"
                    )
        if args.logs:
            args.logs.mkdir(parents=True, exist_ok=True)
            for log in work.glob("*.log"):
                shutil.copy(log, args.logs / log.name)
    print(f"runs with a problem: {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
