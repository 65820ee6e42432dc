"""Process measurements (CPU time, RSS) and the statistics the table prints.

RSS comes from `/proc/self/statm` (Linux); elsewhere `current_rss` falls back to the
peak from `getrusage`, which is what the memory rows then show.
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

MB = 1024 * 1024
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


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


def cpu_seconds() -> float:
    """User + system CPU of this process and its waited-for children (worker pools)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


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
