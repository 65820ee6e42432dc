"""stories: a joined item that adds a fact is sent again, as an update of its story

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 08:00:00

An item that joins a story but reports a fact the story did not carry (another figure,
element, country, day or signal) is news: its deliveries get `edition` = the item's id,
so the outbox's unique key lets them through once more; the first report of a story and
plain copies keep edition 0. `items.story_news` says, readably, what the item added.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("story_news", sa.Text(), nullable=True))
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("edition", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.drop_constraint("uq_deliveries_once", type_="unique")
        batch_op.create_unique_constraint(
            "uq_deliveries_once",
            ["subscriber", "channel", "target", "story_id", "signal_type", "edition"],
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint("uq_deliveries_once", type_="unique")
        batch_op.create_unique_constraint(
            "uq_deliveries_once", ["subscriber", "channel", "target", "story_id", "signal_type"]
        )
        batch_op.drop_column("edition")
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_column("story_news")
