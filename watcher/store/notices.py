"""Admin notices: queued idempotently by key, sent by the dispatcher to `admins:`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from watcher.store.db import Database, insert_ignoring_conflicts
from watcher.store.outbox import DEAD, MAX_ERROR_CHARS, PENDING, SENT, claim_rows
from watcher.store.tables import NoticeRow


@dataclass(frozen=True, slots=True)
class Notice:
    """One admin notice due for sending."""

    id: int
    key: str
    subject: str
    body: str
    message_id: str
    attempts: int


async def queue_notice(
    db: Database, *, key: str, subject: str, body: str, domain: str, now: datetime
) -> bool:
    """Queue a notice unless one with `key` exists; True when this call queued it."""
    values: dict[str, Any] = {
        "key": key[:255],
        "subject": subject,
        "body": body,
        "message_id": f"<notice.{uuid.uuid4().hex}@{domain}>",
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    async with db.write() as session, session.begin():
        result = await session.exec(insert_ignoring_conflicts(session, NoticeRow, values, ["key"]))
        return bool(getattr(result, "rowcount", 0))


async def claim_notices(
    db: Database, *, now: datetime, lease: timedelta, limit: int
) -> list[Notice]:
    """Lease pending notices due by `now` (oldest first) so that only one sender has them."""
    _, _, ids = await claim_rows(
        db, NoticeRow, group=NoticeRow.id, now=now, lease=lease, limit=limit
    )
    if not ids:
        return []
    async with db() as session:
        rows = (
            await session.exec(
                select(NoticeRow).where(col(NoticeRow.id).in_(ids)).order_by(col(NoticeRow.id))
            )
        ).all()
    return [
        Notice(
            id=row.id or 0,
            key=row.key,
            subject=row.subject,
            body=row.body,
            message_id=row.message_id,
            attempts=row.attempts,
        )
        for row in rows
    ]


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
        "attempts": NoticeRow.attempts + 1,
        "lease_owner": None,
        "lease_until": None,
    }
    if status == SENT:
        values["sent_at"] = now
    if error is not None:
        values["last_error"] = error[:MAX_ERROR_CHARS]
    if retry_at is not None:
        values["next_attempt_at"] = retry_at
    async with db.write() as session, session.begin():
        await session.exec(update(NoticeRow).where(col(NoticeRow.id) == notice_id).values(**values))
