"""Look at (and set up) database rows in tests, as ORM objects, through the store's one path.

The store speaks Core through `Database.run_read` / `run_write`; tests find it easier to
read rows as the ORM classes of `tests.rows`. `reading(db)` gives `exec(select(...))` and
`get(Model, key)`; `writing(db)` adds `add(row)`, written (merged) in one transaction when
the block ends. Rows come back detached: read their attributes, they do not refresh.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlmodel import Session

from tests.rows import MappedRow
from watcher.store.db import Database

M = TypeVar("M", bound=MappedRow)


class Rows:
    """What a query returned, already fetched."""

    def __init__(self, rows: list[Any]) -> None:
        self._rows = rows

    def all(self) -> list[Any]:
        return list(self._rows)

    def one(self) -> Any:
        [row] = self._rows
        return row

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)


class Reader:
    """Reads rows of `db`, each call its own read transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def exec(self, statement: Any) -> Rows:
        def read(connection: Connection) -> list[Any]:
            with Session(bind=connection) as session:
                rows = list(session.exec(statement).all())
                session.expunge_all()
                return rows

        return Rows(await self.db.run_read(read))

    async def get(self, model: type[M], key: Any) -> M | None:
        def read(connection: Connection) -> M | None:
            with Session(bind=connection) as session:
                row = session.get(model, key)
                session.expunge_all()
                return row

        return await self.db.run_read(read)


class Writer(Reader):
    """A `Reader` that also writes the rows given to `add`, together, at the end."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.added: list[MappedRow] = []

    def add(self, row: MappedRow) -> None:
        self.added.append(row)

    async def commit(self) -> None:
        def write(connection: Connection) -> None:
            with Session(bind=connection) as session:
                for row in self.added:
                    session.merge(row)
                session.flush()

        await self.db.run_write(write)


@contextlib.asynccontextmanager
async def reading(db: Database) -> AsyncIterator[Reader]:
    """Read rows of `db` as ORM objects."""
    yield Reader(db)


@contextlib.asynccontextmanager
async def writing(db: Database) -> AsyncIterator[Writer]:
    """Read rows, change them or make new ones, `add` them: written when the block ends."""
    writer = Writer(db)
    yield writer
    await writer.commit()


async def count_deliveries(db: Database) -> dict[str, int]:
    """Deliveries by status."""
    from sqlalchemy import func, select

    from watcher.store.tables import DELIVERIES

    query = select(DELIVERIES.c.status, func.count()).group_by(DELIVERIES.c.status)
    rows = await db.run_read(lambda connection: connection.execute(query).all())
    return {status: count for status, count in rows}  # noqa: C416 (rows are no mapping)
