"""The public endpoint on a real port for the tests, over the config's own database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from watcher.config import WatcherConfig
from watcher.public.app import Site
from watcher.public.server import PublicServer
from watcher.store.db import open_database


@asynccontextmanager
async def public_site(config: WatcherConfig, clock: Callable[[], datetime]) -> AsyncIterator[str]:
    """Serve the endpoint on 127.0.0.1:<free port>; yields its base URL; stops it after."""
    async with open_database(config.database_url) as db:
        server = PublicServer(Site(db, lambda: config, clock), "127.0.0.1", 0)
        await server.start()
        try:
            yield f"http://127.0.0.1:{server.port}"
        finally:
            await server.close()
