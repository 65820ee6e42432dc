"""Functions a worker runs in the tests (importable, so they pickle by reference)."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any


def sleep_then(seconds: float, value: str) -> str:
    """Sleep, then return `value`: a stand-in for a parse that hangs."""
    time.sleep(seconds)
    return value


_warmed: list[str] = []  # what `warm_slowly` left in this worker process


def warm_slowly(seconds: float, value: str) -> None:
    """A worker's warm-up that takes `seconds` and leaves `value` for `warmed` to read."""
    time.sleep(seconds)
    _warmed.append(value)


def warm_badly() -> None:
    """A worker's warm-up that fails."""
    raise ValueError("no rules to build")


def warmed() -> list[str]:
    """What the warm-ups of this worker process left, in order."""
    return list(_warmed)


def crash() -> None:
    """Kill the worker process outright, as a segfaulting C parser would."""
    os._exit(1)


def pid_after(seconds: float) -> int:
    """Sleep, then return this worker's process id."""
    time.sleep(seconds)
    return os.getpid()


def mark_then_sleep(path: str, seconds: float, value: str) -> str:
    """Create the file `path` (the test's sign that the task started), sleep, return `value`."""
    Path(path).touch()
    time.sleep(seconds)
    return value


def stuck_in_c(path: str) -> None:
    """Create `path`, then backtrack in the regex engine, in C with the GIL held, for ages."""
    Path(path).touch()
    re.match(r"(a+)+$", "a" * 64 + "b")


def slow_render(*args: Any) -> Any:
    """Render an alert email after 30 s: a stand-in for a render that hangs."""
    from watcher.notify.channels.mail.alert import render_alert_mail

    time.sleep(30)
    return render_alert_mail(*args)


def refuse_poisoned(outbound: Any, settings: Any, subscriber: Any, now: Any) -> Any:
    """The production alert renderer, except that an alert titled "poison…" is unsafe."""
    from watcher.domain.errors import UnsafeMessageError
    from watcher.notify.channels.mail.alert import render_alert_mail

    if outbound.item.title.startswith("poison"):
        raise UnsafeMessageError(f"{outbound.message_id}: poisoned")
    return render_alert_mail(outbound, settings, subscriber, now)
