"""hot story keys: an index on when each was marked

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-07 10:45:00

A story lookup reads every key marked hot within the story window in one statement
(`watcher.store.story_index.KNOWN_HOT`) instead of asking for each of a poll's few
hundred keys. Marks are never deleted (an expired one is counted again and renewed), so
the index keeps that read to the marks of the window however many keys were hot once.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_hot_story_keys_marked_at"


def upgrade() -> None:
    op.create_index(INDEX, "hot_story_keys", ["marked_at"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="hot_story_keys")
