"""The resources one running watcher shares: database, HTTP client, classifier, transport."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from watcher.classify.engine import Classifier
from watcher.config import WatcherConfig
from watcher.notify.transport import Transport, transport_for
from watcher.store.db import Sessions, create_engine, prepare_schema, sessions


def utcnow() -> datetime:
    """The current time, UTC-aware."""
    return datetime.now(UTC)


@dataclass
class Runtime:
    """Open with `async with Runtime(config)`: connects, prepares the schema, closes on exit."""

    config: WatcherConfig
    clock: Callable[[], datetime] = utcnow
    classifier: Classifier = field(init=False)
    engine: AsyncEngine = field(init=False)
    db: Sessions = field(init=False)
    http: httpx.AsyncClient = field(init=False)
    _stack: AsyncExitStack = field(init=False, default_factory=AsyncExitStack)

    async def __aenter__(self) -> Self:
        self.classifier = Classifier.from_config(self.config)
        self.engine = create_engine(self.config.database_url)
        self._stack.push_async_callback(self.engine.dispose)
        await prepare_schema(self.engine, migrate=self.config.database.migrate)
        self.db = sessions(self.engine)
        http = self.config.http
        self.http = httpx.AsyncClient(
            headers={"User-Agent": http.user_agent},
            timeout=httpx.Timeout(http.timeout.total_seconds()),
            follow_redirects=True,
            max_redirects=5,
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
        )
        self._stack.push_async_callback(self.http.aclose)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._stack.aclose()

    def transport(self) -> Transport:
        """A fresh transport for one dispatcher batch."""
        return transport_for(self.config)
