"""story keys: the latest polls' filings in a small table of their own

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-07 13:15:00

A poll files about 700 story-key rows under hashed keys; in `story_keys` they landed
on as many leaves, each written back at commit, and that was most of the SQLite
writer's commit. They now go to `recent_story_keys` (the same columns and key, on
SQLite WITHOUT ROWID too), a table of a few hundred leaves, and are moved into
`story_keys` in key order in batches (`watcher.store.story_index.MERGE_ROWS`). The new
table starts empty: the rows filed before stay where they are. Downgrading moves any
rows still in it back into `story_keys` first.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = '"key", item_id, story_id, source, moment, bars'


def upgrade() -> None:
    op.create_table(
        "recent_story_keys",
        sa.Column("key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("item_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("moment", sa.BigInteger(), nullable=False),
        sa.Column("bars", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("key", "item_id"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.execute(f"INSERT INTO story_keys ({_COLUMNS}) SELECT {_COLUMNS} FROM recent_story_keys")
    op.drop_table("recent_story_keys")
