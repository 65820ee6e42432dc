"""A long-running daemon must not hold more SQLite memory as it sees more distinct SQL.

Expanding IN lists and multi-row VALUES give a new SQL text for every length; each
pooled connection keeps a cache of prepared statements, so the cache's size bounds
what a connection holds (issue 8: the daemon's RSS grew round after round).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import literal, select

from watcher.store.db import create_engine

DISTINCT_TEXTS = 300


def _sqlite_library() -> ctypes.CDLL | None:
    """The SQLite library the sqlite3 module uses, when it is a shared one we can ask."""
    name = ctypes.util.find_library("sqlite3")
    if name is None:
        return None
    library = ctypes.CDLL(name)
    library.sqlite3_libversion.restype = ctypes.c_char_p
    library.sqlite3_memory_used.restype = ctypes.c_int64
    if library.sqlite3_libversion().decode() != sqlite3.sqlite_version:
        return None
    return library


def _in_list(size: int) -> str:
    return f"SELECT 0 IN ({', '.join('?' * size)})"


def _held_by_default_cache(library: ctypes.CDLL, path: Path) -> int:
    """What a connection with the sqlite3 module's default statement cache keeps."""
    connection = sqlite3.connect(path)
    try:
        before = library.sqlite3_memory_used()
        for size in range(1, DISTINCT_TEXTS + 1):
            connection.execute(_in_list(size), list(range(size))).fetchall()
        return int(library.sqlite3_memory_used() - before)
    finally:
        connection.close()


async def test_a_pooled_connection_keeps_few_prepared_statements(tmp_path: Path) -> None:
    """300 IN lists of distinct lengths: a fraction of what the default cache would keep."""
    library = _sqlite_library()
    if library is None:
        pytest.skip("no shared SQLite library matching the sqlite3 module")
    default = _held_by_default_cache(library, tmp_path / "default.db")
    if default <= 0:
        pytest.skip("the sqlite3 module does not allocate through this SQLite library")
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'watcher.db'}", connections=1)
    try:
        async with engine.connect() as connection:
            await connection.execute(select(literal(1)))
            before = library.sqlite3_memory_used()
            for size in range(1, DISTINCT_TEXTS + 1):
                found = await connection.execute(select(literal(0).in_(list(range(size)))))
                found.all()
            held = library.sqlite3_memory_used() - before
    finally:
        await engine.dispose()
    # about SQLITE_CACHED_STATEMENTS / 128 of what the default keeps (the largest stay)
    assert held * 4 < default, (held, default)
