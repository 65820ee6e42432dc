"""The resources one running watcher shares: database, HTTP client, workers, rules, channels."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from types import TracebackType
from typing import Self

from watcher.concurrency.elastic import ElasticWorkers
from watcher.concurrency.pool import Workers
from watcher.concurrency.threads import ThreadWorkers
from watcher.config import WatcherConfig
from watcher.notify.channel import Channel, ChannelKind, channels_for
from watcher.notify.dispatch import Dispatcher
from watcher.notify.pace import Pacer
from watcher.ops.memory import limit_malloc_arenas
from watcher.service.analysis import Rules, sketching, warm_up
from watcher.sources.http import Fetcher
from watcher.store.db import Database, open_database

# What the workers run, imported once by the forkserver so a new worker starts in
# milliseconds (a name it cannot import is skipped: the worker imports on first use)
WORKER_MODULES = (
    "feedparser",  # imported by watcher.sources.feed only when it parses
    # imported where they are first used, so a round with nothing new never loads them
    "selectolax.lexbor",
    "charset_normalizer",
    "nh3",
    "watcher.sources.feed",
    "watcher.sources.page",
    "watcher.sources.fulltext",
    "watcher.service.analysis",
    "watcher.classify.engine",
    "watcher.notify.channels.mail.alert",
)
# the optional `fulltext` extra (about 10 MB shared by every worker), preloaded only when
# a source asks for full text; fulltext.py imports it when it first runs otherwise
FULL_TEXT_MODULES = ("trafilatura",)
PARSE_THREADS = 2  # parsing runs on this many threads first (`ElasticWorkers`)
# polls classifying or storing their items at once, beyond what can run at once: a poll
# waits for a place holding its parsed items, not their analyses and plans as well
STORING_SPARE = 2


def worker_modules(config: WatcherConfig) -> tuple[str, ...]:
    """What the forkserver should import for `config`'s sources."""
    full_text = any(getattr(source, "full_text", False) for source in config.sources)
    return WORKER_MODULES + FULL_TEXT_MODULES if full_text else WORKER_MODULES


def utcnow() -> datetime:
    """The current time, UTC-aware."""
    return datetime.now(UTC)


@dataclass
class Runtime:
    """Open with `async with Runtime(config)`: connects, prepares the schema, closes on exit."""

    config: WatcherConfig
    clock: Callable[[], datetime] = utcnow
    extra_channels: Sequence[ChannelKind] = ()
    rules: Rules = field(init=False)
    channels: dict[str, Channel] = field(init=False)
    db: Database = field(init=False)
    fetcher: Fetcher = field(init=False)
    parsers: Workers = field(init=False)  # parsing, classifying, rendering (threads first)
    pacer: Pacer = field(init=False)
    storing: asyncio.Semaphore = field(init=False)  # see `STORING_SPARE`
    _stack: AsyncExitStack = field(init=False, default_factory=AsyncExitStack)

    async def __aenter__(self) -> Self:
        limit_malloc_arenas()  # before the database and parser threads start
        self.rules = Rules.from_config(self.config)
        self.channels = channels_for(self.config, None, self.extra_channels)
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
        deadline = polling.parse_timeout.total_seconds()
        # on threads; worker processes start when the threads fall behind or a parse hangs
        self.parsers = (
            ElasticWorkers(
                PARSE_THREADS,
                polling.parse_workers,
                deadline,
                polling.parse_backlog.total_seconds(),
                idle=polling.parse_idle.total_seconds(),
                preload=worker_modules(self.config),
                warm=partial(warm_up, self.rules, sketching(self.config)),
            )
            if polling.parse_workers
            else ThreadWorkers(PARSE_THREADS, deadline)
        )
        self._stack.callback(self.parsers.close)
        self.storing = asyncio.Semaphore(PARSE_THREADS + polling.parse_workers + STORING_SPARE)
        self.channels = channels_for(self.config, self.parsers, self.extra_channels)
        return self

    def reconfigure(self, config: WatcherConfig, rules: Rules) -> None:
        """Run on `config` (already validated, its `rules` built) from now on."""
        self.channels = channels_for(config, self.parsers, self.extra_channels)
        self.config, self.rules = config, rules
        if isinstance(self.parsers, ElasticWorkers):  # workers started later build these
            self.parsers.warm = partial(warm_up, rules, sketching(config))

    def dispatcher(self) -> Dispatcher:
        """What a dispatch pass needs: the store, the config, the clock and the rate."""
        return Dispatcher(self.db, self.config, self.clock, self.pacer)

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._stack.aclose()
