"""optouts: subscribers who unsubscribed (or subscribed again), since when and how

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 07:30:00

An opt-out recorded here outranks the config: a subscriber listed in the config but
unsubscribed gets nothing on any channel. Resubscribing keeps the row (state
`subscribed`), so `watcher subscribers` can say since when and how.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import watcher.store.tables

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "optouts",
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("since", watcher.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("how", sa.String(length=64), nullable=False),
        sa.Column("list", sa.String(length=32), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("address"),
    )


def downgrade() -> None:
    op.drop_table("optouts")
