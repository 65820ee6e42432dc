"""entry digests: the feed entries a poll read, so the next poll parses only new bytes

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 10:40:00

One row per entry of a feed's last successful poll (`watcher.store.entry_digests`).
A new table: existing databases start with none, and their next poll of each feed
parses it whole, as before, and records its entries.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "entry_digests",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=32), nullable=False),
        sa.Column("identity", sa.String(length=512), nullable=False),
        sa.Column("link", sa.Text(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("source", "digest"),
    )


def downgrade() -> None:
    op.drop_table("entry_digests")
