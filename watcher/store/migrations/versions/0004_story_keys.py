"""story keys: an index for story lookup, and sketches re-hashed with xxHash

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 18:05:00

Items stored before this revision carry version-1 sketches (BLAKE2b hashes), which
version 2 cannot compare with: every item that has a sketch is sketched again from its
stored title and body and filed under its story keys, in batches. This reads the
current `watcher.domain.stories` on purpose: the point is to bring old rows to the sketch the
running code compares with.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import watcher.store.tables
from watcher.domain.stories import encode_sketch, index_keys, sketch_text

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000


def upgrade() -> None:
    op.create_table(
        "story_keys",
        sa.Column("key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("moment", watcher.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"]),
        sa.PrimaryKeyConstraint("key", "item_id"),
    )
    with op.batch_alter_table("story_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_story_keys_item_id"), ["item_id"], unique=False)
    op.create_table(
        "hot_story_keys",
        sa.Column("key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("marked_at", watcher.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    _resketch_items()


def downgrade() -> None:
    op.drop_table("hot_story_keys")
    with op.batch_alter_table("story_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_story_keys_item_id"))
    op.drop_table("story_keys")


def _resketch_items() -> None:
    bind = op.get_bind()
    items = sa.table(
        "items",
        sa.column("id", sa.Integer()),
        sa.column("source", sa.String()),
        sa.column("title", sa.Text()),
        sa.column("body", sa.Text()),
        sa.column("published", watcher.store.tables.UTCDateTime()),
        sa.column("fetched_at", watcher.store.tables.UTCDateTime()),
        sa.column("story_id", sa.Integer()),
        sa.column("fingerprint", sa.LargeBinary()),
    )
    keys = sa.table(
        "story_keys",
        sa.column("key", sa.BigInteger()),
        sa.column("item_id", sa.Integer()),
        sa.column("story_id", sa.Integer()),
        sa.column("source", sa.String()),
        sa.column("moment", watcher.store.tables.UTCDateTime()),
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(
                items.c.id,
                items.c.source,
                items.c.title,
                items.c.body,
                items.c.published,
                items.c.fetched_at,
                items.c.story_id,
            )
            .where(items.c.id > last, items.c.fingerprint.is_not(None))
            .order_by(items.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        filed: list[dict[str, object]] = []
        for row in rows:
            sketch = sketch_text(row.title, row.body)
            bind.execute(
                items.update().where(items.c.id == row.id).values(fingerprint=encode_sketch(sketch))
            )
            if row.story_id is None:
                continue
            moment = row.published or row.fetched_at or datetime.now(UTC)
            filed.extend(
                {
                    "key": key,
                    "item_id": row.id,
                    "story_id": row.story_id,
                    "source": row.source,
                    "moment": moment,
                }
                for key in index_keys(sketch)
            )
        if filed:
            bind.execute(keys.insert(), filed)
        last = rows[-1].id
