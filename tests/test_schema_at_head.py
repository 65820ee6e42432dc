"""A new SQLite file gets the newest schema from the Core tables, without Alembic; that
schema must be the one the migrations build, table by table, or later migrations (and the
store's SQL) would meet two different databases."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path
from typing import Any

from watcher.store import migrate
from watcher.store.db import create_engine, open_database


def _schema(path: Path) -> dict[str, Any]:
    """Everything SQLite says about each table: columns, primary key, defaults, indexes,
    foreign keys, rowid-ness and checks; independent of column order and DDL layout."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        tables = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table'"
            " AND name NOT LIKE 'sqlite_%' ORDER BY name"
        ).fetchall()
        described: dict[str, Any] = {}
        for name, sql in tables:
            columns = sorted(
                (col, kind.upper(), notnull, default, pk)
                for _, col, kind, notnull, default, pk in conn.execute(
                    f"PRAGMA table_info('{name}')"
                )
            )
            indexes = sorted(
                (
                    unique,
                    origin,
                    partial,
                    tuple(row[2] for row in conn.execute(f"PRAGMA index_info('{index}')")),
                )
                for _, index, unique, origin, partial in conn.execute(
                    f"PRAGMA index_list('{name}')"
                )
            )
            keys = sorted(
                (row[2], row[3], row[4], row[5], row[6])
                for row in conn.execute(f"PRAGMA foreign_key_list('{name}')")
            )
            described[name] = {
                "columns": columns,
                "indexes": indexes,
                "foreign_keys": keys,
                "without_rowid": "WITHOUT ROWID" in sql.upper(),
                "checks": sql.upper().count("CHECK"),
            }
        return described


def test_a_new_file_gets_the_schema_the_migrations_build(tmp_path: Path) -> None:
    """Opening an empty SQLite file creates the same tables, columns, defaults, keys and
    indexes as migrating one with Alembic from nothing, and records the newest revision."""
    migrated, created = tmp_path / "migrated.db", tmp_path / "created.db"

    async def build() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{migrated}")
        try:
            await migrate.upgrade(engine)
        finally:
            await engine.dispose()
        async with open_database(f"sqlite+aiosqlite:///{created}"):
            pass

    asyncio.run(build())
    expected, got = _schema(migrated), _schema(created)
    assert sorted(got) == sorted(expected)
    for table in expected:
        assert got[table] == expected[table], table
    with contextlib.closing(sqlite3.connect(created)) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (migrate.head(),)
        ]
