"""Statements sent to the database driver as they are, for the poll's hot path.

SQLAlchemy caches a statement's compiled form, but still builds, checks and converts
every row's parameters and wraps every result row in Python. A cold poll writes
hundreds of rows (an item's story keys) and reads hundreds of postings, and that
per-row work was most of a poll's time on the event loop (issue 8's profile). `Driver`
hands the same SQL to the connection's DBAPI cursor: the column types' own converters
run once per value that needs one, and rows come back as the driver's tuples.

SQL is written with `?` placeholders and translated to the driver's style once per
text (`$1, $2, …` for asyncpg). Make a `Driver` of the connection `Database.run_write`
or `run_read` hands its work, and use it inside that transaction only.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Column, Connection, Table
from sqlalchemy.types import TypeEngine

Convert = Callable[[Any], Any]
_PLACEHOLDER = re.compile(r"\?")
_NUMBERED = {"numeric_dollar": "$", "numeric": ":"}  # paramstyles that number placeholders
PARAMETERS = 5_000  # parameters per statement: well under SQLite's and asyncpg's limits


class Driver:
    """The DBAPI cursor of one connection, with the dialect's value converters."""

    def __init__(self, connection: Connection) -> None:
        self.dialect = connection.dialect
        self._mark = _NUMBERED.get(connection.dialect.paramstyle)
        self._cursor = connection.connection.cursor()

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Sequence[Any]]:
        """The rows `sql` returns, as the driver gives them (tuples or records)."""
        self._cursor.execute(self._text(sql), tuple(params))
        return list(self._cursor.fetchall())

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """`sql` once per row of parameters (the driver's executemany)."""
        if rows:
            self._cursor.executemany(self._text(sql), [tuple(row) for row in rows])

    def to_db(self, type_: TypeEngine[Any] | Column[Any]) -> Convert:
        """What turns a Python value into the value the driver takes for `type_`."""
        engine_type = type_.type if isinstance(type_, Column) else type_
        process = engine_type.dialect_impl(self.dialect).bind_processor(self.dialect)
        return process if process is not None else _same

    def from_db(self, type_: TypeEngine[Any]) -> Convert:
        """What turns the driver's value for `type_` into the Python value."""
        process = type_.dialect_impl(self.dialect).result_processor(self.dialect, None)
        return process if process is not None else _same

    def _text(self, sql: str) -> str:
        if self._mark is None:
            return sql
        counter = itertools.count(1)
        return _PLACEHOLDER.sub(lambda _: f"{self._mark}{next(counter)}", sql)


def marks(count: int) -> str:
    """`?, ?, …` for an IN list of `count` values."""
    return ", ".join("?" * count)


def values(rows: int, columns: int) -> str:
    """`(?, ?), (?, ?), …`: the VALUES of a multi-row INSERT."""
    row = f"({marks(columns)})"
    return ", ".join(itertools.repeat(row, rows))


def insert_rows(
    driver: Driver, table: Table, rows: Sequence[Mapping[str, Any]], tail: str = "RETURNING id"
) -> list[Sequence[Any]]:
    """Insert `rows` (column → Python value, the same columns in each) into `table`.

    Multi-row `INSERT … VALUES …` statements followed by `tail` (a RETURNING clause, an
    ON CONFLICT clause); values are converted by the columns' own types. Returns the rows
    the statements return.
    """
    if not rows:
        return []
    names = list(rows[0])
    fields = [(name, driver.to_db(table.c[name])) for name in names]
    columns = ", ".join(f'"{name}"' for name in names)
    per = max(1, PARAMETERS // len(names))
    found: list[Sequence[Any]] = []
    for start in range(0, len(rows), per):
        chunk = rows[start : start + per]
        sql = f"INSERT INTO {table.name} ({columns}) VALUES {values(len(chunk), len(names))}"
        params = [convert(row[name]) for row in chunk for name, convert in fields]
        found.extend(driver.fetch(f"{sql} {tail}", params))
    return found


def insert_ids(driver: Driver, table: Table, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert `rows` into `table` (integer key `id`); their new ids, in the order of `rows`.

    A database assigns an auto-increment key row by row in the order rows arrive (SQLite
    gives each new row the largest rowid so far + 1; a PostgreSQL sequence is drawn row
    by row), so the ids in ascending order are the rows' order, whatever order RETURNING
    lists them in.
    """
    ids = sorted(row[0] for row in insert_rows(driver, table, rows))
    if len(ids) != len(rows):
        raise RuntimeError(f"inserted {len(rows)} rows into {table.name}, got {len(ids)} ids")
    return ids


def _same(value: Any) -> Any:
    return value
