"""Instructions of an idle `watcher run --once` and of its imports, load-independent.

    python -m bench.once_instructions [--a TREE] [--b TREE] [--n 200] [--m 20] [--imports]

CPU time of a cron round moves by ±20 % with the machine's load; the instructions a
process runs do not. For each tree (its own `.venv/bin/watcher`, `PYTHONPATH` set to it,
its watcher modules compiled in place first, as `bench.once_ab` runs one), on the peer
farm of `bench.once_ab` (N feeds × M supply-shock items, story clustering off) with its
own data folder: the first round runs as usual, then the idle round (every feed 304,
nothing due) runs under `valgrind --tool=callgrind` and its instructions (Ir) are
printed. The idle round must exit 0 and send nothing. Valgrind runs the threads one at a
time and about 50 times slower; an idle round has no parse or mail work whose timing
could change what it does, so its count is the round's own (about a minute a run).

With `--imports`, also the instructions of importing the service's modules as the round
does, one group more at a time (garbage collection off, as `watcher.ops.memory` has it
during start-up): where the start-up's instructions go, group by group, for each tree.
With `--b`, the B ÷ A ratio of each figure.
"""

from __future__ import annotations

import argparse
import os
import re
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
from bench.sink import SmtpSink

# modules imported one group more at a time (`--imports`); each line adds its group
IMPORT_GROUPS = (
    ("watcher (structlog, asyncio)", "watcher"),
    ("start-up and logging", "watcher.ops.startup, watcher.ops.log"),
    ("config (pydantic, schema, yaml)", "watcher.config"),
    ("aiohttp (watcher.sources.tls)", "watcher.sources.tls"),
    ("sqlalchemy", "sqlalchemy"),
    ("store (tables, db)", "watcher.store.db, watcher.store.due"),
    ("sources", "watcher.sources"),
    ("analysis (stories, lint)", "watcher.service.analysis"),
    ("pipeline", "watcher.service.pipeline"),
    ("dispatch, digests", "watcher.notify.dispatch, watcher.notify.digest"),
    ("runtime, rounds", "watcher.service.runtime, watcher.service.rounds"),
)
_TOTALS = re.compile(rb"^(?:summary|totals): (\d+)", re.MULTILINE)


def callgrind_ir(command: list[str], cwd: Path, tree: Path, out: Path) -> tuple[int, int]:
    """`command` under callgrind with `tree` on `PYTHONPATH`: (instructions, exit status)."""
    env = os.environ | {"PYTHONPATH": str(tree)}
    wrapped = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "-q", *command]
    done = subprocess.run(wrapped, cwd=cwd, env=env, capture_output=True, check=False)
    found = _TOTALS.search(out.read_bytes())
    if found is None:
        raise RuntimeError(f"no totals in {out}: {done.stderr[-2000:]!r}")
    return int(found.group(1)), done.returncode


def import_counts(tree: Path, work: Path) -> list[tuple[str, int]]:
    """Instructions of importing `IMPORT_GROUPS` cumulatively, per group added."""
    python = str(tree / ".venv/bin/python")
    modules: list[str] = []
    counts, before = [], 0
    for label, group in IMPORT_GROUPS:
        modules.append(group)
        script = f"import gc; gc.disable(); import {', '.join(modules)}"
        total, code = callgrind_ir([python, "-c", script], work, tree, work / "imports.out")
        if code != 0:
            raise RuntimeError(f"{tree}: `{script}` exited {code}")
        counts.append((label, total - before))
        before = total
    return counts


def idle_round(tree: Path, name: str, work: Path, urls: list[str], sink: SmtpSink) -> int:
    """The tree's first round as usual, then its idle round under callgrind: its Ir."""
    folder = work / name
    bench_config(
        folder, urls, smtp_port=sink.port, subscribed=True,
        override={"polling": {"story_window": "0s"}},
    )  # fmt: skip
    command = [str(tree / ".venv/bin/watcher"), "run", "--once", "--config"]
    command.append(str(folder / "watcher.yaml"))
    env = os.environ | {"PYTHONPATH": str(tree)}
    subprocess.run(command, cwd=folder, env=env, check=True, capture_output=True)
    sink.reset()
    python = str(tree / ".venv/bin/python")
    total, code = callgrind_ir([python, *command], folder, tree, folder / "idle.out")
    sent = sink.snapshot().messages
    if code != 0 or sent:
        raise RuntimeError(f"{name}: the idle round exited {code} and sent {sent} emails")
    return total


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--a", type=Path, default=Path.cwd())
    p.add_argument("--b", type=Path)
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--m", type=int, default=20)
    p.add_argument("--seed", type=int, default=8)
    p.add_argument("--imports", action="store_true", help="also count the imports, by group")
    args = p.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("valgrind is not installed", file=sys.stderr)
        return 2
    trees = {"A": args.a.resolve()} | ({"B": args.b.resolve()} if args.b else {})
    for tree in trees.values():
        compile_tree(tree)
    spec = FarmSpec(
        n=args.n, m=args.m, seed=args.seed, epoch=int(time.time()),
        signal_fraction=1.0, latency=0.0,
    )  # fmt: skip
    idle: dict[str, int] = {}
    imports: dict[str, list[tuple[str, int]]] = {}
    with tempfile.TemporaryDirectory(prefix="once-ir-") as scratch, SmtpSink() as sink:
        work = Path(scratch)
        with FarmProcess(spec, work / "farm.log") as farm:
            urls = [farm.control.url(i) for i in range(spec.n)]
            for name, tree in trees.items():
                idle[name] = idle_round(tree, name, work, urls, sink)
                print(f"{name} idle round: {idle[name] / 1e6:,.1f} M instructions", flush=True)
        if args.imports:
            for name, tree in trees.items():
                imports[name] = import_counts(tree, work)
    if "B" in idle:
        print(f"idle round B / A: {idle['B'] / idle['A']:.4f}")
    for name, counts in imports.items():
        print(f"imports of {name} ({sum(c for _, c in counts) / 1e6:,.1f} M in all):")
        other = dict(imports.get("A", [])) if name == "B" else {}
        for label, count in counts:
            ratio = f"  B/A {count / other[label]:.3f}" if other.get(label) else ""
            print(f"  {count / 1e6:9,.1f} M  {label}{ratio}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
