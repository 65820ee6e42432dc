"""The malloc arena limit that keeps the threaded service's memory close to what it uses."""

from __future__ import annotations

import os
import platform

import pytest

from watcher.ops.memory import limit_malloc_arenas, return_free_memory

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not GLIBC, reason="mallopt's arena limit is glibc's")
def test_the_arena_limit_is_set_on_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without MALLOC_ARENA_MAX, glibc accepts the limit."""
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert limit_malloc_arenas() is True


def test_a_limit_from_the_environment_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """MALLOC_ARENA_MAX set by the operator wins: the service does not override it."""
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False


def _resident_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(not GLIBC, reason="malloc_trim is glibc's")
def test_memory_a_round_freed_goes_back_to_the_system() -> None:
    """Freed heap pages below a live allocation stay resident until the trim returns them."""
    blocks = [bytes(1000) + bytes([n % 251]) for n in range(60_000)]  # about 60 MB of heap
    kept = blocks[::100]  # live blocks scattered up the heap: glibc cannot shrink its top
    del blocks
    before = _resident_mb()
    assert return_free_memory() is True
    assert _resident_mb() < before - 20
    assert len(kept) == 600
