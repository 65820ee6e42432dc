"""Scenario 7's clustered round replayed through the story index, for placements and CPU.

A cold round's polls reach the writer in an order that changes from run to run, so two
runs of the bench cannot be compared lookup by lookup. `record` runs the round once
(`bench.scenarios.stories_cold`, the templated farm) and saves, in the writer's order,
every call the store makes to the story index (`lookup`, `file_keys`) and every row it
inserts into `stories` and `items`. `play` makes those calls and inserts again, in that
order, on a fresh SQLite database (the watcher's pragmas, one transaction per poll) with
whichever tree's `watcher` package it is run from, and writes what each lookup returned
(every candidate's story, source and date, the hot keys) with the writer thread's CPU in
the index's calls. `cmp` says whether two plays returned the same, and where not.

    python -m bench.story_replay record /tmp/round.pickle
    python -m bench.story_replay play /tmp/round.pickle /tmp/mine.json
    (cd OTHER_TREE && python -m bench.story_replay play /tmp/round.pickle /tmp/theirs.json)
    python -m bench.story_replay cmp /tmp/theirs.json /tmp/mine.json

`play --tree PATH` imports `watcher` from PATH (another checkout) instead.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import pickle
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Event = tuple[str, Any]  # ("lookup", kwargs), ("file", (source, filings)), ("insert", ...)


def _recorder(events: list[Event]) -> None:
    """Wrap the store's calls into the story index and its inserts so that each appends
    its arguments (and, for inserts, the new ids) to `events`."""
    import watcher.store.poll as poll
    from watcher.store.driver import Driver
    from watcher.store.tables import ITEMS, STORIES

    looked_up: Callable[..., Any] = poll.lookup
    filed: Callable[..., Any] = poll.file_keys
    inserted: Callable[..., Any] = Driver.insert_ids

    def lookup(driver: Any, **kwargs: Any) -> Any:
        events.append(("lookup", kwargs))
        return looked_up(driver, **kwargs)

    def file_keys(driver: Any, source: str, filings: Any) -> None:
        events.append(("file", (source, list(filings))))
        filed(driver, source, filings)

    def insert_ids(self: Any, table: Any, rows: Any) -> list[int]:
        ids: list[int] = inserted(self, table, rows)
        if table is ITEMS or table is STORIES:
            events.append(
                ("insert", (table.name, [dict(r, id=i) for r, i in zip(rows, ids, strict=True)]))
            )
        return ids

    poll.lookup = lookup
    poll.file_keys = file_keys
    Driver.insert_ids = insert_ids  # type: ignore[method-assign]


def record_worker(params_json: str, out: str) -> None:
    """In the worker process: the recorder in place, then `stories_cold`'s rounds; the
    default window's events are pickled to `out + ".events"`."""
    import bench.scenarios as scenarios

    events: list[Event] = []
    _recorder(events)
    one_round = scenarios._round

    async def recorded(config: Any, profiler: Any = None) -> dict[str, Any]:
        events.clear()
        result: dict[str, Any] = await one_round(config, profiler)
        if config.polling.story_window.total_seconds() > 0:
            data = pickle.dumps(list(events))
            await asyncio.to_thread(Path(out + ".events").write_bytes, data)
        return result

    scenarios._round = recorded
    sys.argv = [sys.argv[0], "stories_cold", params_json, out]
    scenarios.main()


def record(path: Path) -> None:
    """Run scenario 7's rounds once and save the clustered round's events to `path`."""
    from bench.control import ROOT, FarmProcess
    from bench.run import _common, _spec, parse_args

    bench_args = parse_args(["--only", "stories"])
    with tempfile.TemporaryDirectory(prefix="story-replay-") as folder:
        tmp = Path(folder)
        spec = _spec(bench_args, int(time.time()), n=bench_args.stories_n, template=True)
        with FarmProcess(spec, tmp / "farm.log") as farm:
            params = _common(bench_args) | {
                "farm_port": farm.port,
                "n": bench_args.stories_n,
                "m": bench_args.m,
                "index": 0,
                "workdir": str(tmp / "run"),
            }
            out = tmp / "result.json"
            command = [sys.executable, "-m", "bench.story_replay", "record-worker"]
            subprocess.run([*command, json.dumps(params), str(out)], cwd=ROOT, check=True)
            path.write_bytes(Path(str(out) + ".events").read_bytes())


def play(path: Path, out: Path) -> None:
    """Replay the events of `path` on a fresh database; write each lookup's result and
    the thread CPU of the index's calls to `out` (JSON)."""
    from sqlalchemy import create_engine, event

    import watcher.store.story_index as index
    from watcher.store.db import _sqlite_pragmas
    from watcher.store.driver import Driver
    from watcher.store.story_index import file_keys, lookup
    from watcher.store.tables import ITEMS, METADATA, SOURCES, STORIES

    print(f"story index: {index.__file__}")
    events: list[Event] = pickle.loads(path.read_bytes())
    results: list[Any] = []
    spent = {"lookup": 0.0, "file_keys": 0.0, "commit": 0.0}
    with tempfile.TemporaryDirectory(prefix="story-play-") as folder:
        engine = create_engine(f"sqlite:///{folder}/replay.db")
        event.listen(engine, "connect", _sqlite_pragmas)
        METADATA.create_all(engine)
        sources = sorted(
            {
                row["source"]
                for kind, payload in events
                if kind == "insert" and payload[0] == ITEMS.name
                for row in payload[1]
            }
        )
        with engine.begin() as connection:
            Driver(connection).insert_rows(SOURCES, [_source(name) for name in sources])
        connection = engine.connect()
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        driver = Driver(connection)
        for kind, payload in events:
            if kind == "lookup":  # a poll's write starts with its lookup
                began = time.thread_time()
                connection.exec_driver_sql("COMMIT")
                spent["commit"] += time.thread_time() - began
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                driver = Driver(connection)
                began = time.thread_time()
                found = lookup(driver, **payload)
                spent["lookup"] += time.thread_time() - began
                results.append(_described(found))
            elif kind == "file":
                began = time.thread_time()
                file_keys(driver, *payload)
                spent["file_keys"] += time.thread_time() - began
            else:
                table, rows = payload
                driver.insert_rows(ITEMS if table == ITEMS.name else STORIES, rows)
        connection.exec_driver_sql("COMMIT")
        connection.close()
        engine.dispose()
    out.write_text(json.dumps({"spent": spent, "lookups": results}))
    print(
        f"{len(results)} lookups; thread CPU "
        + ", ".join(f"{k} {v:.3f} s" for k, v in spent.items())
    )


def _source(name: str) -> dict[str, Any]:
    """A `sources` row for `name` (items refer to their source)."""
    return {
        "name": name,
        "kind": "feed",
        "polls": 0,
        "failures_total": 0,
        "consecutive_failures": 0,
    }


def _described(found: Any) -> dict[str, Any]:
    """A lookup's result as JSON: each item's candidates (story, source, date) and the
    hot keys."""
    return {
        "candidates": [
            [[c.story_id, c.source, c.when.isoformat()] for c in mine] for mine in found.candidates
        ],
        "hot": sorted(found.hot),
    }


def compare(a: Path, b: Path) -> int:
    """0 when the plays `a` and `b` returned the same from every lookup, else 1 (the
    first lookup that differs is printed)."""
    first, second = (json.loads(p.read_text())["lookups"] for p in (a, b))
    if len(first) != len(second):
        print(f"{len(first)} lookups against {len(second)}")
        return 1
    for index, (x, y) in enumerate(zip(first, second, strict=True)):
        if x != y:
            print(f"lookup {index} differs:\n  {x}\n  {y}")
            return 1
    candidates = sum(len(mine) for x in first for mine in x["candidates"])
    print(f"identical: {len(first)} lookups, {candidates} candidates")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("record").add_argument("path", type=Path)
    played = commands.add_parser("play")
    played.add_argument("path", type=Path)
    played.add_argument("out", type=Path)
    played.add_argument("--tree", type=Path, help="import watcher from this checkout")
    compared = commands.add_parser("cmp")
    compared.add_argument("a", type=Path)
    compared.add_argument("b", type=Path)
    worker = commands.add_parser("record-worker")
    worker.add_argument("params")
    worker.add_argument("out")
    args = parser.parse_args(argv)
    if args.command == "record":
        record(args.path)
    elif args.command == "record-worker":
        record_worker(args.params, args.out)
    elif args.command == "play":
        if args.tree is not None:
            sys.path.insert(0, str(args.tree.resolve()))
        play(args.path, args.out)
    else:
        return compare(args.a, args.b)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
