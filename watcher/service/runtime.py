"""The resources one running watcher shares: database, HTTP client, parser workers, rules."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

from watcher.concurrency.pool import ParserPool
from watcher.config import WatcherConfig
from watcher.notify.pace import Pacer
from watcher.notify.transport import SharedTransport, Transport, transport_for
from watcher.ops.memory import limit_malloc_arenas
from watcher.service.analysis import Rules
from watcher.sources.http import Fetcher
from watcher.store.db import Database, open_database


def utcnow() -> datetime:
    """The current time, UTC-aware."""
    return datetime.now(UTC)


@dataclass
class Runtime:
    """Open with `async with Runtime(config)`: connects, prepares the schema, closes on exit."""

    config: WatcherConfig
    clock: Callable[[], datetime] = utcnow
    rules: Rules = field(init=False)
    db: Database = field(init=False)
    fetcher: Fetcher = field(init=False)
    parsers: ParserPool = field(init=False)
    pacer: Pacer = field(init=False)
    _stack: AsyncExitStack = field(init=False, default_factory=AsyncExitStack)

    async def __aenter__(self) -> Self:
        limit_malloc_arenas()  # before the database and parser threads start
        self.rules = Rules.from_config(self.config)
        self.pacer = Pacer(self.config.dispatcher.rate_per_minute)
        # every poll in flight may hold a connection, plus the dispatcher and probes
        self.db = await self._stack.enter_async_context(
            open_database(
                self.config.database_url,
                migrate=self.config.database.migrate,
                connections=self.config.http.max_connections + 5,
            )
        )
        self.fetcher = Fetcher(self.config.http, self.config.user_agent)
        self._stack.push_async_callback(self.fetcher.aclose)
        polling = self.config.polling
        self.parsers = ParserPool(polling.parse_workers, polling.parse_timeout.total_seconds())
        self._stack.callback(self.parsers.close)
        await self.parsers.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._stack.aclose()

    def transport(self) -> Transport:
        """A fresh transport: one connection."""
        return transport_for(self.config)

    def shared_transport(self) -> SharedTransport:
        """The connections of one dispatch pass: up to `dispatcher.connections` at once."""
        return SharedTransport(self.transport, self.config.dispatcher.connections)
