"""The store's tables as ORM classes, for tests that read (and set up) rows as objects.

The service speaks Core only (`watcher.store.tables`); these classes are mapped onto the
very same `Table` objects (`registry.map_imperatively`), so they cannot drift from the
schema. A row's attributes are its columns; `Row(**columns)` makes a new one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import registry

from watcher.store import tables


class MappedRow:
    """A row of one table: its columns as attributes."""

    def __init__(self, **columns: Any) -> None:
        for name, value in columns.items():
            setattr(self, name, value)

    def __getattr__(self, name: str) -> Any:  # for mypy: columns are mapped at run time
        raise AttributeError(name)

    def model_dump(self) -> dict[str, Any]:
        """The row's columns by name (as SQLModel's rows gave them)."""
        return {column.key: getattr(self, column.key) for column in _MAPPED[type(self)].columns}


class SourceRow(MappedRow):
    """`sources`"""


class StoryRow(MappedRow):
    """`stories`"""


class ItemRow(MappedRow):
    """`items`"""


class StoryKeyRow(MappedRow):
    """`story_keys`"""


class HotStoryKeyRow(MappedRow):
    """`hot_story_keys`"""


class SignalRow(MappedRow):
    """`signals`"""


class DigestRow(MappedRow):
    """`digests`"""


class DeliveryRow(MappedRow):
    """`deliveries`"""


class NoticeRow(MappedRow):
    """`admin_notices`"""


class OptOutRow(MappedRow):
    """`optouts`"""


_MAPPED: dict[type[MappedRow], Table] = {
    SourceRow: tables.SOURCES,
    StoryRow: tables.STORIES,
    ItemRow: tables.ITEMS,
    StoryKeyRow: tables.STORY_KEYS,
    HotStoryKeyRow: tables.HOT_STORY_KEYS,
    SignalRow: tables.SIGNALS,
    DigestRow: tables.DIGESTS,
    DeliveryRow: tables.DELIVERIES,
    NoticeRow: tables.NOTICES,
    OptOutRow: tables.OPTOUTS,
}
_registry = registry()
for _cls, _table in _MAPPED.items():
    _registry.map_imperatively(_cls, _table)
