"""The malloc arena limit that keeps the threaded service's memory close to what it uses."""

from __future__ import annotations

import platform

import pytest

from watcher.ops.memory import limit_malloc_arenas

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
