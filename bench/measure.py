"""Process measurements (CPU time, RSS) and the statistics the table prints.

The service may parse in worker processes (a forkserver's children are not even our
children), so CPU and RSS are taken over the whole process tree: this process plus
every live descendant found in `/proc`, plus what the reaped ones left in their
parents' `cutime`/`cstime`. Linux only for the tree; elsewhere the figures fall back
to this process and its waited-for children.
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

MB = 1024 * 1024
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
PROC = "/proc"


def _maxrss_bytes(who: int) -> int:
    # ru_maxrss is in KiB on Linux and in bytes on macOS
    value = resource.getrusage(who).ru_maxrss
    return int(value if sys.platform == "darwin" else value * 1024)


def peak_rss() -> int:
    """The most resident memory this process has had, in bytes."""
    return _maxrss_bytes(resource.RUSAGE_SELF)


def children_peak_rss() -> int:
    """The largest peak RSS of any waited-for child process, in bytes (0 without children)."""
    return _maxrss_bytes(resource.RUSAGE_CHILDREN)


def current_rss() -> int:
    """This process's resident memory now, in bytes."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * _PAGE
    except OSError:
        return peak_rss()


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name, or None if it is gone."""
    try:
        with open(f"{PROC}/{pid}/stat", encoding="ascii", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return None
    return text.rpartition(")")[2].split()


def descendants(root: int | None = None) -> list[int]:
    """The live processes below `root` (default: this process), at any depth.

    Reads each process's `task/*/children` (a few small files per process of the tree);
    where the kernel has no such files, scans every process's `stat` instead.
    """
    root = os.getpid() if root is None else root
    found: list[int] = []
    todo = [root]
    while todo:
        pid = todo.pop()
        try:
            tasks = os.listdir(f"{PROC}/{pid}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"{PROC}/{pid}/task/{task}/children", encoding="ascii") as handle:
                    children = [int(child) for child in handle.read().split()]
            except FileNotFoundError:
                return _descendants_by_scan(root)
            except (OSError, ValueError):
                continue
            found.extend(children)
            todo.extend(children)
    return found


def _descendants_by_scan(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir(PROC)
    except OSError:
        return []
    for entry in entries:
        if entry.isdigit() and (fields := _stat_fields(int(entry))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _tree_cpu(pids: Iterator[int] | list[int]) -> float:
    ticks = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:  # utime stime cutime cstime are fields 14-17 of stat
            ticks += sum(int(v) for v in fields[11:15])
    return ticks / _TICK


def cpu_seconds() -> float:
    """User + system CPU of this process tree: self, reaped children, live descendants."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total + _tree_cpu(descendants())


def _pss(pid: int) -> int | None:
    """Proportional set size of `pid` in bytes (shared pages split among their users)."""
    try:
        with open(f"{PROC}/{pid}/smaps_rollup", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


def _rss(pid: int) -> int:
    try:
        with open(f"{PROC}/{pid}/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss() -> tuple[int, int]:
    """(RSS of this process, memory of this process and all its live descendants), bytes.

    The tree's figure adds up PSS, not RSS: forked workers share most of their pages
    with the process they were forked from, and RSS would count those pages in each.
    """
    own = current_rss()
    total = 0
    for pid in [os.getpid(), *descendants()]:
        pss = _pss(pid)
        total += pss if pss is not None else _rss(pid)
    return own, total


class RssSampler:
    """A thread sampling `tree_rss()` every `interval` s; `peak_tree` is the largest sum seen."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.peak_tree = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_tree = max(self.peak_tree, tree_rss()[1])

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak_tree = max(self.peak_tree, tree_rss()[1])


@dataclass(frozen=True, slots=True)
class Span:
    """Wall and CPU seconds of one measured stretch."""

    wall: float
    cpu: float


class Stopwatch:
    """`with Stopwatch() as sw: ...` then `sw.span` holds wall (perf_counter) and CPU time."""

    def __enter__(self) -> Stopwatch:
        self._wall = time.perf_counter()
        self._cpu = cpu_seconds()
        return self

    def __exit__(self, *_: object) -> None:
        self.span = Span(wall=time.perf_counter() - self._wall, cpu=cpu_seconds() - self._cpu)


@dataclass(frozen=True, slots=True)
class Summary:
    """Median, min and max of the runs of one figure."""

    median: float
    low: float
    high: float
    runs: int


def summarise(values: Sequence[float]) -> Summary | None:
    """The summary of `values`, or None when there are none."""
    if not values:
        return None
    return Summary(statistics.median(values), min(values), max(values), len(values))


def tree_pss(root: int) -> int:
    """PSS of every live process below `root` (not `root` itself), summed, in bytes."""
    total = 0
    for pid in descendants(root):
        pss = _pss(pid)
        total += pss if pss is not None else _rss(pid)
    return total


def process_tree_cpu(root: int) -> float:
    """User + system CPU seconds of `root` and its live descendants (and what they reaped)."""
    return _tree_cpu([root, *descendants(root)])


def settle_start_up() -> None:
    """As the `watcher run` command does before its round or daemon starts:
    `watcher.ops.memory.settle_start_up`, where the service has it (older branches lack it).
    """
    from watcher.ops import memory

    settle = getattr(memory, "settle_start_up", None)
    if settle is not None:
        settle()
