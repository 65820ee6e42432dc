"""The timeline of one `watcher run --once`: `python -m bench.once_timeline OUT.json CONFIG`.

Runs `watcher run --once --config CONFIG` in this process, as the console script does,
with the round's phases wrapped so each records when it starts and ends, in seconds
since the process started (the kernel's start time: the interpreter's own start-up
included). OUT.json gets, per phase, how many times it ran and its first start, first
end and last end, and under `spans` every call's (start, end):

- `imports`: the service's modules imported; `config`: the file read and validated;
- `runtime`: database, HTTP client and parse pool opened (`Runtime.__aenter__`);
- `sources`: the source rows synced and their states read;
- `fetch`: each source's request and parse; `store`: each poll's transaction;
- `poll`: each whole poll; `smtp_open`: each SMTP connection opened (with its EHLO);
- `send`: each email sent; `digests`, `dispatch_all`: the round's last delivery pass;
- `close`: the runtime closed; `exit`: the interpreter about to end.

Only for measuring: the wrapping costs a few microseconds a call.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _process_start() -> float:
    """This process's start, on the `time.time()` clock (from /proc, in clock ticks)."""
    with open(f"/proc/{os.getpid()}/stat", encoding="ascii") as handle:
        ticks = int(handle.read().rpartition(")")[2].split()[19])
    with open("/proc/uptime", encoding="ascii") as handle:
        uptime = float(handle.read().split()[0])
    return time.time() - uptime + ticks / os.sysconf("SC_CLK_TCK")


START = _process_start()
EVENTS: dict[str, list[tuple[float, float]]] = {}


def _now() -> float:
    return time.time() - START


def _record(name: str, began: float) -> None:
    EVENTS.setdefault(name, []).append((began, _now()))


def _timed_async(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        began = _now()
        try:
            return await fn(*args, **kwargs)
        finally:
            _record(name, began)

    return wrapper


def _timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        began = _now()
        try:
            return fn(*args, **kwargs)
        finally:
            _record(name, began)

    return wrapper


def summary() -> dict[str, dict[str, float]]:
    """Per phase: count, first start, first end, last end (seconds since process start)."""
    return {
        name: {
            "count": len(spans),
            "first_start": min(s for s, _ in spans),
            "first_end": min(e for _, e in spans),
            "last_end": max(e for _, e in spans),
        }
        for name, spans in sorted(EVENTS.items(), key=lambda kv: min(s for s, _ in kv[1]))
    }


def main(argv: list[str]) -> None:
    out, config = Path(argv[0]), argv[1]
    began = _now()
    from watcher.notify.channels.mail import transport
    from watcher.ops import startup
    from watcher.service import pipeline, rounds, runtime

    _record("imports", began)
    startup.load_settings = _timed("config", startup.load_settings)  # type: ignore[assignment]
    runtime.Runtime.__aenter__ = _timed_async("runtime", runtime.Runtime.__aenter__)  # type: ignore[method-assign]
    runtime.Runtime.__aexit__ = _timed_async("close", runtime.Runtime.__aexit__)  # type: ignore[method-assign]
    rounds.prepare_sources = _timed_async("sources", rounds.prepare_sources)  # type: ignore[assignment]
    rounds.load_states = _timed_async("sources", rounds.load_states)  # type: ignore[assignment]
    rounds.poll_with_deadline = _timed_async("poll", rounds.poll_with_deadline)  # type: ignore[assignment]
    pipeline.fetch_source = _timed_async("fetch", pipeline.fetch_source)  # type: ignore[assignment]
    pipeline.save_poll = _timed_async("store", pipeline.save_poll)  # type: ignore[assignment]
    rounds.produce_due_digests = _timed_async("digests", rounds.produce_due_digests)  # type: ignore[assignment]
    rounds.dispatch_all = _timed_async("dispatch_all", rounds.dispatch_all)  # type: ignore[assignment]
    smtp = transport.SmtpTransport
    smtp.__aenter__ = _timed_async("smtp_open", smtp.__aenter__)  # type: ignore[method-assign]
    smtp.send = _timed_async("send", smtp.send)  # type: ignore[method-assign]

    def write() -> None:
        _record("exit", _now())
        phases = summary() | {"spans": EVENTS}
        out.write_text(json.dumps(phases, indent=1), encoding="utf-8")

    atexit.register(write)
    startup.start(["run", "--once", "--config", config], os.environ)


if __name__ == "__main__":
    main(sys.argv[1:])
