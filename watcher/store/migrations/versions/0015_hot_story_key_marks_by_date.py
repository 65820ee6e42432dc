"""hot story key marks by date: an index on `hot_story_keys.marked_at`

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 02:50:00

A poll's story lookup reads the marks of its window (`marked_at` a story window old at
most) in one range of this index, instead of asking for each of the hundreds of keys it
looks up; expired marks stay in the table and are not read.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_hot_story_keys_marked_at", "hot_story_keys", ["marked_at"])


def downgrade() -> None:
    op.drop_index("ix_hot_story_keys_marked_at", table_name="hot_story_keys")
