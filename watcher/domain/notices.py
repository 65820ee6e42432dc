"""Admin notices as values: what the service decided to tell the admins, before it is stored."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AdminNotice:
    """One notice for the admins; `key` names its episode, so it is queued at most once."""

    key: str
    subject: str
    body: str
