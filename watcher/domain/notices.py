"""Admin notices as values: what the service decided to tell the admins, before it is stored."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AdminNotice:
    """One notice for the admins; `key` names its episode, so it is queued at most once."""

    key: str
    subject: str
    body: str


GROUP_MARK = "#"


def notice_group(key: str) -> str | None:
    """The cause a notice shares with others (`cause#instance` keys), or None for a lone one.

    Notices of one group that are due together go out as one email: one bouncing
    address makes one notice listing its dead letters, not one notice each.
    """
    group, mark, _ = key.rpartition(GROUP_MARK)
    return group if mark and group else None
