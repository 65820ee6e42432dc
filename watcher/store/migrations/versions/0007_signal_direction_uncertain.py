"""signals: whether the item's sentences left the direction uncertain

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 19:00:00

An item whose sentences disagree on the direction, with no headline or lead to settle
it, gets the classifier's best reading and a flag that says so (the alert shows it,
and the severity is capped as for easing). Existing signals were read as certain.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "direction_uncertain", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.drop_column("direction_uncertain")
