"""Scenario 7's rounds with the SQLite writer thread's CPU summed, and its story work split.

The process tree's CPU ratio of scenario 7 (`bench.run --only stories`) moves by a
tenth from run to run on a busy machine, more than most changes to placing a poll's
items save. This runs the same two rounds (`bench.scenarios.stories_cold`: the
templated farm, clustering off and on) and reports, per round, the CPU the writer
thread spent in its transactions (commits included, `time.thread_time`) and how much
of it went to the story index's steps (`lookup` and the statements and functions under
it, `file_keys`, the inserts), each summed over the round's polls, "sql NAME" the
thread CPU of each `watcher.store.story_index` statement (its driver call: the
database's work, and the binding and reading of rows) and `do_commit` the commits.

    python -m bench.story_writer            # one run: both rounds, off first
    python -m bench.story_writer --runs 3   # three, alternating which round goes first
    python -m bench.story_writer --profile py-spy-gil   # and the clustered round's ranking
    python -m bench.story_writer --keep DIR  # keep the databases (`bench.same_db`)

The figures are CPU seconds of one thread; the timers themselves cost a little.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.control import ROOT, FarmProcess
from bench.run import _common, _spec, parse_args

_TIMED_POLL = ("lookup", "file_keys", "_insert_signals", "_queue", "_stored_ids")
_TIMED_INDEX = (
    "_heads",
    "_sketch_rows",
    "_posted",
    "_known_hot",
    "_masked",
    "_barred",
    "_candidate",
    "shortlist",
    "hot_keys",
)


def _timed(owner: Any, name: str, parts: dict[str, float]) -> None:
    """Replace `owner.name` by itself adding its thread CPU to `parts[name]`."""
    original: Callable[..., Any] = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        began = time.thread_time()
        try:
            return original(*args, **kwargs)
        finally:
            parts[name] = parts.get(name, 0.0) + time.thread_time() - began

    setattr(owner, name, timed)


def _timed_statements(driver: Any, story_index: Any, parts: dict[str, float]) -> None:
    """Add the thread CPU of each of `story_index`'s statements (`Driver.fetch` and
    `execute_rows` of the module's upper-case statements) to `parts["sql NAME"]`."""
    names = {
        id(value): name
        for name, value in vars(story_index).items()
        if name.isupper() and hasattr(value, "compile")
    }
    for method in ("fetch", "execute_rows", "execute_many"):
        original: Callable[..., Any] = getattr(driver, method)

        def timed(self: Any, statement: Any, *args: Any, _original: Any = original) -> Any:
            began = time.thread_time()
            try:
                return _original(self, statement, *args)
            finally:
                name = names.get(id(statement))
                if name is not None:
                    key = f"sql {name}"
                    parts[key] = parts.get(key, 0.0) + time.thread_time() - began

        setattr(driver, method, timed)


def worker(params_json: str, out: str) -> None:
    """In the worker process: the timers in place, then `stories_cold` as the bench runs it."""
    from sqlalchemy.engine.default import DefaultDialect

    import bench.scenarios as scenarios
    import watcher.store.poll as poll
    import watcher.store.story_index as story_index
    from watcher.store.driver import Driver
    from watcher.store.sqlite_threads import SqliteThreads

    parts: dict[str, float] = {}
    _timed(SqliteThreads, "_transaction", parts)
    for name in _TIMED_POLL:
        _timed(poll, name, parts)
    for name in _TIMED_INDEX:
        _timed(story_index, name, parts)
    _timed(Driver, "insert_ids", parts)
    _timed_statements(Driver, story_index, parts)
    _timed(DefaultDialect, "do_commit", parts)
    one_round = scenarios._round

    async def measured(config: Any, profiler: Any = None) -> dict[str, Any]:
        parts.clear()
        result: dict[str, Any] = await one_round(config, profiler)
        result["writer"] = {k: round(v, 3) for k, v in sorted(parts.items(), key=lambda p: -p[1])}
        return result

    scenarios._round = measured
    sys.argv = [sys.argv[0], "stories_cold", params_json, out]
    scenarios.main()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument(
        "--profile",
        choices=("py-spy", "py-spy-gil", "pyinstrument"),
        help="profile each run's clustered round (`bench.profiling`) and print its ranking",
    )
    parser.add_argument(
        "--profile-round",
        choices=("default", "off"),
        default="default",
        help="the round `--profile` profiles (default: the clustered one)",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        help="keep each run's folder (databases, logs) under this new folder:"
        " KEEP/run-N/default/ holds the clustered round's database",
    )
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(*args.worker)
        return 0
    bench_args = parse_args(["--only", "stories"])
    with tempfile.TemporaryDirectory(prefix="story-writer-") as folder:
        tmp = Path(folder)
        if args.keep is not None:
            args.keep.mkdir(parents=True)
            tmp = args.keep
        spec = _spec(bench_args, int(time.time()), n=bench_args.stories_n, template=True)
        with FarmProcess(spec, tmp / "farm.log") as farm:
            for index in range(args.runs):
                workdir = tmp / f"run-{index + 1}"
                params = _common(bench_args) | {
                    "farm_port": farm.port,
                    "n": bench_args.stories_n,
                    "m": bench_args.m,
                    "index": index,
                    "workdir": str(workdir),
                    "profile": args.profile,
                    "profile_round": args.profile_round,
                }
                out = tmp / f"result-{index + 1}.json"
                command = [sys.executable, "-m", "bench.story_writer", "--worker"]
                subprocess.run([*command, json.dumps(params), str(out)], cwd=ROOT, check=True)
                result = json.loads(out.read_text())
                for name in ("off", "default"):
                    round_ = result[name]
                    writer = round_["writer"]
                    print(
                        f"run {index + 1} {name}: process CPU {round_['cpu']:.2f} s, writer"
                        f" {writer.pop('_transaction', 0.0):.2f} s, stories"
                        f" {round_['db']['stories']} of {round_['db'].get('items_stored')} items;"
                        f" {writer}",
                        flush=True,
                    )
                for report in sorted(workdir.glob("profile-stories*.ranking.txt")):
                    print(report.read_text(), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
