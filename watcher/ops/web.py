"""A small HTTP server for probes and scraping: `/healthz`, `/readyz`, `/metrics`.

HTTP/1.1 framing is done by h11 (no hand-written parser); each connection serves one
GET and closes. Handlers are coroutines returning (status, content type, body).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping

import h11
import structlog

log = structlog.get_logger("watcher.web")

Response = tuple[int, str, bytes]
Handler = Callable[[], Awaitable[Response]]
READ_TIMEOUT = 5.0
MAX_REQUEST_BYTES = 16_384


class ProbeServer:
    """Serves `routes` (path → handler) on host:port; port 0 picks a free port."""

    def __init__(self, host: str, port: int, routes: Mapping[str, Handler]) -> None:
        self.host = host
        self.port = port
        self.routes = dict(routes)
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        """Start listening; `port` holds the bound port afterwards."""
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        log.info("probe_server_started", host=self.host, port=self.port)

    async def close(self) -> None:
        """Stop listening and close open connections."""
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_REQUEST_BYTES)
        try:
            async with asyncio.timeout(READ_TIMEOUT):
                request = await _read_request(conn, reader)
            if request is None:
                return
            status, content_type, body = await self._respond(request)
            headers = [
                ("Content-Type", content_type),
                ("Content-Length", str(len(body))),
                ("Connection", "close"),
                ("Cache-Control", "no-store"),
            ]
            writer.write(conn.send(h11.Response(status_code=status, headers=headers)) or b"")
            if request.method != b"HEAD":
                writer.write(conn.send(h11.Data(data=body)) or b"")
            writer.write(conn.send(h11.EndOfMessage()) or b"")
            await writer.drain()
        except (TimeoutError, h11.ProtocolError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _respond(self, request: h11.Request) -> Response:
        if request.method not in (b"GET", b"HEAD"):
            return 405, "text/plain; charset=utf-8", b"method not allowed\n"
        path = request.target.decode("ascii", "replace").split("?", 1)[0]
        handler = self.routes.get(path)
        if handler is None:
            return 404, "text/plain; charset=utf-8", b"not found\n"
        try:
            return await handler()
        except Exception as exc:  # a probe must answer, never crash the server
            log.exception("probe_handler_failed", path=path)
            return 500, "text/plain; charset=utf-8", f"error: {exc}\n".encode()


async def _read_request(conn: h11.Connection, reader: asyncio.StreamReader) -> h11.Request | None:
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            data = await reader.read(4096)
            conn.receive_data(data)
            if not data:
                return None
            continue
        if isinstance(event, h11.Request):
            return event
        return None
