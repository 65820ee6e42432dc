"""One exception tree for the whole service.

    WatcherError
    ├── ConfigError          the config file is missing, unreadable or invalid
    ├── SourceError          a source could not be fetched or parsed
    │   ├── FetchError       network / HTTP failure
    │   └── ParseError       the document could not be turned into items
    ├── StoreError           the database refused an operation
    └── DeliveryError        an email could not be handed over
        ├── TransientDeliveryError   retry later (connection, timeout, 4xx)
        └── PermanentDeliveryError   never retry (5xx): becomes a dead letter
            └── UnsafeMessageError   the built message failed the header check

Messages say what failed, where, and what to do.
"""

from __future__ import annotations


class WatcherError(Exception):
    """Root of every error the service raises on purpose."""


class ConfigError(WatcherError):
    """The configuration cannot be used; the message names file, key path and reason."""

    def __init__(self, problems: list[str], path: str | None = None) -> None:
        self.problems = problems
        self.path = path
        where = f"{path}: " if path else ""
        if len(problems) == 1:
            text = f"{where}{problems[0]}"
        else:
            text = f"{where}{len(problems)} problems\n" + "\n".join(f"  - {p}" for p in problems)
        super().__init__(text)


class SourceError(WatcherError):
    """A source failed; the service records it on the source's row and carries on."""

    def __init__(self, source: str, message: str) -> None:
        self.source = source
        super().__init__(f"source {source!r}: {message}")


class FetchError(SourceError):
    """The document could not be fetched (network error, HTTP status, limits)."""


class ParseError(SourceError):
    """The fetched document could not be turned into items."""


class StoreError(WatcherError):
    """The database refused an operation."""


class DeliveryError(WatcherError):
    """An email could not be handed to the transport."""


class TransientDeliveryError(DeliveryError):
    """Worth retrying later: connection refused, timeout, 4xx reply."""


class PermanentDeliveryError(DeliveryError):
    """Never worth retrying (5xx reply): the delivery becomes a dead letter."""


class UnsafeMessageError(PermanentDeliveryError):
    """The built message has a header it should not have; it is never sent."""
