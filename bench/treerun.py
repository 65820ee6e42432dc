"""Run one command as cron would and measure its whole process tree: `python -m bench.treerun`.

    python -m bench.treerun OUT.json -- COMMAND [ARG ...]

This process makes itself a child subreaper (Linux `PR_SET_CHILD_SUBREAPER`), so every
process the command leaves behind is re-parented here instead of to PID 1. It starts
the command, waits for it, then kills what the command left running and reaps all of
it. Because every descendant is reaped by this process or by one of its reaped
descendants, `RUSAGE_CHILDREN` then holds the user + system CPU of the whole tree,
whatever the tree's shape and however short-lived its members were.

OUT.json gets `wall` (start → the command's exit, seconds), `cpu` (user + system of the
tree), `user`, `system`, `exit` (the command's exit status; negative for a signal) and
`leftovers` (processes still running 2 s after the command exited, killed by this one)
and `leftover_commands` (their command lines).
Peak memory is sampled by the caller, which sees this process's descendants in /proc.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36
GRACE = 2.0  # seconds the command's helpers get to end on their own after it exits


def _subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def _children() -> dict[int, str]:
    """This process's children and their states (`Z`: exited, not yet reaped)."""
    me = os.getpid()
    found: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == me:
            found[int(entry)] = fields[0]
    return found


def _command(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace").strip()[:200]
    except OSError:
        return "?"


def _reap_all(grace: float = GRACE, seen: list[str] | None = None) -> int:
    """Reap every remaining descendant; how many still ran `grace` s after the command ended.

    Helpers that end on their own when the command has gone (a forkserver, a resource
    tracker: they notice their pipe closing) get `grace` seconds to do so; what is
    still running then is killed and counted.
    """
    deadline = time.monotonic() + grace
    while (children := _children()) and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        if all(state == "Z" for state in _children().values()):
            continue
        time.sleep(0.02)
    leftovers = 0
    while children := _children():
        running = [pid for pid, state in children.items() if state != "Z"]
        leftovers += len(running)
        if seen is not None:
            seen.extend(_command(pid) for pid in running)
        for pid in running:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for _ in children:
            try:
                os.wait()
            except ChildProcessError:
                break
    return leftovers


def main(argv: list[str]) -> int:
    """Run `argv[2:]` (after `--`), write the figures to `argv[0]`; exit 0 when written."""
    if len(argv) < 3 or argv[1] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    out, command = Path(argv[0]), argv[2:]
    _subreaper()
    started = time.perf_counter()
    process = subprocess.Popen(command)
    code = process.wait()
    wall = time.perf_counter() - started
    commands: list[str] = []
    leftovers = _reap_all(seen=commands)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    figures = {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "user": usage.ru_utime,
        "system": usage.ru_stime,
        "exit": code,
        "leftovers": leftovers,
        "leftover_commands": commands,
    }
    out.write_text(json.dumps(figures), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
