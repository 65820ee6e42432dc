"""`make bench`: run every scenario against the real service, print one table.

    .venv/bin/python -m bench.run [--runs 3] [--n 1000] [--latency-ms 100] ... [--only cold,new]

Servers (one feed farm per scenario, in its own process; one SMTP sink, in a thread of
this process) bind 127.0.0.1 only. Every measured run is a fresh worker process
(`bench.worker`) with its own temp folder and SQLite file; everything is removed at the
end unless `--keep`. The whole run is bounded by `--budget` seconds: each scenario gets
a share, runs at least once and repeats (up to `--runs`) while its share allows; a run
that overruns its share is killed and reported. Raw results go to `bench/results/`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.control import ROOT, FarmProcess
from bench.feeds import FarmSpec
from bench.http_clients import compare as compare_clients
from bench.http_clients import render as render_clients
from bench.peer import render as render_peer
from bench.peer import run_peer
from bench.report import figures, render, rows, selected
from bench.sink import SmtpSink

RESULTS = Path(__file__).resolve().parent / "results"
SCENARIOS = ("classify", "floor", "new", "cold", "memory", "stories", "peer", "http")
# share of --budget per scenario; the rest is farm start-up and slack
SHARES = {
    "classify": 0.03,
    "floor": 0.08,
    "new": 0.15,
    "cold": 0.31,
    "memory": 0.22,
    "stories": 0.16,
}
Result = dict[str, Any]
MIN_TIMEOUT = 60.0


@dataclass
class Plan:
    """How one scenario's runs are made: worker name, params per run, what to add after."""

    name: str
    worker: str
    runs: int
    params: Callable[[int], Result]
    before: Callable[[], None] = lambda: None
    after: Callable[[Result], None] = lambda _: None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The knobs."""
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=3, help="runs per scenario (median of these)")
    p.add_argument("--n", type=int, default=1000, help="sources in the cold and idle rounds")
    p.add_argument("--m", type=int, default=20, help="items per feed")
    p.add_argument("--new-n", type=int, default=200, help="sources in the new-items round")
    p.add_argument("--k", type=int, default=2, help="new items per feed in the new-items round")
    p.add_argument("--latency-ms", type=float, default=100.0, help="farm latency per request")
    p.add_argument("--seed", type=int, default=8, help="seed of the synthetic text")
    p.add_argument("--signal-fraction", type=float, default=0.25)
    p.add_argument("--gzip", action="store_true", help="farm gzips bodies when asked")
    p.add_argument(
        "--concurrency",
        type=int,
        default=100,
        help="http.max_connections and http.per_host, where the service has them",
    )
    p.add_argument(
        "--prime-batch",
        type=int,
        default=100,
        help="if the cold round crashes, prime the idle round in batches of this many",
    )
    p.add_argument("--daemon-sources", type=int, default=10)
    p.add_argument("--daemon-rounds", type=int, default=200)
    p.add_argument("--daemon-interval", type=float, default=0.2, help="seconds between polls")
    p.add_argument("--daemon-latency-ms", type=float, default=10.0)
    p.add_argument("--daemon-runs", type=int, default=1)
    p.add_argument("--classify-seconds", type=float, default=3.0)
    p.add_argument("--peer-n", type=int, default=200, help="feeds in the peer scenario")
    p.add_argument("--peer-pairs", type=int, default=1, help="interleaved pairs (peer scenario)")
    p.add_argument(
        "--peer-busy", type=int, default=0, help="CPU-bound processes beside the peer scenario"
    )
    p.add_argument(
        "--stories-n", type=int, default=200, help="feeds of templated notes (scenario 7)"
    )
    p.add_argument("--budget", type=float, default=600.0, help="seconds for the whole bench")
    p.add_argument(
        "--only",
        default=",".join(SCENARIOS),
        help=f"comma-separated subset of {','.join(SCENARIOS)}",
    )
    p.add_argument(
        "--override",
        type=json.loads,
        default=None,
        help='JSON merged over the watcher config, e.g. \'{"dispatcher": {"batch": 500}}\'',
    )
    p.add_argument(
        "--source-override", type=json.loads, default=None, help="JSON merged over every source"
    )
    p.add_argument(
        "--profile",
        choices=("py-spy", "py-spy-gil", "pyinstrument"),
        default=None,
        help="profile one round instead of benchmarking (see bench/README.md)",
    )
    p.add_argument("--profile-round", choices=("cold", "idle", "new"), default="cold")
    p.add_argument("--json", type=Path, default=None, help="where to write the raw results")
    p.add_argument("--keep", action="store_true", help="keep the temp folder (logs, databases)")
    return p.parse_args(argv)


class Runner:
    """Runs workers within the time budget and collects their results."""

    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args = args
        self.tmp = tmp
        self.started = time.monotonic()
        self.errors: list[str] = []
        self.results: dict[str, list[Result]] = {}

    def left(self) -> float:
        """Seconds left of the whole budget."""
        budget: float = self.args.budget
        return budget - (time.monotonic() - self.started)

    def run(self, plan: Plan, share: float) -> None:
        """Up to `plan.runs` runs while the scenario's share (and the whole budget) allows."""
        allowance = self.args.budget * share
        began = time.monotonic()
        last = 0.0
        for index in range(plan.runs):
            spent = time.monotonic() - began
            if index and (spent + 1.1 * last > allowance or 1.1 * last > self.left()):
                print(f"  {plan.name}: stopping after {index} runs (its time share is used)")
                break
            # generous per run (a killed run measures nothing), never past the whole budget
            timeout = min(max(allowance - spent, 2 * last, MIN_TIMEOUT), self.left() + 30)
            plan.before()
            t0 = time.monotonic()
            result = self.work(plan, index, max(timeout, MIN_TIMEOUT))
            last = time.monotonic() - t0
            if result is not None:
                # one-off work of this run (priming after a crash) later runs will not repeat
                last -= float(result.get("extra_seconds", 0.0))
                plan.after(result)
                self.results.setdefault(plan.name, []).append(result)
                for part in (result, result.get("cold", {}), result.get("prime", {})):
                    if isinstance(part, dict) and part.get("error"):
                        self.errors.append(f"{plan.name} run {index + 1}: {part['error']}")
            print(f"  {plan.name} run {index + 1}: {time.monotonic() - t0:.1f} s", flush=True)

    def work(self, plan: Plan, index: int, timeout: float) -> Result | None:
        workdir = self.tmp / f"{plan.name}-{index + 1}"
        workdir.mkdir(parents=True)
        params = plan.params(index) | {"workdir": str(workdir)}
        out = workdir / "result.json"
        command = [sys.executable, "-m", "bench.worker", plan.worker, json.dumps(params), str(out)]
        with (workdir / "worker.log").open("wb") as log:
            # its own process group: a killed worker takes its parse workers with it
            process = subprocess.Popen(
                command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
            try:
                returncode = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                self.errors.append(f"{plan.name} run {index + 1}: killed after {timeout:.0f} s")
                if out.exists():  # what the worker wrote before it was killed
                    partial: Result = json.loads(out.read_text())
                    return partial | {"killed": True}
                return None
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)  # leftovers of a finished worker
        if returncode != 0 or not out.exists():
            tail = (workdir / "worker.log").read_text(errors="replace").strip().splitlines()[-3:]
            self.errors.append(
                f"{plan.name} run {index + 1}: worker exit {returncode}: {' / '.join(tail)}"
            )
            return None
        result: Result = json.loads(out.read_text())
        return result


def _spec(args: argparse.Namespace, epoch: int, **changes: Any) -> FarmSpec:
    spec = FarmSpec(
        n=args.n,
        m=args.m,
        seed=args.seed,
        epoch=epoch,
        signal_fraction=args.signal_fraction,
        latency=args.latency_ms / 1000,
        gzip=args.gzip,
    )
    return replace(spec, **changes)


def _common(args: argparse.Namespace) -> Result:
    return {
        "concurrency": args.concurrency,
        "override": args.override,
        "source_override": args.source_override,
    }


class Scenarios:
    """The scenarios in the order they run, each with its own farm; one SMTP sink for all."""

    def __init__(self, args: argparse.Namespace, runner: Runner, sink: SmtpSink) -> None:
        self.args = args
        self.runner = runner
        self.sink = sink
        self.epoch = int(time.time())
        self.farm_log = runner.tmp / "farm.log"
        self.farm_digest = ""

    def _mailed(self, result: Result) -> None:
        result["sink"] = self.sink.snapshot().as_dict()

    def classify(self) -> None:
        args = self.args
        print("scenario 4: classification", flush=True)
        params = {"seconds": args.classify_seconds}
        self.runner.run(
            Plan("classify", "classify", args.runs, lambda _: params), SHARES["classify"]
        )

    def floor_cold_idle(self, floor: bool, cold: bool) -> None:
        """Scenarios 6, 1, 3 and 5a share one farm of N feeds (and its documents)."""
        args = self.args
        documents = self.runner.tmp / "documents.bin"
        with FarmProcess(_spec(args, self.epoch), self.farm_log, dump=documents) as farm:
            self.farm_digest = farm.digest
            if floor:
                print("scenario 6: parse floor", flush=True)
                params = {"documents": str(documents), "farm_digest": farm.digest}
                plan = Plan("parse_floor", "parse_floor", args.runs, lambda _: params)
                self.runner.run(plan, SHARES["floor"])
            if cold:
                print(f"scenarios 1, 3, 5a: cold + idle rounds, N={args.n}", flush=True)
                base = _common(args) | {"farm_port": farm.port, "n": args.n, "m": args.m}

                def params_for(index: int) -> Result:
                    # if the cold round crashes, run 1 primes in batches to still measure idle
                    return base | {"prime_batch": args.prime_batch if index == 0 else None}

                self.runner.run(
                    Plan("cold_idle", "cold_idle", args.runs, params_for), SHARES["cold"]
                )

    def new_items(self) -> None:
        args = self.args
        print(f"scenario 2: new-items round, N={args.new_n}, K={args.k}", flush=True)
        with FarmProcess(_spec(args, self.epoch, n=args.new_n), self.farm_log) as farm:
            params = _common(args) | {
                "farm_port": farm.port,
                "n": args.new_n,
                "m": args.m,
                "k": args.k,
                "smtp_port": self.sink.port,
            }
            plan = Plan(
                "new_items", "new_items", args.runs, lambda _: params, self.sink.reset, self._mailed
            )
            self.runner.run(plan, SHARES["new"])

    def memory(self) -> None:
        args = self.args
        rounds = args.daemon_rounds
        print(f"scenario 5b: daemon, {args.daemon_sources} sources, {rounds} rounds", flush=True)
        latency = args.daemon_latency_ms / 1000
        spec = _spec(args, self.epoch, n=args.daemon_sources, latency=latency)
        share = SHARES["memory"]
        with FarmProcess(spec, self.farm_log) as farm:
            params = _common(args) | {
                "farm_port": farm.port,
                "n": args.daemon_sources,
                "rounds": rounds,
                "interval": args.daemon_interval,
                "smtp_port": self.sink.port,
                "checkpoints": list(range(10, rounds + 1, max(10, rounds // 10))),
                "timeout": max(30.0, min(args.budget * share, self.runner.left()) - 20),
            }
            plan = Plan(
                "daemon_memory",
                "daemon_memory",
                args.daemon_runs,
                lambda _: params,
                self.sink.reset,
                self._mailed,
            )
            self.runner.run(plan, share)

    def stories(self) -> None:
        """Scenario 7: the templated farm's cold round, clustering off and on."""
        args = self.args
        print(f"scenario 7: templated notes, cold round, N={args.stories_n}", flush=True)
        spec = _spec(args, self.epoch, n=args.stories_n, template=True)
        with FarmProcess(spec, self.farm_log) as farm:
            params = _common(args) | {"farm_port": farm.port, "n": args.stories_n, "m": args.m}
            plan = Plan("stories_cold", "stories_cold", args.runs, lambda i: params | {"index": i})
            self.runner.run(plan, SHARES["stories"])


def bench(args: argparse.Namespace, tmp: Path) -> tuple[Runner, Result]:
    """Every selected scenario; returns the runner (results, errors) and the farm's digest."""
    runner = Runner(args, tmp)
    only = set(args.only.split(","))
    with SmtpSink() as sink:
        scenarios = Scenarios(args, runner, sink)
        if "classify" in only:
            scenarios.classify()
        if only & {"floor", "cold"}:
            scenarios.floor_cold_idle("floor" in only, "cold" in only)
        if "new" in only:
            scenarios.new_items()
        if "memory" in only:
            scenarios.memory()
        if "stories" in only:
            scenarios.stories()
        meta: Result = {"farm_digest": scenarios.farm_digest}
        if "peer" in only:
            print(f"scenario 8: the peer (rss2email), N={args.peer_n}", flush=True)
            peer = run_peer(args, tmp, sink)
            runner.results["peer"] = [peer.as_dict()]
            runner.errors.extend(peer.problems)
            meta["peer"] = render_peer(args, peer)
    if "http" in only:
        print("scenario 9: HTTP clients, CPU per conditional GET", flush=True)
        try:
            clients = compare_clients(1000, 50, args.runs)
        except (OSError, subprocess.SubprocessError, ValueError, RuntimeError) as exc:
            runner.errors.append(f"http clients: {type(exc).__name__}: {exc}")
        else:
            runner.results["http_clients"] = [clients]
            meta["http"] = render_clients(clients, 1000, 50)
    return runner, meta


def profile(args: argparse.Namespace, tmp: Path) -> None:
    """One round under the profiler: cold or idle at N, or the new-items round at new-N.

    The reports are copied to bench/results/.
    """
    RESULTS.mkdir(exist_ok=True)
    new = args.profile_round == "new"
    n = args.new_n if new else args.n
    spec = _spec(args, int(time.time()), n=n)
    with FarmProcess(spec, tmp / "farm.log") as farm, SmtpSink() as sink:
        runner = Runner(args, tmp)
        params = _common(args) | {"farm_port": farm.port, "n": n, "m": args.m}
        params |= {"profile": args.profile, "profile_round": args.profile_round}
        if new:
            params |= {"k": args.k, "smtp_port": sink.port}
            runner.run(Plan("profile", "new_items", 1, lambda _: params), 1.0)
        else:
            params["prime_batch"] = args.prime_batch if args.profile_round == "idle" else None
            runner.run(Plan("profile", "cold_idle", 1, lambda _: params), 1.0)
        mailed = sink.snapshot()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for path in sorted((tmp / "profile-1").glob("profile-*")):
        target = RESULTS / f"{stamp}-n{n}-{path.name}"
        shutil.copy(path, target)
        print(f"wrote {target}")
    if new:
        print(f"sink: {mailed.messages} emails over {mailed.connections} connection(s)")
    for result in runner.results.get("profile", []):
        for name in ("new",) if new else ("cold", "idle"):
            round_ = result if new else result[name]
            if "wall" in round_:
                print(
                    f"{name} round: wall {round_['wall']:.2f} s, cpu {round_['cpu']:.2f} s,"
                    f" error: {round_['error']}, db: {round_['db']}"
                )
    for error in runner.errors:
        print(f"error: {error}")


def header(args: argparse.Namespace, load_before: tuple[float, ...]) -> str:
    """Where and when the figures were taken."""
    load_after = os.getloadavg()
    return (
        f"Supply Watcher bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} "
        f"{platform.release()}; load average {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after\n"
        f"knobs: N={args.n} M={args.m} K={args.k} new-items N={args.new_n} "
        f"latency={args.latency_ms:g} ms concurrency={args.concurrency} runs={args.runs} "
        f"daemon={args.daemon_sources} sources × {args.daemon_rounds} rounds every "
        f"{args.daemon_interval:g} s"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the bench; 0 when every scenario produced its figures (targets are reported)."""
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="watcher-bench-"))
    load_before = os.getloadavg()
    started = time.monotonic()
    try:
        if args.profile:
            profile(args, tmp)
            return 0
        runner, meta = bench(args, tmp)
        table = selected(rows(vars(args)), set(args.only.split(",")))
        figs = figures(table, runner.results)
        print()
        print(header(args, load_before))
        print()
        print(render(table, figs))
        for extra in ("peer", "http"):
            if extra in meta:
                print()
                print(meta[extra])
        for result in runner.results.get("parse_floor", []):
            if not result.get("digest_matches", True):
                runner.errors.append("parse floor: documents differ from the farm's")
                break
        if runner.errors:
            print("\nproblems:")
            for error in runner.errors:
                print(f"- {error}")
        print(f"\ntotal {time.monotonic() - started:.0f} s")
        RESULTS.mkdir(exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        out = args.json or RESULTS / f"{stamp}.json"
        out.write_text(
            json.dumps(
                {
                    "knobs": {
                        k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                    },
                    "meta": meta,
                    "errors": runner.errors,
                    "results": runner.results,
                    "figures": figs,
                },
                indent=2,
                default=_jsonable,
            )
        )
        print(f"raw results: {out}")
        return 1 if runner.errors else 0
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def _jsonable(value: object) -> object:
    slots = getattr(value, "__slots__", None)
    if slots:
        return {name: getattr(value, name) for name in slots}
    return str(value)


if __name__ == "__main__":
    raise SystemExit(main())
