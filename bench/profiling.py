"""Profile one measured stretch of a worker, and rank where the time went.

`for_mode("py-spy" | "py-spy-gil" | "pyinstrument", out)` gives an object with `start()`
and `stop()`. py-spy attaches to this very process (`--pid`, all threads, worker
subprocesses too) only for the stretch, and writes collapsed stacks that `rank_stacks`
ranks by thread, pipeline stage and function (self and inclusive share of the busy
samples; a thread blocked on its queue, a lock or the selector counts as waiting).
"py-spy" samples every thread that is not waiting, so a thread inside SQLite's C code
(running a query or sleeping in the busy handler) or waiting for the GIL counts as
busy; "py-spy-gil" samples only the thread holding the GIL: where the Python CPU goes.
pyinstrument profiles the event loop's thread with async awareness, as a text tree.
Neither tool is a dependency of the project: `.venv/bin/pip install py-spy pyinstrument`
before `python -m bench.run --profile ...`.

SQLAlchemy's asyncio layer runs the ORM in greenlets, whose stacks py-spy shows from
the greenlet's start (`Session.flush`, `Session.exec`, ...), not under the service
function that awaited them: the stage ranking counts them as store time all the same,
and the "roots" ranking shows them.
"""

from __future__ import annotations

import functools
import linecache
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

# (stage, pattern on a frame "function (path:line)"), tried from the innermost frame out
STAGES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (stage, re.compile(pattern))
    for stage, pattern in (
        ("parse: feedparser", r"\((?:feedparser|feedparser_sgmllib|xml/sax)/"),
        ("parse: html to text", r"watcher/sources/html\.py|\((?:selectolax|nh3)/"),
        (
            "fetch: aiohttp/yarl/multidict",
            r"\((?:aiohttp|aiohappyeyeballs|yarl|multidict|propcache)/",
        ),
        ("fetch: watcher", r"watcher/sources/(?:http|guard|inflate)\.py"),
        ("parse: entries to items", r"watcher/sources/"),
        ("classify", r"watcher/classify/"),
        ("stories: facts", r"watcher/domain/story_facts\.py"),
        ("stories: sketch and compare", r"watcher/domain/stories\.py"),
        ("stories: index lookup and keys", r"watcher/store/story_index\.py"),
        ("render and check mail", r"watcher/notify/channels/|\((?:email|jinja2|markupsafe)/"),
        ("send: SMTP", r"\(aiosmtplib/"),
        ("store: sqlite3", r"\((?:aiosqlite|sqlite3)/"),
        ("store: driver and statements", r"watcher/store/|\((?:sqlalchemy|sqlmodel)/|greenlet"),
        ("worker IPC: pickle, pipes", r"\((?:pebble|multiprocessing)/|\(pickle\.py"),
        ("notify: dispatch and outbox", r"watcher/notify/"),
        ("logging", r"\((?:structlog|logging)/|watcher/ops/log\.py"),
        ("config", r"watcher/config"),
        ("imports", r"<frozen importlib"),
        ("scheduler", r"\(apscheduler/"),
        ("pipeline/service", r"watcher/service/"),
        ("event loop", r"\(asyncio/|\(selectors\.py"),
    )
)
# a leaf frame on one of these source lines is a thread waiting, not working
WAITING = re.compile(
    r"\btx\.get\(\)|work_queue\.get\(block=True\)|_selector\.(?:poll|select)\(|"
    r"\.wait\(|waiter\.acquire\(|time\.sleep\("
)
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
_PROCESS = re.compile(r"^process (?P<pid>\d+):")
_THREAD = re.compile(r"^thread \((?P<tid>\w+)\)(?:: (?P<name>.*))?$")


class Profiler(Protocol):
    """Something that profiles the stretch between `start()` and `stop()`."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


def for_mode(mode: str | None, out: Path) -> Profiler | None:
    """The profiler for `mode` writing to `out` (a path stem), or None for no profiling."""
    if not mode:
        return None
    if mode in ("py-spy", "py-spy-gil"):
        return PySpy(out, gil=mode == "py-spy-gil")
    if mode == "pyinstrument":
        return PyInstrument(out)
    raise ValueError(f"unknown profiler {mode!r}: use py-spy, py-spy-gil or pyinstrument")


class PySpy:
    """`py-spy record --pid <this process>` for the stretch; collapsed stacks and a ranking."""

    def __init__(self, out: Path, *, gil: bool = False, rate: int = 250) -> None:
        stem = out.name + ("-gil" if gil else "")
        self.raw = out.with_name(stem + ".collapsed.txt")
        self.report = out.with_name(stem + ".ranking.txt")
        self.gil = gil
        self.rate = rate
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        self._process = subprocess.Popen(
            [
                exe,
                "record",
                *(["--gil"] if self.gil else []),
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
        ranking = rank_stacks(read_collapsed(self.raw), main_pid=os.getpid())
        self.report.write_text(format_ranking(ranking))


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


@functools.cache
def _source_line(file: str, line: int) -> str:
    """The source text of `file:line`, looking the relative path up on sys.path."""
    for root in ["", *sys.path]:
        candidate = Path(root) / file
        if candidate.is_file():
            return linecache.getline(str(candidate), line)
    return ""


def is_waiting(leaf: str) -> bool:
    """True when the innermost Python frame is blocked on a queue, a lock or the selector."""
    match = _FRAME.match(leaf)
    if not match or not match["line"]:
        return False
    return bool(WAITING.search(_source_line(match["file"], int(match["line"]))))


def _short(frame: str) -> str:
    match = _FRAME.match(frame)
    return f"{match['function']} ({match['file']})" if match else frame


@dataclass(frozen=True, slots=True)
class Ranking:
    """Shares of the busy samples by thread kind, stage and function; `waiting` is the rest."""

    samples: int
    waiting: int
    threads: list[tuple[str, int]]
    stages: list[tuple[str, int]]
    self_time: list[tuple[str, int]]
    inclusive: list[tuple[str, int]]
    service: list[tuple[str, int]]
    roots: list[tuple[str, int]]


def rank_stacks(stacks: Iterable[tuple[list[str], int]], main_pid: int | None = None) -> Ranking:
    """Aggregate collapsed stacks; samples of threads that wait are counted apart."""
    stacks = list(stacks)
    if main_pid is None:
        by_pid: Counter[int] = Counter()
        for frames, count in stacks:
            if frames and (match := _PROCESS.match(frames[0])):  # the root process
                by_pid[int(match["pid"])] += count
        main_pid = by_pid.most_common(1)[0][0] if by_pid else None
    threads: Counter[str] = Counter()
    stages: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    service: Counter[str] = Counter()
    roots: Counter[str] = Counter()
    busy = waiting = 0
    for frames, count in stacks:
        # "process <pid>:<command line>" may itself contain ';' (python -c "a; b"): the
        # header is everything up to the thread frame
        pid, name, body = None, "", frames
        start = next((i for i, f in enumerate(frames) if _THREAD.match(f)), -1)
        if start >= 0:
            # a child's stacks are prefixed by its ancestors: the last process frame is it
            for frame in frames[:start]:
                if match := _PROCESS.match(frame):
                    pid = int(match["pid"])
            thread = _THREAD.match(frames[start])
            name = (thread["name"] if thread else "") or ""
            body = frames[start + 1 :]
        if not body or is_waiting(body[-1]):
            waiting += count
            continue
        busy += count
        threads[_thread_kind(pid, main_pid, name)] += count
        stages[stage_of(body)] += count
        self_time[_short(body[-1])] += count
        roots[_short(body[0])] += count
        for function in {_short(f) for f in body}:
            inclusive[function] += count
            if "(watcher/" in function:
                service[function] += count
    return Ranking(
        samples=busy,
        waiting=waiting,
        threads=threads.most_common(),
        stages=stages.most_common(),
        self_time=self_time.most_common(25),
        inclusive=inclusive.most_common(45),
        service=service.most_common(40),
        roots=roots.most_common(10),
    )


def _thread_kind(pid: int | None, main_pid: int | None, name: str) -> str:
    if pid is not None and main_pid is not None and pid != main_pid:
        return "child processes"
    if "_connection_worker_thread" in name:
        return "aiosqlite connection threads"
    if name.startswith("asyncio_"):
        return "default executor threads (asyncio.to_thread)"
    if name == "MainThread":
        return "main thread (event loop)"
    return f"thread {name}" if name else "unnamed thread"


def format_ranking(ranking: Ranking) -> str:
    """The ranking as plain text, in percent of the busy samples."""
    total = ranking.samples or 1

    def block(title: str, pairs: Iterable[tuple[str, int]]) -> list[str]:
        return ["", title, *(f"  {100 * c / total:5.1f}%  {k}" for k, c in pairs)]

    lines = [
        f"busy samples: {ranking.samples}; waiting samples left out: {ranking.waiting}",
        "(percentages are of the busy samples, all threads and processes together)",
    ]
    lines += block("threads:", ranking.threads)
    lines += block("stages (innermost frame that names one):", ranking.stages)
    lines += block("the service's own functions, inclusive:", ranking.service)
    lines += block(
        "stack roots (greenlets of SQLAlchemy's async layer start their own):", ranking.roots
    )
    lines += block("functions by self time:", ranking.self_time)
    lines += block("functions by inclusive time:", ranking.inclusive)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """`python -m bench.profiling FILE.collapsed.txt`: print the ranking of a py-spy file."""
    args = argv if argv is not None else sys.argv[1:]
    print(format_ranking(rank_stacks(read_collapsed(Path(args[0])))), end="")


if __name__ == "__main__":
    main()
