"""Profile one measured stretch of a worker, and rank where the time went.

`Profiler.for_mode("py-spy" | "pyinstrument", out)` gives an object with `start()` and
`stop()`. py-spy attaches to this very process (`--pid`, all threads, worker
subprocesses too) only for the stretch, and writes collapsed stacks that
`rank_stacks` turns into two rankings: by pipeline stage and by function (self and
inclusive share of the samples). pyinstrument profiles the event loop's thread with
async awareness and writes its text tree. Neither tool is a dependency of the project:
`.venv/bin/pip install py-spy pyinstrument` before `python -m bench.run --profile ...`.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

# (stage, pattern on a frame's "function (file:line)"), tried from the innermost frame out
STAGES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (stage, re.compile(pattern))
    for stage, pattern in (
        ("parse: feedparser", r"/feedparser/|sgmllib"),
        ("parse: html to text", r"watcher/sources/html\.py|selectolax|nh3"),
        ("parse: items", r"watcher/sources/"),
        ("classify", r"watcher/classify/"),
        ("dedup", r"watcher/dedup\.py"),
        ("store: sqlite", r"aiosqlite/|sqlite3/|\(<built-in method execute"),
        ("store: sqlalchemy/sqlmodel", r"/sqlalchemy/|/sqlmodel/|watcher/store/|greenlet"),
        ("fetch: httpx/httpcore/h11", r"/httpx/|/httpcore/|/h11/|/anyio/"),
        ("notify", r"watcher/notify/|aiosmtplib|/email/"),
        ("logging", r"structlog|/logging/"),
        ("config/pydantic", r"/pydantic|watcher/config"),
        ("scheduler", r"apscheduler"),
        ("threads: handoff", r"concurrent/futures|threading\.py|queue\.py"),
        ("event loop", r"/asyncio/|selectors\.py"),
    )
)
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


class Profiler(Protocol):
    """Something that profiles the stretch between `start()` and `stop()`."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


def for_mode(mode: str | None, out: Path) -> Profiler | None:
    """The profiler for `mode` writing to `out` (a path stem), or None for no profiling."""
    if not mode:
        return None
    if mode == "py-spy":
        return PySpy(out)
    if mode == "pyinstrument":
        return PyInstrument(out)
    raise ValueError(f"unknown profiler {mode!r}: use py-spy or pyinstrument")


class PySpy:
    """`py-spy record --pid <this process>` for the stretch; collapsed stacks and a ranking."""

    def __init__(self, out: Path, rate: int = 250) -> None:
        self.raw = out.with_suffix(".collapsed.txt")
        self.report = out.with_suffix(".ranking.txt")
        self.rate = rate
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        self._process = subprocess.Popen(
            [
                exe,
                "record",
                "--pid",
                str(os.getpid()),
                "--threads",
                "--subprocesses",
                "--rate",
                str(self.rate),
                "--format",
                "raw",
                "--output",
                str(self.raw),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        time.sleep(1.0)  # py-spy needs a moment to attach before the stretch begins

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.send_signal(signal.SIGINT)
        try:
            _, err = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            _, err = process.communicate()
        if not self.raw.exists():
            raise RuntimeError(f"py-spy wrote nothing: {err.decode(errors='replace')[-500:]}")
        self.report.write_text(format_ranking(rank_stacks(read_collapsed(self.raw))))


class PyInstrument:
    """pyinstrument in async mode over the stretch; writes its text report."""

    def __init__(self, out: Path) -> None:
        from pyinstrument import Profiler as _Profiler  # optional, see module docstring

        self.report = out.with_suffix(".pyinstrument.txt")
        self._profiler = _Profiler(interval=0.001, async_mode="enabled")

    def start(self) -> None:
        self._profiler.start()

    def stop(self) -> None:
        self._profiler.stop()
        self.report.write_text(self._profiler.output_text(unicode=True, show_all=False))


# --- reading py-spy's collapsed stacks -------------------------------------------------


def read_collapsed(path: Path) -> list[tuple[list[str], int]]:
    """(frames root→leaf, sample count) per line of a `--format raw` file."""
    stacks = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks


def stage_of(frames: list[str]) -> str:
    """The pipeline stage a stack belongs to: the innermost frame that names one."""
    for frame in reversed(frames):
        for stage, pattern in STAGES:
            if pattern.search(frame):
                return stage
    return "other"


def _short(frame: str) -> str:
    match = _FRAME.match(frame)
    if not match:
        return frame
    file = match["file"]
    for marker in ("site-packages/", "/lib/python3.", "/work/"):
        if marker in file:
            file = file.split(marker, 1)[1]
            if marker == "/lib/python3.":
                file = file.split("/", 1)[-1]
            break
    return f"{match['function']} ({file})"


@dataclass(frozen=True, slots=True)
class Ranking:
    """Shares of the samples: per stage, per function (self), per function (inclusive)."""

    samples: int
    threads: dict[str, int]
    stages: list[tuple[str, int]]
    self_time: list[tuple[str, int]]
    inclusive: list[tuple[str, int]]


def rank_stacks(stacks: Iterable[tuple[list[str], int]]) -> Ranking:
    """Aggregate collapsed stacks into stage and function rankings."""
    stages: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    total = 0
    for frames, count in stacks:
        total += count
        thread = frames[0] if frames and frames[0].startswith(("thread", "process")) else ""
        body = [f for f in frames if not f.startswith(("thread (", "process "))]
        threads[_thread_kind(body, thread)] += count
        stages[stage_of(body)] += count
        if body:
            self_time[_short(body[-1])] += count
        for name in {_short(f) for f in body}:
            inclusive[name] += count
    return Ranking(
        samples=total,
        threads=dict(threads),
        stages=stages.most_common(),
        self_time=self_time.most_common(25),
        inclusive=inclusive.most_common(40),
    )


def _thread_kind(frames: list[str], thread: str) -> str:
    text = ";".join(frames[:6])
    if "aiosqlite" in text:
        return "aiosqlite connection threads"
    if "concurrent/futures/thread" in text or "_worker (concurrent" in text:
        return "default executor threads (asyncio.to_thread)"
    if "process" in thread:
        return "worker processes"
    return "event-loop thread" if frames else "unknown"


def format_ranking(ranking: Ranking) -> str:
    """The ranking as plain text, percentages of all samples."""
    total = ranking.samples or 1
    lines = [f"samples: {ranking.samples} (CPU only: py-spy without --idle)", "", "threads:"]
    lines += [
        f"  {100 * c / total:5.1f}%  {k}"
        for k, c in sorted(ranking.threads.items(), key=lambda kv: -kv[1])
    ]
    lines += ["", "stages (innermost frame that names one):"]
    lines += [f"  {100 * c / total:5.1f}%  {k}" for k, c in ranking.stages]
    lines += ["", "functions by self time:"]
    lines += [f"  {100 * c / total:5.1f}%  {k}" for k, c in ranking.self_time]
    lines += ["", "functions by inclusive time:"]
    lines += [f"  {100 * c / total:5.1f}%  {k}" for k, c in ranking.inclusive]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """`python -m bench.profiling FILE.collapsed.txt`: print the ranking of a py-spy file."""
    args = argv if argv is not None else sys.argv[1:]
    print(format_ranking(rank_stacks(read_collapsed(Path(args[0])))), end="")


if __name__ == "__main__":
    main()
