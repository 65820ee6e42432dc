"""signals: why the direction is uncertain

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 03:30:00

An uncertain direction now says why: the words that read the other way and where they
stand, shown in the alert beside "direction uncertain". Existing signals carry no
reason: the column starts empty.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("direction_doubt", sa.Text(), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.drop_column("direction_doubt")
