"""One exception tree for the whole service.

    WatcherError
    ├── ConfigError          the config file is missing, unreadable or invalid
    ├── SourceError          a source could not be fetched or parsed
    │   ├── FetchError       network / HTTP failure, limits (may carry Retry-After)
    │   │   └── LinkRefused  an untrusted link (or its redirect) leads to an internal address
    │   └── ParseError       the document could not be turned into items
    │       └── PageChangedError   a page's item selector suddenly matches nothing
    ├── WorkerError          a task in the CPU worker pool did not finish
    │   ├── TaskTimeout      it ran longer than the pool's deadline; its worker was killed
    │   └── TaskCrashed      its worker process died under it
    ├── StoreError           the database refused an operation (or cannot be opened)
    ├── ServiceError         the service cannot start as configured (a probe port taken)
    ├── TokenError           a signed link is forged, tampered with or expired
    └── DeliveryError        an email could not be handed over
        ├── TransientDeliveryError   retry later (connection, timeout, 4xx)
        └── PermanentDeliveryError   never retry (5xx): becomes a dead letter
            └── UnsafeMessageError   the built message failed the header check

Messages say what failed, where, and what to do.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any


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
        self.detail = message
        super().__init__(f"source {source!r}: {message}")

    def __reduce__(self) -> tuple[Any, ...]:
        # picklable, so an error raised in a parser worker process reaches the poll intact
        return (type(self), (self.source, self.detail))


class FetchError(SourceError):
    """The document could not be fetched (network error, HTTP status, limits).

    `retry_after` is the server's own wish (429/503 `Retry-After`), when it gave one.
    """

    def __init__(self, source: str, message: str, retry_after: timedelta | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(source, message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.source, self.detail, self.retry_after))


class LinkRefused(FetchError):
    """An article link from a feed, or a redirect hop of it, leads to an internal address.

    Nothing was sent to that address; `http.allow_internal` lists the exceptions.
    """


class ParseError(SourceError):
    """The fetched document could not be turned into items."""


class PageChangedError(ParseError):
    """A page source's item selector matched nothing: the site was probably redesigned."""


class WorkerError(WatcherError):
    """A task sent to the CPU worker pool (`watcher.concurrency.pool`) did not finish.

    `what` names the task ("parsing https://x/feed"); callers turn this into their
    stage's error (a source's `ParseError`, a delivery's retry).
    """

    def __init__(self, what: str, message: str) -> None:
        self.what = what
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.what, str(self)))


class TaskTimeout(WorkerError):
    """The task ran (not waited) longer than the pool's deadline; only its worker was killed."""

    def __init__(self, what: str, deadline: float) -> None:
        self.deadline = deadline
        super().__init__(what, f"{what} took longer than {deadline:g}s; abandoned")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.what, self.deadline))


class TaskCrashed(WorkerError):
    """The worker process running the task died (a crashing C extension, the OOM killer)."""

    def __init__(self, what: str, exitcode: int | None = None) -> None:
        self.exitcode = exitcode
        code = f" (exit code {exitcode})" if exitcode is not None else ""
        super().__init__(what, f"{what} crashed its worker process{code}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.what, self.exitcode))


class StoreError(WatcherError):
    """The database refused an operation."""


class DeliveryError(WatcherError):
    """An email could not be handed to the transport."""


class TransientDeliveryError(DeliveryError):
    """Worth retrying later: connection refused, timeout, 4xx reply."""


class TransportUnavailable(TransientDeliveryError):
    """The relay cannot be reached or refused the session: no email can go out just now."""


class PermanentDeliveryError(DeliveryError):
    """Never worth retrying (5xx reply): the delivery becomes a dead letter."""


class UnsafeMessageError(PermanentDeliveryError):
    """The built message has a header it should not have; it is never sent."""


class ServiceError(WatcherError):
    """The service cannot start as configured (a port taken, say); the message says why."""


class TokenError(WatcherError):
    """A signed link that is forged, tampered with, expired or for another purpose."""
