"""story keys: a head row per item with its bar mask

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 23:00:00

A story lookup bars the shortlisted items whose facts contradict the new item's
(another tonnage, element, month ...) before it reads their rows: each filed item gets
a head row in story_keys (key -1, `watcher.store.story_index.HEAD`) whose new `bars`
column holds its contradicting facts folded into one integer
(`watcher.domain.stories.bar_mask`); the other key rows leave it NULL. Items filed
before have no head row: they are read and tested as before. A plain column added in
place, so SQLite keeps the table WITHOUT ROWID (migration 0005).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("story_keys", sa.Column("bars", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    # the items' head rows (key -1, `watcher.store.story_index.HEAD`) go with their
    # masks; ALTER TABLE ... DROP COLUMN in place (SQLite 3.35+): a batch copy would
    # rebuild the table with a rowid
    op.execute('DELETE FROM story_keys WHERE "key" = -1')
    op.execute("ALTER TABLE story_keys DROP COLUMN bars")
