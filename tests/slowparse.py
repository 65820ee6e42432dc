"""Functions a parser worker runs in the tests (importable, so they pickle by reference)."""

from __future__ import annotations

import time


def sleep_then(seconds: float, value: str) -> str:
    """Sleep, then return `value`: a stand-in for a parse that hangs."""
    time.sleep(seconds)
    return value


def crash() -> None:
    """Kill the worker process outright, as a segfaulting C parser would."""
    import os

    os._exit(1)
