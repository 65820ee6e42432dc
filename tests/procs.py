"""Processes seen from /proc: who descends from whom, who is still alive (Linux)."""

from __future__ import annotations

import os
from pathlib import Path


def descendants(root: int | None = None) -> list[int]:
    """Every process under `root` (default: this process), children before grandchildren."""
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    found: list[int] = []
    todo = [os.getpid() if root is None else root]
    while todo:
        for child in sorted(children.get(todo.pop(0), [])):
            found.append(child)
            todo.append(child)
    return found


def children(parent: int) -> list[int]:
    """The processes whose parent is `parent`."""
    return sorted(pid for pid, ppid in _parents().items() if ppid == parent)


def alive(pid: int) -> bool:
    """True while `pid` runs (a zombie has exited: it only waits to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def command(pid: int) -> str:
    """The command line of `pid`, for messages ("?" once it is gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:160]
    except OSError:
        return "?"


def _parents() -> dict[int, int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # it exited while we looked
            parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    return parents
