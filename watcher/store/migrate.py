"""Schema migrations with Alembic, shipped in the package (`watcher/store/migrations`).

`upgrade` brings a database to the newest revision (the service does this at start-up
unless `database.migrate` is false); `current` tells where a database stands. Both run
on the service's own async engine through `run_sync`, so they work on SQLite and
PostgreSQL alike.

Start-up is the common case and the schema is almost always at head already: `head`
reads the revision graph from the scripts' headers and `current` (or `at_head`, on a
synchronous connection) reads the `alembic_version` table directly, so a database at
head is confirmed without importing Alembic (about 0.2 s of CPU). Alembic is imported
only to migrate, or when the scripts' headers do not name exactly one head (it then
reports the graph itself); it is imported without pygments (`_import_alembic`), which
only Mako's HTML error pages would use. A database with no tables at all (a new SQLite
file) needs no migration either: `create_at_head` creates the newest schema from the Core
tables and records the newest revision.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, inspect, select, text

from watcher.domain.errors import StoreError
from watcher.domain.masking import mask_secrets
from watcher.imports import import_hiding
from watcher.store.failures import describe_url
from watcher.store.tables import METADATA

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK_KEY = 0x5757_0002  # names the "migrate the schema" critical section
VERSION_TABLE = "alembic_version"  # Alembic's default, which env.py keeps
_DOWN = re.compile(
    r"^down_revision(?:: *[\w\[\] |]+)? *= *(None|['\"]([^'\"]+)['\"])", re.MULTILINE
)
_REVISION = re.compile(r"^revision(?:: *[\w\[\] |]+)? *= *['\"]([^'\"]+)['\"]", re.MULTILINE)


def _import_alembic() -> None:
    """Import Alembic's commands with pygments hidden, unless something loaded it already.

    Alembic imports Mako, whose `mako.exceptions` imports pygments (about 5 MB and 0.07 s
    of CPU) to highlight the source in its HTML error pages, and falls back to plain
    escaping when the import fails; migrating never draws such a page
    (`watcher.imports.import_hiding`).
    """
    import_hiding("alembic.command", "pygments")


def alembic_config() -> Config:
    """An Alembic config pointing at the packaged migration scripts."""
    _import_alembic()
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@cache
def head() -> str:
    """The newest revision the package knows."""
    return _head_from_headers() or _head_from_alembic()


def _head_from_headers() -> str | None:
    """The one revision no script revises, read from the scripts' headers; None if unclear."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for script in sorted((MIGRATIONS / "versions").glob("*.py")):
        source = script.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN.search(source)
        if revision is None:
            continue  # __init__.py and helpers
        if down is None:
            return None  # a header this parser does not read: let Alembic read it
        revisions.add(revision.group(1))
        if down.group(2):
            revised.add(down.group(2))
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else None


def _head_from_alembic() -> str:
    from alembic.script import ScriptDirectory

    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert revision is not None
    return revision


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Migrate the database to `revision` (default: the newest); `StoreError` on failure.

    A database already at the newest revision is left alone without taking a lock.
    """
    if revision in ("head", head()) and await _at_head(engine):
        return

    def run(connection: Any) -> None:
        _import_alembic()
        from alembic import command

        if connection.dialect.name == "postgresql":
            # replicas starting together on an empty database: one migrates, the
            # others wait here and then find the schema at head (released at commit)
            connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK_KEY)))
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    try:
        # on SQLite the write option makes it BEGIN IMMEDIATE: one migrator at a time
        async with engine.execution_options(watcher_write=True).begin() as conn:
            await conn.run_sync(run)
    except Exception as exc:
        url = describe_url(engine.url)
        raise StoreError(
            mask_secrets(f"cannot migrate database {url} to {revision}: {exc}")
        ) from exc


async def _at_head(engine: AsyncEngine) -> bool:
    """`at_head` through `engine`; False also when the database cannot be reached
    (migrating says what is wrong)."""
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(at_head)
    except Exception:
        return False


async def current(engine: AsyncEngine) -> str | None:
    """The database's revision, or None for a database never migrated."""
    async with engine.connect() as conn:
        return await conn.run_sync(revision_of)


def revision_of(connection: Connection) -> str | None:
    """The revision of the database `connection` is on (None: never migrated)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
    # several rows: a branched history, which only Alembic itself can read
    return ",".join(sorted(str(row[0]) for row in rows)) or None


def create_at_head(connection: Connection) -> bool:
    """On a database with no tables at all, create the newest schema from the Core tables
    (`watcher.store.tables.METADATA`) and record the newest revision, as Alembic's
    `stamp` would; True when it did, False (nothing done) when the database has tables.

    The same schema the migrations build (tests/test_schema_at_head.py compares the two
    table by table), without importing Alembic, Mako, the ORM or the old scripts: about
    14 MB and 0.3 s of CPU less for the first run on a new SQLite file.
    """
    if inspect(connection).get_table_names():
        return False
    METADATA.create_all(connection)
    connection.execute(
        text(
            f"CREATE TABLE {VERSION_TABLE} (version_num VARCHAR(32) NOT NULL,"
            f" CONSTRAINT {VERSION_TABLE}_pkc PRIMARY KEY (version_num))"
        )
    )
    connection.execute(
        text(f"INSERT INTO {VERSION_TABLE} (version_num) VALUES (:head)"), {"head": head()}
    )
    return True


def at_head(connection: Connection) -> bool:
    """True when the database `connection` is on is at the newest revision; False when
    not or unreadable (migrating, or the check that refuses to, then says what is wrong)."""
    try:
        return revision_of(connection) == head()
    except Exception:
        return False
