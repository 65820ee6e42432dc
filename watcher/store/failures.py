"""Why a database could not be opened, as one line that says what to do.

A corrupt SQLite file, a data folder the service cannot create or write, a PostgreSQL
server that does not answer: each becomes a `StoreError` whose message names the
database and the way out, instead of a driver's traceback.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from watcher.domain.errors import StoreError
from watcher.domain.masking import mask_secrets

_CORRUPT = ("file is not a database", "database disk image is malformed")
_NOT_WRITABLE = ("readonly database", "unable to open database file", "read-only file system")


def describe_url(url: str | URL) -> str:
    """A database URL as it may be printed: its password and secret parameters masked.

    SQLAlchemy's `hide_password` covers the user-info only; asyncpg also takes
    `?password=` (and `sslpassword`) as query parameters.
    """
    parsed = make_url(url) if isinstance(url, str) else url
    return mask_secrets(parsed.render_as_string(hide_password=True))


def folder_failure(folder: str, exc: OSError) -> StoreError:
    """The data folder (or the SQLite file's folder) cannot be created."""
    reason = exc.strerror or str(exc)
    return StoreError(
        f"cannot create the database folder {folder}: {reason}; set data_dir"
        " (WATCHER_DATA_DIR) or database.url to a place this user can write"
    )


def open_failure(database: str, exc: BaseException) -> StoreError:
    """The database at `database` (a path or a URL without password) cannot be used."""
    original = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    reason = mask_secrets(" ".join(str(original).split()) or type(original).__name__)
    lowered = reason.lower()
    if any(mark in lowered for mark in _CORRUPT):
        return StoreError(
            f"database {database} is not a readable SQLite database ({reason}): move the"
            " file aside to start with an empty one, or point data_dir / database.url"
            " elsewhere"
        )
    if any(mark in lowered for mark in _NOT_WRITABLE):
        return StoreError(
            f"cannot write the database {database} ({reason}): the file and its folder"
            " must be writable by this user; set data_dir (WATCHER_DATA_DIR) or"
            " database.url to a writable place"
        )
    return StoreError(f"cannot open the database {database}: {reason}")


OPEN_ERRORS = (sqlite3.Error, SQLAlchemyError, OSError)
"""What opening or migrating a database raises when the database itself is unusable."""
