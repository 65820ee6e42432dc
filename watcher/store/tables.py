"""Database tables, as SQLAlchemy Core tables on one `METADATA`.

Every store statement is built from these (`watcher.store.*`); the service builds no
ORM classes, so it imports neither SQLModel nor pydantic models of rows (the
migrations' old scripts still name SQLModel's string type and load it when they run).
Python-side `default`s fill the columns an insert leaves out; `server_default`s are the
schema's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy import (
    false as sa_false,
)
from sqlalchemy import (
    text as sa_text,
)


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


def unique_key(table: Table, name: str) -> UniqueConstraint:
    """The unique constraint `name` of `table` (for ON CONFLICT targets)."""
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint) and constraint.name == name:
            return constraint
    raise LookupError(f"{table.name} has no unique constraint {name}")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def micros(value: datetime) -> int:
    """An aware datetime as whole microseconds since the Unix epoch (`UTCMicros`' stored
    form): exact, since a datetime holds whole microseconds, and ordered as the
    instants are. A naive datetime raises ValueError."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the database; use UTC-aware values")
    return (value - _EPOCH) // _MICROSECOND


class UTCMicros(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes stored as integer microseconds since the epoch
    (`micros`), the same on every engine: 8 bytes where SQLite's text form takes 26, and
    compared as integers. Read back as aware UTC datetimes."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> int | None:
        return None if value is None else micros(value)

    def process_result_value(self, value: int | None, dialect: Any) -> datetime | None:
        return None if value is None else _EPOCH + value * _MICROSECOND


METADATA = MetaData()

# A source's state between polls: cache validators, health and its next poll.
#
# `next_poll_at` alone decides whether the source is due (NULL: due now); it also serves
# as the poll's lease while a poll runs. `backoff_until` is set while the source fails
# (the end of the current backoff), `failing_since` is the start of the failure episode
# (it names the admin notices of that episode), `schedule` is the schedule the row was
# planned with (a changed config re-plans the row).
SOURCES = Table(
    "sources",
    METADATA,
    Column("name", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("etag", String(512), nullable=True),
    Column("last_modified", String(128), nullable=True),
    Column("polls", Integer, nullable=False, default=0),
    Column("failures_total", Integer, nullable=False, default=0),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
    Column("last_error_at", UTCDateTime(), nullable=True),
    Column("last_poll_at", UTCDateTime(), nullable=True),
    Column("last_success_at", UTCDateTime(), nullable=True),
    Column("last_new_item_at", UTCDateTime(), nullable=True),
    Column("next_poll_at", UTCDateTime(), nullable=True, index=True),
    Column("backoff_until", UTCDateTime(), nullable=True),
    Column("failing_since", UTCDateTime(), nullable=True),
    Column("schedule", String(255), nullable=True),
    Column("added_at", UTCDateTime(), nullable=True),
    # the feed entries whose items its polls stored (`watcher.sources.entry_marks`)
    Column("entry_marks", LargeBinary, nullable=True),
)

# One news story; items from several sources may belong to it.
STORIES = Table(
    "stories",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("title", Text, nullable=False),
    Column("first_seen", UTCDateTime(), nullable=False),
)

# An item as last seen; a changed text bumps `revision`. `published_day` is a date
# without time of day, `date_from` where the date was read, `story_news` what the item
# added to the story it joined ("figure 12%, day 03-04"; NULL: nothing).
ITEMS = Table(
    "items",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("source", String(64), nullable=False, index=True),
    Column("identity", String(512), nullable=False),
    Column("guid", Text, nullable=True),
    Column("link", Text, nullable=True),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("published", UTCDateTime(), nullable=True),
    Column("published_day", Date, nullable=True),
    Column("date_from", String(16), nullable=True),
    Column("fetched_at", UTCDateTime(), nullable=False, index=True),
    Column("content_hash", String(64), nullable=False),
    Column("revision", Integer, nullable=False, default=1),
    Column("story_id", Integer, ForeignKey("stories.id"), nullable=True, index=True),
    Column("fingerprint", LargeBinary, nullable=True),
    Column("story_news", Text, nullable=True),
    UniqueConstraint("source", "identity", name="uq_items_source_identity"),
)

# An item filed under one of its story keys (`watcher.domain.stories.index_keys`).
#
# The index that finds the earlier items a new one may join without reading them all:
# `moment` is the item's date (published, else first fetched), `source` and `story_id`
# are copied from the item so a lookup needs no join. On SQLite the table is its primary
# key's B-tree (WITHOUT ROWID): a lookup by key finds whole postings. The moment is an
# integer (`UTCMicros`, migration 0013): the keys are hashes, so a poll's rows land on
# hundreds of the tree's leaves, and a smaller row means fewer leaves to write back.
STORY_KEYS = Table(
    "story_keys",
    METADATA,
    Column("key", BigInteger, primary_key=True, autoincrement=False),
    Column("item_id", Integer, ForeignKey("items.id"), primary_key=True, index=True),
    Column("story_id", Integer, nullable=False),
    Column("source", String(64), nullable=False),
    Column("moment", UTCMicros(), nullable=False),
    # the item's contradicting facts, folded (`watcher.domain.stories.bar_mask`): a lookup
    # bars most contradicting items by it before reading their rows; NULL: filed before
    # migration 0012, read and tested as before
    Column("bars", BigInteger, nullable=True),
    sqlite_with_rowid=False,
)

# A story key too common to tell stories apart (`watcher.domain.stories.hot_keys`).
# Left out of lookups and filings until `marked_at` is a story window old; then it is
# counted again.
HOT_STORY_KEYS = Table(
    "hot_story_keys",
    METADATA,
    Column("key", BigInteger, primary_key=True, autoincrement=False),
    Column("marked_at", UTCDateTime(), nullable=False),
)

# A signal found in an item (one per item and type), with its explanation.
SIGNALS = Table(
    "signals",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False, index=True),
    Column("story_id", Integer, ForeignKey("stories.id"), nullable=True),
    Column("type", String(64), nullable=False, index=True),
    Column("direction", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("score", Float, nullable=False),
    Column("speculative", Boolean, nullable=False, default=False),
    Column(
        "direction_uncertain", Boolean, nullable=False, server_default=sa_false(), default=False
    ),
    Column("direction_doubt", Text, nullable=False, server_default=""),
    Column("rule", String(64), nullable=False),
    Column("evidence", JSON, nullable=True),
    Column("entities", JSON, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False, index=True),
    UniqueConstraint("item_id", "type", name="uq_signals_item_type"),
)

# One digest email per (subscriber, period): the unique key makes producing it idempotent.
#
# `period` is the schedule's fire time in UTC (ISO, minute precision); deliveries join a
# digest through `deliveries.digest_id` in the transaction that creates it, so its
# content is fixed from then on and a retry sends the same email.
DIGESTS = Table(
    "digests",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("subscriber", String(320), nullable=False),
    Column("period", String(32), nullable=False),
    Column("period_end", UTCDateTime(), nullable=False),
    Column("message_id", String(255), nullable=False),
    Column("status", String(16), nullable=False, default="pending"),
    Column("entries", Integer, nullable=False, default=0),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_until", UTCDateTime(), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime(), nullable=True),
    Column("reply", Text, nullable=True),
    Column("last_error", Text, nullable=True),
    UniqueConstraint("subscriber", "period", name="uq_digests_once"),
    Index("ix_digests_due", "status", "next_attempt_at"),
)

# The outbox: one row per (subscriber, channel, target, story, signal type, edition).
#
# `edition` is 0 for a story's first report (and copies of it, which the key then
# drops); an item that joined a story with news (`items.story_news`) is sent again under
# its own item id as edition.
#
# `channel` is how the alert goes (`email`, or a channel the subscriber names), `target`
# which of the subscriber's endpoints on that channel (`watcher.notify.channel`). `mode`
# is the subscriber's mode when the row was queued: `immediate` rows are sent by the
# dispatcher on their own, `digest` rows wait for a digest (`digest_id`). A dispatcher
# holds a row while `lease_until` is in the future (see `outbox.claim_rows`).
# `message_id` names one message (one subscriber, item and target), also the alert's
# stable ID on channels other than email.
DELIVERIES = Table(
    "deliveries",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("subscriber", String(320), nullable=False),
    Column("channel", String(32), nullable=False, server_default="email", default="email"),
    Column("target", String(64), nullable=False, server_default="email", default="email"),
    Column("story_id", Integer, ForeignKey("stories.id"), nullable=False),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),
    Column("signal_id", Integer, ForeignKey("signals.id"), nullable=False),
    Column("signal_type", String(64), nullable=False),
    Column("message_id", String(255), nullable=False, index=True),
    Column("status", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime(), nullable=True),
    Column("reply", Text, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("mode", String(16), nullable=False, default="immediate", server_default="immediate"),
    Column("digest_id", Integer, ForeignKey("digests.id"), nullable=True),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_until", UTCDateTime(), nullable=True),
    Column("edition", Integer, nullable=False, server_default=sa_text("0"), default=0),
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

# An operational notice for the admins (source failing, dead letter); never a market
# alert. `key` makes a notice idempotent: the same condition episode queues it once.
NOTICES = Table(
    "admin_notices",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("key", String(255), nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("message_id", String(255), nullable=False),
    Column("status", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime(), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_until", UTCDateTime(), nullable=True),
    UniqueConstraint("key", name="uq_admin_notices_key"),
)

# A subscriber's own choice, which outranks the config: `unsubscribed` or `subscribed`.
# `since` is when the state was set, `how` by what (`one-click`, `confirm-page`, `cli`),
# `list` the mailing list the link was for (`alerts`, `digest`).
OPTOUTS = Table(
    "optouts",
    METADATA,
    Column("address", String(320), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("since", UTCDateTime(), nullable=False),
    Column("how", String(64), nullable=False),
    Column("list", String(32), nullable=False, server_default="", default=""),
)
