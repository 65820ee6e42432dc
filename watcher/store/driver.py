"""Core statements sent to the database driver as they are, for the poll's hot path.

SQLAlchemy caches a statement's compiled form, but still builds, checks and converts
every row's parameters and wraps every result row in Python. A cold poll writes
hundreds of rows (an item's story keys) and reads hundreds of postings, and that
per-row work was most of a poll's time on the event loop. `Driver` compiles a Core
statement (built from `watcher.store.tables`, with named `bindparam`s) once per dialect,
then hands its SQL to the connection's DBAPI cursor: the parameters' own type
converters run once per value that needs one, and rows come back as the driver's
tuples, with the selected columns' converters applied.

Private to the few store functions on a poll's hot path (`poll`, `story_index`,
`source_state`); the rest of the store runs Core statements on the connection. Make a
`Driver` of the connection `Database.run_write` or `run_read` hands its work, and use it
inside that transaction only.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Connection, Table, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.base import Executable
from sqlalchemy.types import TypeEngine

Convert = Callable[[Any], Any]
_POSTCOMPILE = re.compile(r"\(__\[POSTCOMPILE_(\w+)\]\)")
_PLACEHOLDER = re.compile(r"\?")
_NUMBERED = {"numeric_dollar": "$", "numeric": ":"}  # paramstyles that number placeholders
PARAMETERS = 5_000  # parameters per statement: well under SQLite's and asyncpg's limits


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A statement's SQL with `?` placeholders, its parameters in order, its converters."""

    sql: str
    names: tuple[str, ...]
    expanding: frozenset[str]
    to_db: Mapping[str, Convert]
    literals: Mapping[str, Any]
    from_db: tuple[Convert | None, ...]


_COMPILED: dict[tuple[str, int], tuple[Executable, _Compiled]] = {}


class Driver:
    """The DBAPI cursor of one connection, running Core statements compiled once."""

    def __init__(self, connection: Connection) -> None:
        self.dialect = connection.dialect
        self._mark = _NUMBERED.get(connection.dialect.paramstyle)
        self._cursor = connection.connection.cursor()

    def fetch(
        self, statement: Executable, params: Mapping[str, Any] | None = None
    ) -> list[Sequence[Any]]:
        """The rows `statement` returns for `params` (by bindparam name), converted."""
        compiled = self._compiled(statement)
        sql, values = self._bind(compiled, params or {})
        self._cursor.execute(sql, values)
        rows = self._cursor.fetchall()
        if not any(compiled.from_db):
            return list(rows)
        # each distinct value of a column converted once: a poll's rows repeat dates
        active = [(i, _memoized(c)) for i, c in enumerate(compiled.from_db) if c is not None]
        out: list[Sequence[Any]] = []
        for row in rows:
            values = list(row)
            for i, convert in active:
                if values[i] is not None:
                    values[i] = convert(values[i])
            out.append(tuple(values))
        return out

    def execute_many(self, statement: Executable, rows: Sequence[Mapping[str, Any]]) -> None:
        """`statement` once per mapping of parameters (the driver's executemany)."""
        if not rows:
            return
        compiled = self._compiled(statement)
        if compiled.expanding:
            raise ValueError("execute_many takes no expanding IN parameters")
        sql = self._numbered(compiled.sql)
        names = compiled.names
        # the common case, every row naming every parameter, reads them straight; else a
        # literal's default (`_value`), or a KeyError naming the missing parameter
        read: Callable[[Mapping[str, Any]], list[Any]]
        if all(name in rows[0] for name in names):
            read = lambda row: [row[n] for n in names]  # noqa: E731
        else:
            read = lambda row: [_value(compiled, row, n) for n in names]  # noqa: E731
        active = [(i, _memoized(compiled.to_db[n])) for i, n in enumerate(names)]
        active = [(i, c) for i, c in active if c is not _same]
        params = []
        for row in rows:
            values = read(row)
            for i, c in active:
                values[i] = c(values[i])
            params.append(values)
        self._cursor.executemany(sql, params)

    def execute_rows(
        self, statement: Executable, names: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """`statement` once per row of `rows` (the driver's executemany), each row the
        values of the parameters `names` as the driver takes them: the caller converts
        what needs it (`to_db`), once per distinct value, where `execute_many` calls a
        converter for every row. `names` must be the statement's parameters in its own
        order (ValueError otherwise): the story keys' 60,000 rows of a cold round were
        built as mappings and read back name by name."""
        compiled = self._compiled(statement)
        if compiled.expanding:
            raise ValueError("execute_rows takes no expanding IN parameters")
        if tuple(names) != compiled.names:
            raise ValueError(f"parameters {tuple(names)} are not {compiled.names}")
        if rows:
            self._cursor.executemany(self._numbered(compiled.sql), rows)

    def insert_rows(
        self,
        table: Table,
        rows: Sequence[Mapping[str, Any]],
        *,
        ignoring: UniqueConstraint | None = None,
        returning: Column[Any] | None = None,
    ) -> list[Any]:
        """Insert `rows` (column name → Python value, the same columns in each) into `table`.

        Multi-row `INSERT … VALUES …`, the columns taken from the table and their values
        converted by the columns' own types. With `ignoring`, a row that breaks that
        unique constraint is skipped (ON CONFLICT DO NOTHING). Returns the `returning`
        column of each inserted row (in no particular order), else nothing.
        """
        if not rows:
            return []
        columns = [table.c[name] for name in rows[0]]
        convert = [_memoized(self.to_db(column)) for column in columns]
        names = ", ".join(self.dialect.identifier_preparer.quote(c.name) for c in columns)
        tail = ""
        if ignoring is not None:
            keys = ", ".join(self.dialect.identifier_preparer.quote(c.name) for c in ignoring)
            tail += f" ON CONFLICT ({keys}) DO NOTHING"
        if returning is not None:
            tail += f" RETURNING {self.dialect.identifier_preparer.quote(returning.name)}"
        per = max(1, PARAMETERS // len(columns))
        found: list[Any] = []
        for start in range(0, len(rows), per):
            chunk = rows[start : start + per]
            row_marks = f"({_marks(len(columns))})"
            sql = (
                f"INSERT INTO {table.name} ({names}) VALUES"
                f" {', '.join(itertools.repeat(row_marks, len(chunk)))}{tail}"
            )
            values = [
                c(row[column.name])
                for row in chunk
                for column, c in zip(columns, convert, strict=True)
            ]
            self._cursor.execute(self._numbered(sql), values)
            if returning is not None:
                found.extend(row[0] for row in self._cursor.fetchall())
        return found

    def insert_ids(self, table: Table, rows: Sequence[Mapping[str, Any]]) -> list[int]:
        """Insert `rows` into `table` (integer key `id`); their new ids, in the order of `rows`.

        A database assigns an auto-increment key row by row in the order rows arrive
        (SQLite gives each new row the largest rowid so far + 1; a PostgreSQL sequence is
        drawn row by row), so the ids in ascending order are the rows' order, whatever
        order RETURNING lists them in.
        """
        ids = sorted(self.insert_rows(table, rows, returning=table.c.id))
        if len(ids) != len(rows):
            raise RuntimeError(f"inserted {len(rows)} rows into {table.name}, got {len(ids)} ids")
        return ids

    def to_db(self, type_: TypeEngine[Any] | Column[Any]) -> Convert:
        """What turns a Python value into the value the driver takes for `type_`."""
        engine_type = type_.type if isinstance(type_, Column) else type_
        process = engine_type.dialect_impl(self.dialect).bind_processor(self.dialect)
        return process if process is not None else _same

    # --- compiling and binding ----------------------------------------------------------

    def _compiled(self, statement: Executable) -> _Compiled:
        key = (self.dialect.name, id(statement))
        cached = _COMPILED.get(key)
        if cached is not None and cached[0] is statement:
            return cached[1]
        compiled = _compile(statement, self.dialect)
        _COMPILED[key] = (statement, compiled)  # keeps `statement` alive: its id stays its own
        return compiled

    def _bind(self, compiled: _Compiled, params: Mapping[str, Any]) -> tuple[str, list[Any]]:
        sql = compiled.sql
        values: list[Any] = []
        for name in compiled.names:
            convert = compiled.to_db[name]
            if name in compiled.expanding:
                items = list(params[name])
                if not items:
                    raise ValueError(f"empty IN list for {name!r}")
                sql = sql.replace(f"(__[POSTCOMPILE_{name}])", f"({_marks(len(items))})", 1)
                # a poll's IN lists are keys and ids (hundreds of values, none converted)
                values.extend(items if convert is _same else map(convert, items))
            else:
                values.append(convert(_value(compiled, params, name)))
        return self._numbered(sql), values

    def _numbered(self, sql: str) -> str:
        if self._mark is None:
            return sql
        counter = itertools.count(1)
        return _PLACEHOLDER.sub(lambda _: f"{self._mark}{next(counter)}", sql)


def _compile(statement: Executable, dialect: Dialect) -> _Compiled:
    """`statement` compiled for `dialect` with `?` placeholders (renumbered for asyncpg)."""
    qmark = type(dialect)(paramstyle="qmark")  # type: ignore[call-arg]
    compiled = statement.compile(dialect=qmark)  # type: ignore[attr-defined]
    binds = compiled.binds
    names = tuple(compiled.positiontup or ())
    to_db = {}
    for name in names:
        process = binds[name].type.dialect_impl(dialect).bind_processor(dialect)
        to_db[name] = process if process is not None else _same
    literals = {n: b.effective_value for n, b in binds.items() if not b.required}
    columns = getattr(statement, "exported_columns", ())
    from_db = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns)
    return _Compiled(
        sql=compiled.string,
        names=names,
        expanding=frozenset(n for n in names if binds[n].expanding),
        to_db=to_db,
        literals=literals,
        from_db=from_db,
    )


def _value(compiled: _Compiled, params: Mapping[str, Any], name: str) -> Any:
    if name in params:
        return params[name]
    if name in compiled.literals:
        return compiled.literals[name]
    raise KeyError(f"no value for the parameter {name!r} of: {compiled.sql}")


def _marks(count: int) -> str:
    """`?, ?, …`: `count` placeholders."""
    return ", ".join("?" * count)


def _same(value: Any) -> Any:
    return value


def _memoized(convert: Convert) -> Convert:
    """`convert` remembering its answers, for the values of one statement's rows.

    A poll's rows repeat values that need converting (an item's date on each of its
    story keys, the poll's time on every row): each distinct value is converted once.
    Keyed by the value's type and the value, so `True` and `1` stay apart; a value that
    cannot be a key (a list for a JSON column) is converted every time. A type's
    converter gives equal values equal results (equal datetimes are one instant).
    """
    if convert is _same:
        return _same
    seen: dict[tuple[type, Any], Any] = {}

    def converted(value: Any) -> Any:
        try:
            key = (type(value), value)
            return seen[key]
        except KeyError:
            result = seen[key] = convert(value)
            return result
        except TypeError:  # unhashable
            return convert(value)

    return converted
