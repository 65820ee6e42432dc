"""Keep the service's memory close to what it uses: two malloc arenas, not one per thread.

glibc gives each thread that contends for the allocator an arena of its own (up to
eight per core), and memory freed in one arena is not reused by another. The service's
threads (the database driver's, the SQLite writer and readers, the worker pool's
feeder) each fragment one, and the service's peak RSS grows with them (bench/README.md
has the measurements). This is the limit the `MALLOC_ARENA_MAX` environment variable
sets; set that variable to choose another (it is then left alone).
"""

from __future__ import annotations

import ctypes
import os
import sys

M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)
ARENAS = 2


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
