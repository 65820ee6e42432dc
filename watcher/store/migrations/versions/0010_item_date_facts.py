"""items: a date without time of day, and where the date was read

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 08:00:00

A local document is dated by its front matter, dateline or first stated date before
its file time, and a page may state a day without a time: `published_day` keeps such
a day (shown as a date, never as midnight UTC) and `date_from` where the date was read
(the email says which). Existing rows were dated by their source's date field or
their file time, which the rows do not record: both columns start empty.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("published_day", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("date_from", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_column("date_from")
        batch_op.drop_column("published_day")
