"""The peer, side by side: rss2email and the watcher on one feed farm and one SMTP sink.

`make bench` runs this as scenario "peer" (`--only peer` alone). Each *pair* is a fresh
farm of N feeds × M items in which every item reports a supply shock (so the watcher,
like rss2email, mails every item), and three programs with their own state:

- **rss2email** (pinned in `bench/peer-requirements.txt`, installed into `.venv-peer`
  on first use), started as cron starts it: `r2e run`, a fresh process per round;
- **watcher, cron-style**: `watcher run --once`, a fresh process per round;
- **watcher, daemon**: one `bench.peer_daemon` process that stays up; a round is
  `one_round` on its open runtime (its start-up is reported on a line of its own).

The rounds, in order: *first* (every program mails all N × M items), *new* (the farm
publishes K items per feed; N × K emails each) and *idle* (nothing new; every feed
answers 304 to a conditional GET, no email). Within a round the three programs run one
after the other, in an order that rotates from pair to pair, so a slow stretch of the
machine does not fall on one program only.

Each run is measured by `bench.treerun` (wall from start to exit, CPU of the whole
process tree, orphans killed and counted) while this process samples the tree's PSS
every 0.1 s; the daemon measures its own rounds (`bench.peer_daemon`). After each run
the sink must have accepted exactly the expected emails, each Message-ID once.

`--peer-busy K` starts K CPU-bound processes beside the programs for the whole scenario
(the "busy machine" of issue 20); each is stopped at the end.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bench.configs import bench_config, merge
from bench.control import ROOT, FarmProcess
from bench.feeds import FarmSpec
from bench.measure import MB, process_tree_cpu, summarise, tree_pss
from bench.sink import SmtpSink
from bench.venvs import pinned_venv

PEER_VENV = ROOT / ".venv-peer"
REQUIREMENTS = Path(__file__).resolve().parent / "peer-requirements.txt"
ROUNDS = ("first", "new", "idle")
PROGRAMS = ("rss2email", "watcher --once", "watcher daemon")
# issue 20's targets: watcher ÷ rss2email, per round (wall, CPU of the tree)
TARGETS = {"first": (0.33, 1.0), "new": (0.1, 1.0), "idle": (0.05, 1.0)}
PSS_TARGET_MB = {200: 100.0, 1000: 150.0}
RUN_TIMEOUT = 900.0  # seconds for one program's round: a stuck run is killed and reported
SUBSCRIBER = "analyst@example.com"
Result = dict[str, Any]


@dataclass
class PeerReport:
    """What the scenario measured: runs by (program, round), problems, its own log lines."""

    runs: dict[str, list[Result]] = field(default_factory=dict)
    load: list[float] = field(default_factory=list)  # 1-minute load average before, after
    startup: list[Result] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def add(self, program: str, round_: str, figures: Result) -> None:
        """Record one run's figures."""
        self.runs.setdefault(f"{program}|{round_}", []).append(figures)

    def as_dict(self) -> Result:
        """JSON-ready."""
        return {
            "runs": self.runs,
            "startup": self.startup,
            "problems": self.problems,
            "load": self.load,
        }


def ensure_peer() -> Path:
    """The `r2e` of `.venv-peer`, created and filled from the pinned requirements if needed."""
    return pinned_venv(PEER_VENV, REQUIREMENTS).parent / "r2e"


def rss2email_config(path: Path, urls: list[str], smtp_port: int) -> None:
    """An rss2email configuration: every farm feed, mail over SMTP to the sink."""
    lines = [
        "[DEFAULT]",
        "from = bench@example.com",
        f"to = {SUBSCRIBER}",
        "email-protocol = smtp",
        "smtp-server = 127.0.0.1",
        f"smtp-port = {smtp_port}",
        "smtp-ssl = False",
        "smtp-auth = False",
        "",
    ]
    for index, url in enumerate(urls):
        lines += [f"[feed.farm-{index:04d}]", f"url = {url}", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


@contextlib.contextmanager
def burners(count: int) -> Iterator[None]:
    """`count` CPU-bound processes running for the duration of the block."""
    spin = "while True:\n    pass\n"
    processes = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(count)]
    try:
        yield
    finally:
        for process in processes:
            process.kill()
            process.wait()


def measured(command: list[str], workdir: Path, label: str, tree: Path = ROOT) -> Result:
    """Run `command` under `bench.treerun`; its figures plus the tree's peak PSS (MB).

    `tree` is the checkout on `PYTHONPATH` (this one by default): a command of another
    checkout (`bench.once_ab`) must run with its own, or it would import this one's code.
    """
    out = workdir / f"{label}.json"
    env = os.environ | {"PYTHONPATH": str(tree)}
    wrapped = [sys.executable, "-m", "bench.treerun", str(out), "--", *command]
    with (workdir / f"{label}.log").open("wb") as log:
        process = subprocess.Popen(
            wrapped, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        peak = 0
        deadline = time.monotonic() + RUN_TIMEOUT
        try:
            while process.poll() is None:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{label}: still running after {RUN_TIMEOUT:.0f} s")
                peak = max(peak, tree_pss(process.pid))
                time.sleep(0.1)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    figures: Result = json.loads(out.read_text(encoding="utf-8"))
    return figures | {"peak_pss_mb": peak / MB}


class Daemon:
    """A `bench.peer_daemon` process: `round()` runs one round and returns its figures."""

    def __init__(self, config: Path, workdir: Path) -> None:
        self._log = (workdir / "daemon.log").open("wb")
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.peer_daemon", str(config)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
            text=True, start_new_session=True,
        )  # fmt: skip
        opened = self._answer()["startup"]
        # from the process's start: interpreter, imports, config, database, HTTP client
        self.startup = {
            "wall": time.perf_counter() - started,
            "cpu": process_tree_cpu(self.process.pid),
            "open_wall": opened["wall"],
        }

    def _answer(self) -> Result:
        stdout: IO[str] | None = self.process.stdout
        assert stdout is not None
        line = stdout.readline()
        if not line:
            raise RuntimeError(f"the watcher daemon ended (exit {self.process.wait()})")
        answer: Result = json.loads(line)
        return answer

    def round(self) -> Result:
        """One whole round; wall, CPU and peak PSS as the daemon measured them."""
        stdin = self.process.stdin
        assert stdin is not None
        stdin.write("round\n")
        stdin.flush()
        return self._answer()

    def close(self) -> None:
        """Stop the daemon (and everything it started)."""
        with contextlib.suppress(BrokenPipeError, OSError):
            assert self.process.stdin is not None
            self.process.stdin.write("quit\n")
            self.process.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self._log.close()


def watcher_command(config: Path) -> list[str]:
    """`watcher run --once` as a user's cron runs it: the installed console script."""
    script = Path(sys.executable).parent / "watcher"
    start = [str(script)] if script.exists() else [sys.executable, "-m", "watcher"]
    return [*start, "run", "--once", "--config", str(config)]


def one_pair(
    args: argparse.Namespace, index: int, workdir: Path, sink: SmtpSink, report: PeerReport
) -> None:
    """One farm, the three programs, the three rounds; figures and problems into `report`."""
    r2e = ensure_peer()
    spec = FarmSpec(
        n=args.peer_n, m=args.m, seed=args.seed + index, epoch=int(time.time()),
        signal_fraction=1.0, latency=args.latency_ms / 1000,
    )  # fmt: skip
    # story clustering off, as in the issue's own measurement: the farm's templated text
    override = merge({"polling": {"story_window": "0s"}}, dict(args.override or {}))
    workdir.mkdir(parents=True)
    with FarmProcess(spec, workdir / "farm.log") as farm:
        urls = [farm.control.url(i) for i in range(spec.n)]
        dirs = {name: workdir / name.replace(" ", "-") for name in PROGRAMS}
        for path in dirs.values():
            path.mkdir(parents=True)
        for name in ("watcher --once", "watcher daemon"):
            bench_config(
                dirs[name], urls, smtp_port=sink.port, subscribed=True,
                concurrency=args.concurrency, override=override,
            )  # fmt: skip
        rss2email_config(dirs["rss2email"] / "r2e.cfg", urls, sink.port)
        daemon = Daemon(dirs["watcher daemon"] / "watcher.yaml", dirs["watcher daemon"])
        try:
            report.startup.append(daemon.startup)
            for round_ in ROUNDS:
                expected = {"first": spec.n * spec.m, "new": spec.n * args.k, "idle": 0}[round_]
                if round_ == "new":
                    farm.control.publish(args.k)
                order = PROGRAMS[index % 3 :] + PROGRAMS[: index % 3]
                for program in order:
                    sink.reset()
                    label = f"{program.replace(' ', '-')}-{round_}"
                    if program == "rss2email":
                        data = dirs[program] / "r2e.json"
                        command = [str(r2e), "-c", "r2e.cfg", "-d", str(data), "run"]
                        figures = measured(command, dirs[program], label)
                    elif program == "watcher --once":
                        config = dirs[program] / "watcher.yaml"
                        figures = measured(watcher_command(config), dirs[program], label)
                    else:
                        figures = daemon.round()
                    counts = sink.snapshot()
                    figures |= {"emails": counts.messages, "expected": expected,
                                "duplicates": counts.duplicate_message_ids}  # fmt: skip
                    report.add(program, round_, figures)
                    _check(report, f"pair {index + 1}, {program}, {round_}", figures)
                    print(
                        f"  peer pair {index + 1} {round_:<5} {program:<15}"
                        f" wall {figures['wall']:6.2f} s  cpu {figures['cpu']:6.2f} s"
                        f"  pss {figures['peak_pss_mb']:5.0f} MB"
                        f"  emails {counts.messages}/{expected}",
                        flush=True,
                    )
        finally:
            daemon.close()


def _check(report: PeerReport, where: str, figures: Result) -> None:
    """Correctness of one run: each expected email exactly once, a clean exit, no orphans."""
    if figures["emails"] != figures["expected"]:
        report.problems.append(
            f"peer {where}: {figures['emails']} emails, expected {figures['expected']}"
        )
    if figures["duplicates"]:
        report.problems.append(f"peer {where}: {figures['duplicates']} duplicate Message-IDs")
    if figures.get("exit") not in (0, None):
        report.problems.append(f"peer {where}: exit {figures['exit']}")
    if figures.get("leftovers"):
        commands = "; ".join(figures.get("leftover_commands", []))
        report.problems.append(
            f"peer {where}: {figures['leftovers']} processes outlived it by 2 s: {commands}"
        )


def compile_watcher() -> None:
    """Write the bytecode of the watcher's modules, as installing a package does.

    rss2email is pip-installed, its modules compiled at install; `pip install .` compiles
    the watcher's too, and the image's build runs it once for the same reason. Run from
    a checkout under PYTHONDONTWRITEBYTECODE=1 (this machine's environment), the watcher
    would instead compile its ~110 modules from source in every cron run: about 0.2 s of
    CPU per run that no installed copy pays. A module edited later is compiled from
    source again until the next bench run (Python checks each file's source stamp).
    """
    import watcher

    compileall.compile_dir(Path(watcher.__file__).parent, quiet=1)


def run_peer(args: argparse.Namespace, tmp: Path, sink: SmtpSink) -> PeerReport:
    """Every pair, with `--peer-busy` burners beside them when asked."""
    compile_watcher()
    report = PeerReport(load=[os.getloadavg()[0]])
    with burners(args.peer_busy):
        for index in range(args.peer_pairs):
            try:
                one_pair(args, index, tmp / f"peer-{index + 1}", sink, report)
            except (OSError, RuntimeError, TimeoutError, subprocess.CalledProcessError) as exc:
                report.problems.append(f"peer pair {index + 1}: {type(exc).__name__}: {exc}")
    report.load.append(os.getloadavg()[0])
    return report


def _cell(values: list[float], fmt: str = "{:.2f}") -> str:
    summary = summarise(values)
    if summary is None:
        return "–"
    if summary.runs == 1 or summary.low == summary.high:
        return fmt.format(summary.median)
    return f"{fmt.format(summary.median)} ({fmt.format(summary.low)}–{fmt.format(summary.high)})"


def _ratio(watcher: list[float], peer: list[float], target: float | None) -> str:
    pairs = [w / p for w, p in zip(watcher, peer, strict=False) if p > 0]
    if not pairs:
        return "–"
    text = _cell(pairs)
    if target is None:
        return text
    met = max(pairs) <= target
    return f"{text} {'ok' if met else 'MISS'} (≤ {target:g})"


def render(args: argparse.Namespace, report: PeerReport) -> str:
    """The peer table: per round and program, wall, CPU, PSS, emails and the ratios."""
    busy = f", {args.peer_busy} CPU burner(s) beside it" if args.peer_busy else ", no burner"
    if len(report.load) == 2:
        busy += f"; load average {report.load[0]:.2f} before, {report.load[1]:.2f} after"
    lines = [
        f"peer: rss2email vs watcher, N={args.peer_n}×{args.m}, K={args.k},"
        f" latency {args.latency_ms:g} ms, {args.peer_pairs} pair(s){busy}",
        "round | program | wall s | CPU s (tree) | peak PSS MB | emails/expected"
        " | wall ÷ rss2email | CPU ÷ rss2email",
        "--- | --- | --- | --- | --- | --- | --- | ---",
    ]
    for round_ in ROUNDS:
        peer = report.runs.get(f"rss2email|{round_}", [])
        for program in PROGRAMS:
            runs = report.runs.get(f"{program}|{round_}", [])
            if not runs:
                continue
            walls = [r["wall"] for r in runs]
            cpus = [r["cpu"] for r in runs]
            emails = ", ".join(f"{r['emails']}/{r['expected']}" for r in runs)
            if program == "rss2email":
                wall_ratio = cpu_ratio = "1"
            else:
                wall_target, cpu_target = TARGETS[round_]
                wall_ratio = _ratio(walls, [r["wall"] for r in peer], wall_target)
                cpu_ratio = _ratio(cpus, [r["cpu"] for r in peer], cpu_target)
            lines.append(
                f"{round_} | {program} | {_cell(walls)} | {_cell(cpus)}"
                f" | {_cell([r['peak_pss_mb'] for r in runs], '{:.0f}')} | {emails}"
                f" | {wall_ratio} | {cpu_ratio}"
            )
    if report.startup:
        lines.append(
            "watcher daemon start-up, process start → ready (not in its rounds):"
            f" wall {_cell([s['wall'] for s in report.startup])} s,"
            f" CPU {_cell([s['cpu'] for s in report.startup])} s"
        )
    target = PSS_TARGET_MB.get(args.peer_n)
    if target is not None:
        peaks = [
            r["peak_pss_mb"]
            for program in PROGRAMS[1:]
            for round_ in ROUNDS
            for r in report.runs.get(f"{program}|{round_}", [])
        ]
        if peaks:
            verdict = "ok" if max(peaks) <= target else "MISS"
            lines.append(
                f"watcher peak tree PSS at N={args.peer_n}: {max(peaks):.0f} MB"
                f" {verdict} (≤ {target:g} MB)"
            )
    return "\n".join(lines)
