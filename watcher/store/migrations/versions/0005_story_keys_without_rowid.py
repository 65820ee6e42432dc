"""story keys on SQLite: one B-tree (WITHOUT ROWID), so a lookup reads postings in place

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 20:30:00

A poll's story lookup reads every posting of its items' keys (source, date and story
included). In a rowid table each posting found through the primary-key index cost a
second, random read of the row; filed by its primary key (key, item_id) the row is
where the index search ends. PostgreSQL keeps its table as it is.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = '"key", item_id, story_id, source, moment'


def _rebuild(rowid: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        'CREATE TABLE story_keys_rebuilt ("key" BIGINT NOT NULL, item_id INTEGER NOT NULL,'
        " story_id INTEGER NOT NULL, source VARCHAR(64) NOT NULL, moment DATETIME NOT NULL,"
        ' PRIMARY KEY ("key", item_id), FOREIGN KEY(item_id) REFERENCES items (id))'
        + ("" if rowid else " WITHOUT ROWID")
    )
    op.execute(f"INSERT INTO story_keys_rebuilt ({_COLUMNS}) SELECT {_COLUMNS} FROM story_keys")
    op.execute("DROP TABLE story_keys")
    op.execute("ALTER TABLE story_keys_rebuilt RENAME TO story_keys")
    op.create_index("ix_story_keys_item_id", "story_keys", ["item_id"], unique=False)


def upgrade() -> None:
    _rebuild(rowid=False)


def downgrade() -> None:
    _rebuild(rowid=True)
