"""The scenarios' measured runs, one per fresh process: `python -m bench.worker NAME PARAMS OUT`.

`bench.run` starts one worker per run so every figure (CPU time, peak RSS) belongs to
a process that did nothing else, and no run inherits another's caches. PARAMS is a
JSON object; the worker writes its figures as JSON to OUT. The service is driven
through its public entry points: `watcher.service.rounds.run_once(config)` for rounds,
`watcher.service.daemon.Daemon(config).run()` for the long-running daemon.
"""

from __future__ import annotations

import asyncio
import io
import json
import multiprocessing
import os
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench import bench_classify
from bench.configs import bench_config, with_interval
from bench.control import FarmControl
from bench.feeds import FarmSpec, documents_digest, initial_documents, read_documents
from bench.measure import (
    MB,
    RssSampler,
    Stopwatch,
    children_peak_rss,
    peak_rss,
    settle_start_up,
    tree_rss,
)
from bench.profiling import Profiler, for_mode
from watcher.classify.engine import Classifier
from watcher.config import WatcherConfig
from watcher.config.load import load_config
from watcher.ops.log import configure_logging
from watcher.service.daemon import Daemon
from watcher.service.rounds import run_once

Params = dict[str, Any]
CONFIG = Path(__file__).resolve().parent.parent / "config" / "watcher.yaml"
Result = dict[str, Any]


# --- helpers -------------------------------------------------------------------------


def _config(params: Params, workdir: Path, urls: list[str], **kwargs: Any) -> WatcherConfig:
    return bench_config(
        workdir,
        urls,
        concurrency=params["concurrency"],
        override=params.get("override"),
        source_override=params.get("source_override"),
        **kwargs,
    )


def _database_counts(config: WatcherConfig) -> dict[str, int | None]:
    """Rows the rounds left behind (SQLite only; empty for another database)."""
    path = config.data_dir / "watcher.db"
    if config.database.url or not path.exists():
        return {}
    with sqlite3.connect(path) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(sources)")}
        # rows may be created before their first poll: a success is what counts
        ok = "last_success_at IS NOT NULL" if "last_success_at" in columns else "1"
        delivery_columns = {row[1] for row in db.execute("PRAGMA table_info(deliveries)")}
        emails = (
            db.execute("SELECT count(DISTINCT message_id) FROM deliveries").fetchone()[0]
            if "message_id" in delivery_columns
            else None
        )
        return {
            "emails_queued": emails,
            "items_stored": db.execute("SELECT count(*) FROM items").fetchone()[0],
            "signals_stored": db.execute("SELECT count(*) FROM signals").fetchone()[0],
            "sources_ok": db.execute(
                f"SELECT count(*) FROM sources WHERE consecutive_failures = 0 AND {ok}"
            ).fetchone()[0],
        }


async def _round(config: WatcherConfig, profiler: Profiler | None = None) -> Result:
    """One `run_once` under a stopwatch (and the profiler, when given); a crash is a result.

    The figures are `exit` (run_once's code, None if it raised), `wall`, `cpu` and
    `error` (the exception that escaped run_once, if any).
    """
    error: str | None = None
    code: int | None = None
    if profiler is not None:
        profiler.start()
    with Stopwatch() as watch:
        try:
            code = await run_once(config)
        except Exception as exc:  # the service crashing is a figure to report, not our crash
            error = f"{type(exc).__module__}.{type(exc).__name__}: {exc}".splitlines()[0][:300]
    if profiler is not None:
        profiler.stop()
    if error is not None:
        await _cancel_orphans()
    return {"exit": code, "error": error, "wall": watch.span.wall, "cpu": watch.span.cpu}


async def _cancel_orphans() -> None:
    """Cancel the polls a crashed `run_once` left running (gather does not cancel them).

    They would otherwise go on writing to the database and hitting the farm during the
    next measured round.
    """
    current = asyncio.current_task()
    orphans = [task for task in asyncio.all_tasks() if task is not current]
    for task in orphans:
        task.cancel()
    await asyncio.gather(*orphans, return_exceptions=True)


# --- scenarios -----------------------------------------------------------------------


async def cold_and_idle(params: Params, workdir: Path) -> Result:
    """Scenarios 1 and 3: the first poll of N feeds (all new), then the same again (all 304).

    When the cold round crashed and `prime_batch` is set, the sources are first polled
    in batches of that many (untimed) so the idle round still has a full state to
    measure; otherwise the idle round is skipped.
    """
    farm = FarmControl(params["farm_port"])
    n = params["n"]
    urls = [farm.url(i) for i in range(n)]
    config = _config(params, workdir, urls)
    which = params.get("profile_round", "cold")
    profiler = for_mode(params.get("profile"), workdir / f"profile-{which}")
    with RssSampler() as sampler:
        result = await _cold_then_idle(params, config, farm, profiler, which, sampler)
    result["peak_tree_rss_after_idle_mb"] = sampler.peak_tree / MB
    return result


async def _cold_then_idle(
    params: Params,
    config: WatcherConfig,
    farm: FarmControl,
    profiler: Profiler | None,
    which: str,
    sampler: RssSampler,
) -> Result:
    """The body of `cold_and_idle`, under its RSS sampler."""
    n = params["n"]
    farm.reset()
    cold = await _round(config, profiler if which == "cold" else None)
    cold |= {"farm": farm.counters(), "db": _database_counts(config)}
    cold["items_expected"] = n * params["m"]
    cold_peak = peak_rss()
    cold_tree_peak = sampler.peak_tree
    idle: Result = {}
    batch = params.get("prime_batch")
    extra = 0.0
    partial = {"cold": cold, "peak_rss_mb": cold_peak / MB, "peak_tree_rss_mb": cold_tree_peak / MB}
    _checkpoint(params, partial | {"idle": {"skipped": "the run was killed before the idle round"}})
    if cold["error"] is not None and batch:
        primed = time.perf_counter()
        for start in range(0, n, batch):
            await _round(
                config.model_copy(update={"sources": config.sources[start : start + batch]})
            )
        extra = time.perf_counter() - primed
        idle = {"primed_in_batches": batch, "priming_seconds": extra}
        idle["primed_db"] = _database_counts(config)
    if cold["error"] is None or batch:
        farm.reset()
        idle |= await _round(config, profiler if which == "idle" else None)
        idle |= {"farm": farm.counters(), "db": _database_counts(config)}
    else:
        idle = {"skipped": "the cold round crashed"}
    return {
        "cold": cold,
        "idle": idle,
        "peak_rss_mb": cold_peak / MB,
        "peak_tree_rss_mb": cold_tree_peak / MB,
        "peak_rss_after_idle_mb": peak_rss() / MB,
        "children_peak_rss_mb": children_peak_rss() / MB,
        "extra_seconds": extra,
    }


async def new_items(params: Params, workdir: Path) -> Result:
    """Scenario 2: after a priming poll, K new signal items per feed, one subscriber, SMTP."""
    farm = FarmControl(params["farm_port"])
    urls = [farm.url(i) for i in range(params["n"])]
    # priming round without subscribers: the feeds' existing items are stored, none mailed
    primer = _config(params, workdir, urls, smtp_port=params["smtp_port"], subscribed=False)
    prime = await _round(primer)
    _checkpoint(params, {"prime": prime, "error": "killed after the priming round"})
    published = farm.publish(params["k"])
    config = _config(
        params, workdir, urls, smtp_port=params["smtp_port"], subscribed=True, name="mail.yaml"
    )
    farm.reset()
    profiler = for_mode(params.get("profile"), workdir / "profile-new")
    started_at = time.time()
    result = await _round(config, profiler)
    return result | {
        "prime": prime,
        "published": published,
        "started_at": started_at,
        "farm": farm.counters(),
        "db": _database_counts(config),
    }


async def daemon_memory(params: Params, workdir: Path) -> Result:
    """Scenario 5b: the daemon polls churning feeds; RSS at rounds 10 … R (not `--once`)."""
    farm = FarmControl(params["farm_port"])
    n, rounds = params["n"], params["rounds"]
    config = _config(
        params,
        workdir,
        [farm.url(i) for i in range(n)],
        smtp_port=params["smtp_port"],
        subscribed=True,
        poll_tick=params["interval"] / 4,
    )
    config = with_interval(config, timedelta(seconds=params["interval"]))
    checkpoints = sorted({10, *params["checkpoints"], rounds})
    farm.churn(params.get("churn", 1))
    farm.reset()
    daemon = Daemon(config)
    task = asyncio.create_task(daemon.run())
    samples: list[dict[str, float]] = []
    started = time.perf_counter()
    deadline = started + params["timeout"]
    done_rounds = 0.0
    try:
        while checkpoints and time.perf_counter() < deadline and not task.done():
            await asyncio.sleep(0.1)
            counters = await asyncio.to_thread(farm.counters)
            done_rounds = counters["requests"] / n
            while checkpoints and done_rounds >= checkpoints[0]:
                own, tree = await asyncio.to_thread(tree_rss)
                samples.append(
                    {
                        "round": checkpoints.pop(0),
                        "rss_mb": tree / MB,
                        "own_rss_mb": own / MB,
                        "seconds": time.perf_counter() - started,
                    }
                )
    finally:
        daemon.stop()
        code = await task
        farm.churn(0)
    return {
        "exit": code,
        "rounds_done": done_rounds,
        "rounds_wanted": rounds,
        "samples": samples,
        "seconds": time.perf_counter() - started,
        "peak_rss_mb": peak_rss() / MB,
        "farm": farm.counters(),
        "db": _database_counts(config),
    }


def _checkpoint(params: Params, result: Result) -> None:
    """Write what is known so far, so a run killed later still reports it."""
    if params.get("out"):
        Path(params["out"]).write_text(json.dumps(result, indent=2), encoding="utf-8")


_FLOOR_DOCS: list[bytes] = []


async def stories_cold(params: Params, workdir: Path) -> Result:
    """The templated farm's cold round with clustering off (`story_window: 0s`) and with
    the default window, each on a fresh database; the ratio of their wall times.

    Every item is another event (`bench.templated`), so `stories` should equal
    `items_stored` with the window as without it. Odd runs (`index`) measure the
    default window first, even ones clustering off first, so neither always comes
    second onto a warmer (or busier) machine. With `profile` (a `bench.profiling` mode)
    the round named `profile_round` ("default", else "off") runs under that profiler,
    its reports in `profile-stories*`.
    """
    farm = FarmControl(params["farm_port"])
    profiler = for_mode(params.get("profile"), workdir / "profile-stories")
    urls = [farm.url(i) for i in range(params["n"])]
    out: Result = {}
    rounds: list[tuple[str, str | None]] = [("off", "0s"), ("default", None)]
    if params.get("index", 0) % 2:
        rounds.reverse()
    # an untimed round of one feed first: imports, the worker pool's start and its
    # first classifier are then paid by neither measured round
    for name, window in [("warm-up", "0s"), *rounds]:
        override = dict(params.get("override") or {})
        if window is not None:
            override["polling"] = {**override.get("polling", {}), "story_window": window}
        folder = workdir / name
        folder.mkdir()
        chosen = urls[:1] if name == "warm-up" else urls
        config = _config(params | {"override": override or None}, folder, chosen)
        farm.reset()
        profiled = name == params.get("profile_round", "default")
        result = await _round(config, profiler if profiled else None)
        result["db"] = _database_counts(config) | {"stories": _stories(config)}
        out[name] = result
        _checkpoint(params, out)
    off, default = out["off"]["wall"], out["default"]["wall"]
    out["ratio"] = default / off if off else None
    off_cpu, default_cpu = out["off"]["cpu"], out["default"]["cpu"]
    out["cpu_ratio"] = default_cpu / off_cpu if off_cpu else None
    return out


def _stories(config: WatcherConfig) -> int | None:
    path = config.data_dir / "watcher.db"
    if config.database.url or not path.exists():
        return None
    with sqlite3.connect(path) as db:
        count: int = db.execute("SELECT count(*) FROM stories").fetchone()[0]
        return count


def _floor_init(documents: list[bytes]) -> None:
    global _FLOOR_DOCS
    _FLOOR_DOCS = documents


def _floor_parse(bounds: tuple[int, int]) -> tuple[int, float]:
    """Parse documents [start, end) with feedparser alone; (entries found, CPU seconds)."""
    import feedparser

    started = time.process_time()
    entries = 0
    for document in _FLOOR_DOCS[bounds[0] : bounds[1]]:
        entries += len(feedparser.parse(io.BytesIO(document)).entries)
    return entries, time.process_time() - started


def parse_floor(params: Params, workdir: Path) -> Result:
    """Scenario 6: the cold round's documents parsed by feedparser alone, over all cores.

    The documents are the farm's own bytes (its `--dump` file) when `documents` is
    given, else rebuilt from the spec; the digest shows they are the ones the farm serves.
    """
    if params.get("documents"):
        documents = read_documents(Path(params["documents"]))
    else:
        documents = initial_documents(FarmSpec(**params["spec"]))
    digest = documents_digest(documents)
    processes = params.get("processes") or os.cpu_count() or 1
    # one core: the cost of a feed, measured on a sample in this process
    _floor_init(documents)
    sample = min(len(documents), 100)
    with Stopwatch() as single:
        _floor_parse((0, sample))
    # all cores: chunks spread over a pool that has already imported feedparser
    chunk = max(1, len(documents) // (processes * 8))
    bounds = [(i, min(i + chunk, len(documents))) for i in range(0, len(documents), chunk)]
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    with context.Pool(processes, initializer=_floor_init, initargs=(documents,)) as pool:
        pool.map(_floor_parse, [(0, 1)] * processes)
        with Stopwatch() as spread:
            parts = pool.map(_floor_parse, bounds)
    return {
        "digest": digest,
        "digest_matches": digest == params.get("farm_digest", digest),
        "documents": len(documents),
        "bytes": sum(len(d) for d in documents),
        "entries": sum(entries for entries, _ in parts),
        "processes": processes,
        "wall": spread.span.wall,
        "cpu": sum(cpu for _, cpu in parts),
        "single_ms_per_feed": single.span.wall * 1000 / sample,
        "single_cpu_ms_per_feed": single.span.cpu * 1000 / sample,
    }


def classification(params: Params, workdir: Path) -> Result:
    """Scenario 4: items per CPU-second on one core, with `bench/bench_classify.py`'s items.

    ~1 KB items at the labelled dev set's density of signals (its headline mix), the
    default rules of `config/watcher.yaml`; passes over the items until `seconds` have
    gone by (at least three); the figure is the median pass.
    """
    items = bench_classify.build_items(
        params.get("items", 2000), signal_share=bench_classify.SIGNAL_SHARE
    )
    classifier = Classifier.from_config(load_config(CONFIG, environ={}))
    bench_classify.measure(classifier, items[:200])  # warm up: automaton, caches
    rates: list[float] = []
    started = time.perf_counter()
    while len(rates) < 3 or time.perf_counter() - started < params.get("seconds", 3.0):
        rates.append(bench_classify.measure(classifier, items))
    wall = time.perf_counter() - started
    signals = sum(len(classifier.classify(title, body)) for title, body in items)
    return {
        "items": len(items) * len(rates),
        "passes": len(rates),
        "items_per_cpu_s": statistics.median(rates),
        "items_per_s": len(items) * len(rates) / wall,
        "signals_per_item": signals / len(items),
        "mean_bytes": statistics.mean(len(body.encode()) for _, body in items),
    }


AsyncScenario = Callable[[Params, Path], Coroutine[Any, Any, Result]]
SyncScenario = Callable[[Params, Path], Result]
ASYNC: dict[str, AsyncScenario] = {
    "cold_idle": cold_and_idle,
    "stories_cold": stories_cold,
    "new_items": new_items,
    "daemon_memory": daemon_memory,
}
SYNC: dict[str, SyncScenario] = {"parse_floor": parse_floor, "classify": classification}


def main() -> None:
    """`python -m bench.worker NAME PARAMS_JSON OUT_PATH` (`bench.worker` calls this)."""
    name, raw, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    params: Params = json.loads(raw) | {"out": str(out)}
    workdir = Path(params["workdir"])
    workdir.mkdir(parents=True, exist_ok=True)
    configure_logging(os.environ.get("BENCH_LOG_LEVEL", "warning"), "json")
    if name in ASYNC:
        settle_start_up()  # as the `watcher run` command does before its round or daemon
        result = asyncio.run(ASYNC[name](params, workdir))
    elif name in SYNC:
        result = SYNC[name](params, workdir)
    else:
        raise SystemExit(f"unknown scenario {name!r}; known: {sorted([*ASYNC, *SYNC])}")
    out.write_text(json.dumps(result, indent=2), encoding="utf-8")
