"""A database that cannot be opened, told in one line: which file or URL, why, what to do.

Opening the store is the first thing every command does; a corrupt SQLite file, a data
folder the user cannot write, or an unreachable PostgreSQL server must end the command
with a `StoreError` an operator can act on, never a traceback. URLs are shown with every
secret masked (`watcher.domain.masking`).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError

from watcher.domain.errors import StoreError
from watcher.domain.masking import mask_secrets

_CORRUPT = ("file is not a database", "malformed", "file is encrypted")
_UNWRITABLE = ("readonly", "read-only", "unable to open database file", "permission denied")


def describe_url(url: str | URL) -> str:
    """The database URL as it may be printed: password and secret parameters masked."""
    parsed = make_url(url) if isinstance(url, str) else url
    return mask_secrets(parsed.render_as_string(hide_password=True))


def store_failure(
    url: str | URL, exc: BaseException, doing: str = "open the database"
) -> StoreError:
    """The `StoreError` for `exc`, raised while trying to `doing` the database at `url`."""
    parsed = make_url(url) if isinstance(url, str) else url
    reason = _reason(exc)
    lowered = reason.lower()
    database = parsed.database or ""
    if parsed.get_backend_name() == "sqlite" and database and database != ":memory:":
        path = Path(database)
        if any(word in lowered for word in _CORRUPT):
            return StoreError(
                f"the database file {path} is not a usable SQLite database ({reason}):"
                " restore it from a backup, or move it aside to start with an empty one"
            )
        if isinstance(exc, OSError) or any(word in lowered for word in _UNWRITABLE):
            folder = Path(exc.filename) if isinstance(exc, OSError) and exc.filename else path
            return StoreError(
                f"cannot write the database file {path} ({reason}): the data folder"
                f" {path.parent} must exist and be writable by this user (uid {os.getuid()});"
                f" fix the permissions of {folder} or point data_dir elsewhere"
            )
    return StoreError(f"cannot {doing} {describe_url(parsed)}: {reason}")


def _reason(exc: BaseException) -> str:
    """The driver's own message, without SQLAlchemy's SQL echo and links; secrets masked."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        exc = exc.orig
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror
    elif isinstance(exc, sqlite3.Error):
        text = str(exc)
    else:
        text = str(exc).split("\n[SQL:", 1)[0].split("\n(Background", 1)[0]
    return mask_secrets(" ".join(text.split()) or type(exc).__name__)
