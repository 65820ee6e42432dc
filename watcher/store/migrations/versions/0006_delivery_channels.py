"""deliveries per channel: a row per subscriber, channel, target, story and signal type

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 18:00:00

Alerts go out on channels (email, and whatever a subscriber names under `channels:`);
a channel may reach one subscriber at several endpoints (targets). Every existing row
was an email: channel `email`, target `email`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "channel",
                sqlmodel.sql.sqltypes.AutoString(length=32),
                nullable=False,
                server_default="email",
            )
        )
        batch_op.add_column(
            sa.Column(
                "target",
                sqlmodel.sql.sqltypes.AutoString(length=64),
                nullable=False,
                server_default="email",
            )
        )
        batch_op.drop_constraint("uq_deliveries_once", type_="unique")
        batch_op.create_unique_constraint(
            "uq_deliveries_once", ["subscriber", "channel", "target", "story_id", "signal_type"]
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint("uq_deliveries_once", type_="unique")
        batch_op.create_unique_constraint(
            "uq_deliveries_once", ["subscriber", "story_id", "signal_type"]
        )
        batch_op.drop_column("target")
        batch_op.drop_column("channel")
