"""Keep the service's memory close to what it uses: one malloc arena, not one per thread;
and the garbage collector off what the service imported (`settle_start_up`).

glibc gives each thread that contends for the allocator an arena of its own (up to
eight per core), and memory freed in one arena is not reused by another. The service's
threads (the database driver's, the SQLite writer and readers, the parse threads, the
worker pool's feeder) each fragment one, and the service's peak RSS grows with them
(bench/README.md has the measurements). Two arenas took a peak of 203 MB to 169 MB at
1,000 sources; one took 1–3 MB more off `run --once` at 200 sources, CPU unchanged
(its threads mostly allocate holding the GIL, so they hardly contend for the arena's
lock). This is the limit the `MALLOC_ARENA_MAX` environment variable sets; set that
variable to choose another (it is then left alone).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import sys
from collections.abc import Iterator

M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)
ARENAS = 1


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Ask glibc for at most `arenas` malloc arenas from now on.

    Returns True when the limit was set; False on a C library without `mallopt` (musl
    accepts and ignores it, other systems lack it) or when `MALLOC_ARENA_MAX` is set.
    Arenas that threads already made stay; call it before starting threads.
    """
    if "MALLOC_ARENA_MAX" in os.environ or not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the interpreter runs on
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, arenas))


def return_free_memory() -> bool:
    """Give the heap's free pages back to the system (glibc's `malloc_trim(0)`).

    A round frees most of what it allocated (documents, items, rows, alerts), but glibc
    keeps freed pages mapped below the top of the heap, so a daemon's resident memory
    after a busy round stays at that round's peak. True when memory went back; False
    when none could, or where there is no `malloc_trim`.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return False
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return bool(trim(0))


# Allocations (less deallocations) between two youngest-generation collections: the
# interpreter's default is 700. A round makes and drops a few hundred thousand objects
# (parsed items, rows, alerts), nearly all without cycles; collecting every 700 of them
# scanned the young objects thousands of times a round.
YOUNG_THRESHOLD = 10_000


def settle_start_up() -> None:
    """Freeze what exists now for the garbage collector, and collect the young less often.

    Call once, in the service's process, when the imports and the config are done and
    before the round or the daemon starts. The cyclic collector's full passes walk every
    tracked object, and most of them are the modules, classes and functions imported at
    start-up, which live as long as the process: in a first round mailing 2,000 alerts
    its ten full passes cost 0.8 s of the service's 10.8 s of CPU (the young passes
    0.5 s more). `gc.freeze()` moves them out of the collector's sight for good (they are
    never freed anyway); what the service makes later is collected as before, the young
    generation every `YOUNG_THRESHOLD` allocations instead of 700.
    """
    gc.freeze()  # no collection first: it would cost more than the little garbage it finds
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)


@contextlib.contextmanager
def collection_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block; what it made frozen at its end.

    For start-up: importing the service and reading its config make a few hundred
    thousand objects that live as long as the process. The collector's passes over them
    during an idle `run --once` cost about 60 ms of its CPU while finding almost nothing
    to free. At the end of the block they are frozen (`gc.freeze`, as `settle_start_up`
    does), not merely left to the collector: re-enabled with all of them still in its
    youngest generation, it would scan them all at the next allocation. The collector is
    then as it was before the block.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
