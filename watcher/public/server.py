"""Serves the public endpoint with uvicorn inside the service's event loop.

Started only when `public.enabled`; on its own host and port, never the probes'.
uvicorn and Starlette are imported here, so a service without the endpoint never
loads them.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import structlog

from watcher.public.app import Site

log = structlog.get_logger("watcher.public")
START_TIMEOUT = 30.0


class PublicServer:
    """The endpoint on host:port (port 0 picks a free one; `port` holds it once started)."""

    def __init__(self, site: Site, host: str, port: int) -> None:
        self.site = site
        self.host = host
        self.port = port
        self._server: object | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Listen; returns once the socket is bound. Raises `OSError` if it cannot bind."""
        import uvicorn

        from watcher.public.app import create_app

        class _Server(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Iterator[None]:
                yield  # the daemon owns SIGTERM/SIGINT; uvicorn must not take them

        config = uvicorn.Config(
            create_app(self.site),
            host=self.host,
            port=self.port,
            log_config=None,
            access_log=False,
            lifespan="off",
            server_header=False,
        )
        # bound here, so a taken port is an OSError (uvicorn would exit the process)
        sock = socket.create_server((self.host, self.port))
        server = _Server(config)
        self._server = server
        self._task = asyncio.create_task(server.serve(sockets=[sock]))
        async with asyncio.timeout(START_TIMEOUT):
            while not server.started:
                if self._task.done():
                    self._task.result()
                    raise OSError(f"the public endpoint stopped on {self.host}:{self.port}")
                await asyncio.sleep(0.01)
        self.port = int(sock.getsockname()[1])
        log.info("public_server_started", host=self.host, port=self.port)

    async def close(self) -> None:
        """Stop listening and finish open requests (bounded)."""
        import uvicorn

        server, task = self._server, self._task
        self._server = self._task = None
        if server is None or task is None:
            return
        assert isinstance(server, uvicorn.Server)
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 10)
