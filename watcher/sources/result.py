"""What a fetch returns, whatever the source kind."""

from __future__ import annotations

from dataclasses import dataclass, field

from watcher.items import Item


@dataclass(frozen=True, slots=True)
class Validators:
    """HTTP cache validators remembered between polls (RFC 9110 §8.8)."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The items a source offers now, or `not_modified` when the server said 304."""

    items: list[Item] = field(default_factory=list)
    not_modified: bool = False
    validators: Validators = Validators()
    warnings: list[str] = field(default_factory=list)
