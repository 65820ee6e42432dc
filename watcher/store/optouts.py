"""Opt-outs: a subscriber's own unsubscribe (or resubscribe), which outranks the config.

Unsubscribing records the state and, in the same transaction, cancels everything still
pending for the address (alerts on every channel, digests): cancelled, not dead, since
nothing failed. The dispatcher also drops, as cancelled, any row of an opted-out
address it claims (`opted_out`), so a row queued in the meantime is never sent either.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, update

from watcher.store.db import Database
from watcher.store.outbox import CANCELLED
from watcher.store.tables import DELIVERIES, DIGESTS, OPTOUTS

UNSUBSCRIBED, SUBSCRIBED = "unsubscribed", "subscribed"
_PENDING = "pending"


@dataclass(frozen=True, slots=True)
class OptOut:
    """An address's recorded choice."""

    address: str
    state: str
    since: datetime
    how: str
    list: str


@dataclass(frozen=True, slots=True)
class Unsubscribed:
    """What one unsubscribe did: whether it changed the state, and what it cancelled."""

    changed: bool
    cancelled: int


async def unsubscribe(
    db: Database, address: str, *, how: str, list_name: str, now: datetime
) -> Unsubscribed:
    """Opt `address` out (if it is not already) and cancel its pending deliveries."""
    address = address.lower()

    def write(connection: Connection) -> Unsubscribed:
        current = _state(connection, address)
        changed = current is None or current.state != UNSUBSCRIBED
        if changed:
            _put(connection, OptOut(address, UNSUBSCRIBED, now, how, list_name))
        return Unsubscribed(changed, cancel_pending(connection, [address]))

    return await db.run_write(write, urgent=True)


async def resubscribe(db: Database, address: str, *, how: str, now: datetime) -> bool:
    """Take back `address`'s opt-out; False when it had none."""
    address = address.lower()

    def write(connection: Connection) -> bool:
        current = _state(connection, address)
        if current is None or current.state != UNSUBSCRIBED:
            return False
        _put(connection, OptOut(address, SUBSCRIBED, now, how, current.list))
        return True

    return await db.run_write(write, urgent=True)


async def all_optouts(db: Database) -> dict[str, OptOut]:
    """Every recorded choice, by address."""

    def read(connection: Connection) -> dict[str, OptOut]:
        rows = connection.execute(select(OPTOUTS)).mappings()
        return {row["address"]: OptOut(**row) for row in rows}

    return await db.run_read(read)


async def opted_out(db: Database, addresses: Iterable[str]) -> set[str]:
    """Which of `addresses` are unsubscribed now."""
    wanted = sorted({a.lower() for a in addresses})
    if not wanted:
        return set()
    query = select(OPTOUTS.c.address).where(
        OPTOUTS.c.address.in_(wanted), OPTOUTS.c.state == UNSUBSCRIBED
    )
    return set(await db.run_read(lambda connection: connection.execute(query).scalars().all()))


def cancel_pending(connection: Connection, addresses: list[str]) -> int:
    """Cancel every pending delivery and digest of `addresses`; how many rows changed."""
    if not addresses:
        return 0
    changed = 0
    for table in (DELIVERIES, DIGESTS):
        result = connection.execute(
            update(table)
            .where(table.c.subscriber.in_(addresses), table.c.status == _PENDING)
            .values(status=CANCELLED, lease_owner=None, lease_until=None)
        )
        changed += result.rowcount or 0
    return changed


def _state(connection: Connection, address: str) -> OptOut | None:
    row = connection.execute(select(OPTOUTS).where(OPTOUTS.c.address == address)).mappings().first()
    return None if row is None else OptOut(**row)


def _put(connection: Connection, optout: OptOut) -> None:
    values = {"state": optout.state, "since": optout.since, "how": optout.how, "list": optout.list}
    updated = connection.execute(
        update(OPTOUTS).where(OPTOUTS.c.address == optout.address).values(**values)
    )
    if not updated.rowcount:
        connection.execute(OPTOUTS.insert().values(address=optout.address, **values))
