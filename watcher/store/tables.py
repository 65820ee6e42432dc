"""Database tables.

No `from __future__ import annotations` here: it breaks SQLModel tables (sqlmodel#196).
"""

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    LargeBinary,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy import (
    false as sa_false,
)
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every engine (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use UTC-aware values")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _when(nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


def table_of(model: type[SQLModel]) -> Table:
    """A model's Core table: bulk statements through it skip the ORM's per-row work."""
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


def unique_key(table: Table, name: str) -> UniqueConstraint:
    """The unique constraint `name` of `table` (for ON CONFLICT targets)."""
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint) and constraint.name == name:
            return constraint
    raise LookupError(f"{table.name} has no unique constraint {name}")


class SourceRow(SQLModel, table=True):
    """A source's state between polls: cache validators, health and its next poll.

    `next_poll_at` alone decides whether the source is due (NULL: due now); it also
    serves as the poll's lease while a poll runs. `backoff_until` is set while the
    source fails (the end of the current backoff), `failing_since` is the start of the
    failure episode (it names the admin notices of that episode), `schedule` is the
    schedule the row was planned with (a changed config re-plans the row).
    """

    __tablename__ = "sources"

    name: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=16)
    etag: str | None = Field(default=None, max_length=512)
    last_modified: str | None = Field(default=None, max_length=128)
    polls: int = 0
    failures_total: int = 0
    consecutive_failures: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    last_error_at: datetime | None = _when()
    last_poll_at: datetime | None = _when()
    last_success_at: datetime | None = _when()
    last_new_item_at: datetime | None = _when()
    next_poll_at: datetime | None = _when(index=True)
    backoff_until: datetime | None = _when()
    failing_since: datetime | None = _when()
    schedule: str | None = Field(default=None, max_length=255)
    added_at: datetime | None = _when()


class StoryRow(SQLModel, table=True):
    """One news story; items from several sources may belong to it."""

    __tablename__ = "stories"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(sa_column=Column(Text, nullable=False))
    first_seen: datetime = _when(nullable=False)


class ItemRow(SQLModel, table=True):
    """An item as last seen; a changed text bumps `revision`."""

    __tablename__ = "items"
    __table_args__ = (UniqueConstraint("source", "identity", name="uq_items_source_identity"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=64, index=True)
    identity: str = Field(max_length=512)
    guid: str | None = Field(default=None, sa_column=Column(Text))
    link: str | None = Field(default=None, sa_column=Column(Text))
    title: str = Field(sa_column=Column(Text, nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    published: datetime | None = _when()
    published_day: date | None = Field(default=None, description="a date without time of day")
    date_from: str | None = Field(
        default=None, max_length=16, description="where the date was read"
    )
    fetched_at: datetime = _when(nullable=False, index=True)
    content_hash: str = Field(max_length=64)
    revision: int = 1
    story_id: int | None = Field(default=None, foreign_key="stories.id", index=True)
    fingerprint: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    story_news: str | None = Field(default=None, sa_column=Column(Text))
    """What the item added to the story it joined ("figure 12%, day 03-04"); None: nothing."""


class StoryKeyRow(SQLModel, table=True):
    """An item filed under one of its story keys (`watcher.domain.stories.index_keys`).

    The index that finds the earlier items a new one may join without reading them
    all: `moment` is the item's date (published, else first fetched), `source` and
    `story_id` are copied from the item so a lookup needs no join. On SQLite the table
    is its primary key's B-tree (WITHOUT ROWID): a lookup by key finds whole postings.
    """

    __tablename__ = "story_keys"
    __table_args__ = {"sqlite_with_rowid": False}

    key: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    item_id: int = Field(foreign_key="items.id", primary_key=True, index=True)
    story_id: int
    source: str = Field(max_length=64)
    moment: datetime = _when(nullable=False)


class HotStoryKeyRow(SQLModel, table=True):
    """A story key too common to tell stories apart (`watcher.domain.stories.hot_keys`).

    Left out of lookups and filings until `marked_at` is a story window old; then it is
    counted again.
    """

    __tablename__ = "hot_story_keys"

    key: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    marked_at: datetime = _when(nullable=False)


class SignalRow(SQLModel, table=True):
    """A signal found in an item (one per item and type), with its explanation."""

    __tablename__ = "signals"
    __table_args__ = (UniqueConstraint("item_id", "type", name="uq_signals_item_type"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="items.id", index=True)
    story_id: int | None = Field(default=None, foreign_key="stories.id")
    type: str = Field(max_length=64, index=True)
    direction: str = Field(max_length=16)
    severity: str = Field(max_length=16)
    score: float
    speculative: bool = False
    direction_uncertain: bool = Field(
        default=False, sa_column_kwargs={"server_default": sa_false()}
    )
    direction_doubt: str = Field(
        default="", sa_column=Column(Text, nullable=False, server_default="")
    )
    rule: str = Field(max_length=64)
    evidence: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    entities: dict[str, list[str]] = Field(default_factory=dict, sa_column=Column(JSON))
    created_at: datetime = _when(nullable=False, index=True)


class DigestRow(SQLModel, table=True):
    """One digest email per (subscriber, period): the unique key makes producing it idempotent.

    `period` is the schedule's fire time in UTC (ISO, minute precision); deliveries join
    a digest through `DeliveryRow.digest_id` in the transaction that creates it, so its
    content is fixed from then on and a retry sends the same email.
    """

    __tablename__ = "digests"
    __table_args__ = (
        UniqueConstraint("subscriber", "period", name="uq_digests_once"),
        Index("ix_digests_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscriber: str = Field(max_length=320)
    period: str = Field(max_length=32)
    period_end: datetime = _when(nullable=False)
    message_id: str = Field(max_length=255)
    status: str = Field(default="pending", max_length=16)
    entries: int = 0
    attempts: int = 0
    next_attempt_at: datetime = _when(nullable=False)
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = _when()
    created_at: datetime = _when(nullable=False)
    sent_at: datetime | None = _when()
    reply: str | None = Field(default=None, sa_column=Column(Text))
    last_error: str | None = Field(default=None, sa_column=Column(Text))


class DeliveryRow(SQLModel, table=True):
    """The outbox: one row per (subscriber, channel, target, story, signal type, edition).

    `edition` is 0 for a story's first report (and copies of it, which the key then
    drops); an item that joined a story with news (`ItemRow.story_news`) is sent again
    under its own item id as edition.

    `channel` is how the alert goes (`email`, or a channel the subscriber names), `target`
    which of the subscriber's endpoints on that channel (`watcher.notify.channel`).
    `mode` is the subscriber's mode when the row was queued: `immediate` rows are sent by
    the dispatcher on their own, `digest` rows wait for a digest (`digest_id`). A
    dispatcher holds a row while `lease_until` is in the future (see `outbox.claim_rows`).
    `message_id` names one message (one subscriber, item and target), also the alert's
    stable ID on channels other than email.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint(
            "subscriber",
            "channel",
            "target",
            "story_id",
            "signal_type",
            "edition",
            name="uq_deliveries_once",
        ),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
        Index("ix_deliveries_digest", "subscriber", "mode", "digest_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscriber: str = Field(max_length=320)
    channel: str = Field(
        default="email", max_length=32, sa_column_kwargs={"server_default": "email"}
    )
    target: str = Field(
        default="email", max_length=64, sa_column_kwargs={"server_default": "email"}
    )
    story_id: int = Field(foreign_key="stories.id")
    item_id: int = Field(foreign_key="items.id")
    signal_id: int = Field(foreign_key="signals.id")
    signal_type: str = Field(max_length=64)
    message_id: str = Field(max_length=255, index=True)
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = _when(nullable=False)
    created_at: datetime = _when(nullable=False)
    sent_at: datetime | None = _when()
    reply: str | None = Field(default=None, sa_column=Column(Text))
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    mode: str = Field(default="immediate", max_length=16)
    digest_id: int | None = Field(default=None, foreign_key="digests.id")
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = _when()
    edition: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class NoticeRow(SQLModel, table=True):
    """An operational notice for the admins (source failing, dead letter); never a market alert.

    `key` makes a notice idempotent: the same condition episode queues it once.
    """

    __tablename__ = "admin_notices"
    __table_args__ = (UniqueConstraint("key", name="uq_admin_notices_key"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=255)
    subject: str = Field(sa_column=Column(Text, nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    message_id: str = Field(max_length=255)
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = _when(nullable=False)
    created_at: datetime = _when(nullable=False)
    sent_at: datetime | None = _when()
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = _when()


class OptOutRow(SQLModel, table=True):
    """A subscriber's own choice, which outranks the config: `unsubscribed` or `subscribed`.

    `since` is when the state was set, `how` by what (`one-click`, `confirm-page`, `cli`),
    `list` the mailing list the link was for (`alerts`, `digest`).
    """

    __tablename__ = "optouts"

    address: str = Field(primary_key=True, max_length=320)
    state: str = Field(max_length=16)
    since: datetime = _when(nullable=False)
    how: str = Field(max_length=64)
    list: str = Field(default="", max_length=32, sa_column_kwargs={"server_default": ""})


# The Core tables every store statement is built from.
SOURCES = table_of(SourceRow)
STORIES = table_of(StoryRow)
ITEMS = table_of(ItemRow)
STORY_KEYS = table_of(StoryKeyRow)
HOT_STORY_KEYS = table_of(HotStoryKeyRow)
SIGNALS = table_of(SignalRow)
DIGESTS = table_of(DigestRow)
DELIVERIES = table_of(DeliveryRow)
NOTICES = table_of(NoticeRow)
OPTOUTS = table_of(OptOutRow)
