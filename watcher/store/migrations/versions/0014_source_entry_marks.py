"""source entry marks: the feed entries whose items a poll stored, on the source's row

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 13:30:00

One nullable blob on `sources` (`watcher.sources.entry_marks`): a feed's next poll does
not parse again the entries it names. Existing rows start with none, so their next poll
reads each feed whole, as before, and marks the entries whose items it stores from then on.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("sources", sa.Column("entry_marks", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("entry_marks")
