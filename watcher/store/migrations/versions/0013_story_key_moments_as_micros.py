"""story keys: the moment as integer microseconds since the epoch

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 06:10:00

A poll files a few hundred story-key rows, each under a hash, so they land on as many
leaves of the table's key order, and every leaf written is written back at commit. The
moment, as SQLite's text ("2026-12-07 05:33:31.000000", 26 bytes), was half a row: as
an integer (`watcher.store.tables.UTCMicros`, 8 bytes) the table has about a third
fewer leaves. Existing rows are converted in place, exactly (a stored moment holds
whole microseconds). On SQLite the table is rebuilt, still WITHOUT ROWID (migration
0005); PostgreSQL converts the column's type.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = '"key", item_id, story_id, source, moment, bars'
# SQLite's stored text "YYYY-MM-DD HH:MM:SS.ffffff" (UTC) as microseconds: the whole
# seconds through strftime, the fraction read as written (none: zero)
_TEXT_TO_MICROS = (
    "CAST(strftime('%s', substr(moment, 1, 19)) AS INTEGER) * 1000000"
    " + CAST(substr(moment || '.000000', 21, 6) AS INTEGER)"
)
# and back: the fraction taken first, so a moment before 1970 divides exactly
_FRACTION = "((moment % 1000000) + 1000000) % 1000000"
_MICROS_TO_TEXT = (
    f"strftime('%Y-%m-%d %H:%M:%S', (moment - {_FRACTION}) / 1000000, 'unixepoch')"
    f" || '.' || printf('%06d', {_FRACTION})"
)


def _rebuild_sqlite(moment_type: str, moment: str) -> None:
    """story_keys again as one B-tree, its moment column of `moment_type` filled by the
    expression `moment` of the old one."""
    op.execute(
        'CREATE TABLE story_keys_rebuilt ("key" BIGINT NOT NULL, item_id INTEGER NOT NULL,'
        f" story_id INTEGER NOT NULL, source VARCHAR(64) NOT NULL, moment {moment_type} NOT NULL,"
        ' bars BIGINT, PRIMARY KEY ("key", item_id), FOREIGN KEY(item_id) REFERENCES items (id))'
        " WITHOUT ROWID"
    )
    op.execute(
        f"INSERT INTO story_keys_rebuilt ({_COLUMNS})"
        f' SELECT "key", item_id, story_id, source, {moment}, bars FROM story_keys'
    )
    op.execute("DROP TABLE story_keys")
    op.execute("ALTER TABLE story_keys_rebuilt RENAME TO story_keys")
    op.create_index("ix_story_keys_item_id", "story_keys", ["item_id"], unique=False)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite("BIGINT", _TEXT_TO_MICROS)
        return
    op.execute(
        "ALTER TABLE story_keys ALTER COLUMN moment TYPE BIGINT"
        " USING (EXTRACT(EPOCH FROM moment) * 1000000)::BIGINT"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite("DATETIME", _MICROS_TO_TEXT)
        return
    op.execute(
        "ALTER TABLE story_keys ALTER COLUMN moment TYPE TIMESTAMP WITH TIME ZONE"
        " USING TIMESTAMPTZ 'epoch' + moment * INTERVAL '1 microsecond'"
    )
