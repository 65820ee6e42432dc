"""Admin notices: queued idempotently by key, sent by the dispatcher to `admins:`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, update

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


def notice_values(key: str, subject: str, body: str, domain: str, now: datetime) -> dict[str, Any]:
    """The row of a new notice, due now."""
    return {
        "key": key[:255],
        "subject": subject,
        "body": body,
        "message_id": f"<notice.{uuid.uuid4().hex}@{domain}>",
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def insert_notices(connection: Connection, rows: list[dict[str, Any]]) -> int:
    """Insert notice rows (`notice_values`) whose key is new; how many were new."""
    if not rows:
        return 0
    result = connection.execute(insert_ignoring(connection, NOTICES, ["key"]).values(rows))
    return int(result.rowcount or 0)


async def queue_notice(
    db: Database, *, key: str, subject: str, body: str, domain: str, now: datetime
) -> bool:
    """Queue a notice unless one with `key` exists; True when this call queued it."""
    values = notice_values(key, subject, body, domain, now)
    return bool(await db.run_write(lambda connection: insert_notices(connection, [values])))


async def claim_notices(
    db: Database, *, now: datetime, lease: timedelta, limit: int
) -> list[Notice]:
    """Lease pending notices due by `now` (oldest first) so that only one sender has them."""
    _, _, ids = await claim_rows(db, NOTICES, group=NOTICES.c.id, now=now, lease=lease, limit=limit)
    if not ids:
        return []
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
    return [Notice(*row) for row in rows]


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
