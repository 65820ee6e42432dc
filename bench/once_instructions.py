"""Instructions of a `watcher run --once` round and of its imports, load-independent.

    python -m bench.once_instructions [--a TREE] [--b TREE] [--n 200] [--m 20] [--imports]
        [--new [--k 2]]

CPU time of a cron round moves by ±20 % with the machine's load; the instructions a
process runs do not. For each tree (its own `.venv/bin/watcher`, `PYTHONPATH` set to it,
its watcher modules compiled in place first, as `bench.once_ab` runs one), on the peer
farm of `bench.once_ab` (N feeds × M supply-shock items, story clustering off) with its
own data folder: the first round runs as usual, then the idle round (every feed 304,
nothing due) runs under `valgrind --tool=callgrind` and its instructions (Ir) are
printed. The idle round must exit 0 and send nothing. Valgrind runs the threads one at a
time and about 50 times slower; an idle round has no parse or mail work whose timing
could change what it does, so its count is the round's own (about a minute a run).

With `--new`, the new-items round is counted instead: every tree runs its first round as
usual, then the farm publishes K signal items into every feed (as `bench.new_round`
does) and each tree's new-items round runs under callgrind, one tree after the other;
it must exit 0 and leave exactly N x K emails at the sink, each Message-ID once. Both
trees read the same new items. Both rounds run with `SLOW_ROUND`'s settings (deadlines
of an hour, no parse process), else the slowed round times out. Its count moves a
little from run to run (threads run one at a time under valgrind, and how many
hand-offs and waits a round makes depends on timing), so run it twice on one tree to
see the spread before reading a B / A ratio.

With `--imports`, also the instructions of importing the service's modules as the round
does, one group more at a time (garbage collection off, as `watcher.ops.memory` has it
during start-up): where the start-up's instructions go, group by group, for each tree.
With `--b`, the B ÷ A ratio of each figure.
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

from bench.callgrind import command_instructions
from bench.configs import bench_config, merge
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


def import_counts(tree: Path, work: Path) -> list[tuple[str, int]]:
    """Instructions of importing `IMPORT_GROUPS` cumulatively, per group added."""
    python = str(tree / ".venv/bin/python")
    modules: list[str] = []
    counts, before = [], 0
    for label, group in IMPORT_GROUPS:
        modules.append(group)
        script = f"import gc; gc.disable(); import {', '.join(modules)}"
        total, done = command_instructions([python, "-c", script], work, tree, work / "imports.out")
        if done.returncode != 0:
            raise RuntimeError(f"{tree}: `{script}` exited {done.returncode}")
        counts.append((label, total - before))
        before = total
    return counts


def once_command(tree: Path, folder: Path) -> list[str]:
    """The tree's `watcher run --once` on the config in `folder`."""
    return [
        str(tree / ".venv/bin/watcher"),
        "run",
        "--once",
        "--config",
        str(folder / "watcher.yaml"),
    ]


# `--new`: the deadlines of a round that runs some 50 times slower under valgrind, and no
# parse process (none starts at N=200 outside valgrind; one would start here when the
# threads seem to fall behind, and callgrind counts only the service's own process)
SLOW_ROUND = {
    "polling": {"parse_timeout": "1h", "parse_workers": 0},
    "http": {"timeout": "1h", "connect_timeout": "1h", "read_timeout": "1h"},
    "smtp": {"timeout": "1h"},
}
SLOW_SOURCE = {"timeout": "1h"}


def first_round(
    tree: Path, name: str, work: Path, urls: list[str], sink: SmtpSink, slow: bool
) -> Path:
    """The tree's config in `work / name` (with `slow`, `SLOW_ROUND`'s settings too) and
    its first round, run as usual: the folder."""
    folder = work / name
    override = merge({"polling": {"story_window": "0s"}}, SLOW_ROUND if slow else {})
    bench_config(
        folder, urls, smtp_port=sink.port, subscribed=True, override=override,
        source_override=SLOW_SOURCE if slow else None,
    )  # fmt: skip
    env = os.environ | {"PYTHONPATH": str(tree)}
    subprocess.run(once_command(tree, folder), cwd=folder, env=env, check=True, capture_output=True)
    return folder


def counted_round(tree: Path, name: str, folder: Path, sink: SmtpSink, expected: int) -> int:
    """The tree's next round under callgrind: its Ir. It must exit 0 and leave exactly
    `expected` emails at the sink, each Message-ID once (else `RuntimeError`)."""
    sink.reset()
    python = str(tree / ".venv/bin/python")
    command = [python, *once_command(tree, folder)]
    total, done = command_instructions(command, folder, tree, folder / "round.out")
    code = done.returncode
    counts = sink.snapshot()
    if code != 0 or counts.messages != expected or counts.duplicate_message_ids:
        raise RuntimeError(
            f"{name}: the round exited {code} and left {counts.messages} emails"
            f" ({counts.duplicate_message_ids} duplicate Message-IDs); expected {expected}:\n"
            + (folder / "round.log").read_text(errors="replace")[-3000:]
        )
    return total


def counted_rounds(
    trees: dict[str, Path], work: Path, farm: FarmProcess, sink: SmtpSink, new: int | None
) -> dict[str, int]:
    """Each tree's first round, then (`new` items a feed published first, when given) its
    next round under callgrind: the Ir of each tree's counted round."""
    n = farm.spec.n
    urls = [farm.control.url(i) for i in range(n)]
    counts: dict[str, int] = {}
    if new is None:
        for name, tree in trees.items():
            folder = first_round(tree, name, work, urls, sink, slow=False)
            counts[name] = counted_round(tree, name, folder, sink, 0)
        return counts
    folders = {
        name: first_round(tree, name, work, urls, sink, slow=True) for name, tree in trees.items()
    }
    farm.control.publish(new)
    for name, tree in trees.items():
        counts[name] = counted_round(tree, name, folders[name], sink, n * new)
    return counts


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--a", type=Path, default=Path.cwd())
    p.add_argument("--b", type=Path)
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--m", type=int, default=20)
    p.add_argument("--seed", type=int, default=8)
    p.add_argument("--imports", action="store_true", help="also count the imports, by group")
    p.add_argument("--new", action="store_true", help="count the new-items round, not the idle")
    p.add_argument("--k", type=int, default=2, help="with --new: new items a feed")
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
    label = "new-items" if args.new else "idle"
    imports: dict[str, list[tuple[str, int]]] = {}
    with tempfile.TemporaryDirectory(prefix="once-ir-") as scratch, SmtpSink() as sink:
        work = Path(scratch)
        with FarmProcess(spec, work / "farm.log") as farm:
            rounds = counted_rounds(trees, work, farm, sink, args.k if args.new else None)
        for name, total in rounds.items():
            print(f"{name} {label} round: {total / 1e6:,.1f} M instructions", flush=True)
        if args.imports:
            for name, tree in trees.items():
                imports[name] = import_counts(tree, work)
    if "B" in rounds:
        print(f"{label} round B / A: {rounds['B'] / rounds['A']:.4f}")
    for name, counts in imports.items():
        print(f"imports of {name} ({sum(c for _, c in counts) / 1e6:,.1f} M in all):")
        other = dict(imports.get("A", [])) if name == "B" else {}
        for label, count in counts:
            ratio = f"  B/A {count / other[label]:.3f}" if other.get(label) else ""
            print(f"  {count / 1e6:9,.1f} M  {label}{ratio}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
