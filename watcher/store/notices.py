"""Admin notices: queued idempotently by key, sent by the dispatcher to `admins:`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, update

from watcher.domain.notices import AdminNotice
from watcher.store.db import Database, insert_ignoring
from watcher.store.outbox import DEAD, MAX_ERROR_CHARS, PENDING, SENT, claim_rows
from watcher.store.tables import NOTICES


@dataclass(frozen=True, slots=True)
class Notice:
    """One admin notice due for sending."""

    id: int
    key: str
    subject: str
    body: str
    message_id: str
    attempts: int


def insert_notices(
    connection: Connection, notices: Sequence[AdminNotice], *, domain: str, now: datetime
) -> list[str]:
    """Queue each notice whose key is new, in the connection's transaction; the new keys.

    A notice is due now; its Message-ID is minted here, under `domain`.
    """
    if not notices:
        return []
    rows = [
        {
            "key": notice.key[:255],
            "subject": notice.subject,
            "body": notice.body,
            "message_id": f"<notice.{uuid.uuid4().hex}@{domain}>",
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for notice in notices
    ]
    statement = insert_ignoring(connection, NOTICES, ["key"]).values(rows)
    return list(connection.execute(statement.returning(NOTICES.c.key)).scalars())


async def queue_notice(
    db: Database, *, key: str, subject: str, body: str, domain: str, now: datetime
) -> bool:
    """Queue a notice unless one with `key` exists; True when this call queued it."""
    notice = AdminNotice(key, subject, body)

    def queue(connection: Connection) -> list[str]:
        return insert_notices(connection, [notice], domain=domain, now=now)

    return bool(await db.run_write(queue))


async def claim_notices(
    db: Database, *, now: datetime, lease: timedelta, limit: int
) -> tuple[str, datetime, list[Notice]]:
    """Lease pending notices due by `now` (oldest first) so that only one sender has them.

    Returns the lease owner token, its expiry and the notices.
    """
    owner, until, ids = await claim_rows(
        db, NOTICES, group=NOTICES.c.id, now=now, lease=lease, limit=limit
    )
    if not ids:
        return owner, until, []
    query = (
        select(
            NOTICES.c.id,
            NOTICES.c.key,
            NOTICES.c.subject,
            NOTICES.c.body,
            NOTICES.c.message_id,
            NOTICES.c.attempts,
        )
        .where(NOTICES.c.id.in_(ids))
        .order_by(NOTICES.c.id)
    )
    rows = await db.run_read(lambda connection: connection.execute(query).all())
    return owner, until, [Notice(*row) for row in rows]


async def mark_notice(
    db: Database,
    notice_id: int,
    *,
    status: str,
    now: datetime,
    error: str | None = None,
    retry_at: datetime | None = None,
) -> None:
    """Record a send outcome: `sent`, `dead`, or `pending` again with `retry_at`."""
    if status not in (PENDING, SENT, DEAD):
        raise ValueError(f"unknown notice status {status!r}")
    values: dict[str, Any] = {
        "status": status,
        "attempts": NOTICES.c.attempts + 1,
        "lease_owner": None,
        "lease_until": None,
    }
    if status == SENT:
        values["sent_at"] = now
    if error is not None:
        values["last_error"] = error[:MAX_ERROR_CHARS]
    if retry_at is not None:
        values["next_attempt_at"] = retry_at
    statement = update(NOTICES).where(NOTICES.c.id == notice_id).values(**values)
    await db.run_write(lambda connection: connection.execute(statement))


async def release_notices(db: Database, ids: list[int], *, owner: str) -> None:
    """Give back claimed notices that were not attempted (no attempt is counted)."""
    if not ids:
        return
    statement = (
        update(NOTICES)
        .where(NOTICES.c.id.in_(ids), NOTICES.c.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
    )
    await db.run_write(lambda connection: connection.execute(statement))
