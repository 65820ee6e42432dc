"""Real servers on 127.0.0.1 for the tests: an HTTP server for feed files, an SMTP sink."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Route:
    """What the HTTP server answers on one path."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/xml"})
    delay: float = 0.0
    drip: float = 0.0  # seconds between single bytes of the body (a slow server)
    # answer only once `after` is set, or after `after_timeout` s; `released` tells which
    after: threading.Event | None = None
    after_timeout: float = 0.0
    released: bool | None = None


class FeedServer:
    """A threaded HTTP server on `host` (127.0.0.1):<free port>; routes can change while it runs."""

    def __init__(self, host: str = "127.0.0.1", tls: tuple[Path, Path] | None = None) -> None:
        """`tls`: (cert.pem, key.pem) to serve HTTPS with (`tests.mailserver.make_certificate`)."""
        self.host = host
        self.scheme = "https" if tls else "http"
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.active = 0
        self.max_active = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append((self.path, dict(self.headers)))
                with server.lock:
                    server.active += 1
                    server.max_active = max(server.max_active, server.active)
                self._counted = True
                try:
                    self._answer()
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client gave up (deadline, size cap): expected in tests
                finally:
                    self._done()

            def _done(self) -> None:
                """No longer active: called before the last byte goes out, since the client
                may start its next request the moment it has that byte, before this thread
                runs again on a busy machine."""
                if self._counted:
                    self._counted = False
                    with server.lock:
                        server.active -= 1

            def _answer(self) -> None:
                route = server.routes.get(self.path)
                if route is None:
                    self.send_error(404)
                    return
                etag = route.headers.get("ETag")
                modified = route.headers.get("Last-Modified")
                if (etag and self.headers.get("If-None-Match") == etag) or (
                    modified and not etag and self.headers.get("If-Modified-Since") == modified
                ):
                    self.send_response(304)
                    self.end_headers()
                    return
                if route.delay:
                    time.sleep(route.delay)
                if route.after is not None:
                    route.released = route.after.wait(route.after_timeout)
                self.send_response(route.status)
                for key, value in route.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                if not route.drip:
                    self._done()
                    self.wfile.write(route.body)
                    return
                for index in range(len(route.body)):
                    if server.stopping.wait(route.drip):
                        return
                    if index == len(route.body) - 1:
                        self._done()
                    self.wfile.write(route.body[index : index + 1])
                    self.wfile.flush()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._httpd = ThreadingHTTPServer((host, 0), Handler)
        self._httpd.daemon_threads = True
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self.port = self._httpd.server_address[1]
        # serve_forever checks for shutdown() every poll_interval: its default 0.5 s made
        # every stop() wait 0.25 s on average (0.5 s right after start), per test
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def url(self, path: str) -> str:
        return f"{self.scheme}://{self.host}:{self.port}{path}"

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()


class RecordingHandler:
    """aiosmtpd handler that keeps every accepted message; can be told to refuse.

    `hold` cleared keeps every DATA exchange open (up to `HOLD_LIMIT` s) after the client
    has sent the message, until a test sets it: a send in progress for as long as the test
    needs, however fast or slow the machine.
    """

    HOLD_LIMIT = 60.0

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse_with: str | None = None
        self.hold = threading.Event()
        self.hold.set()
        self.data_started = 0
        self.accepted = threading.Event()  # set by the first accepted message

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.data_started += 1
        if not self.hold.is_set():
            await asyncio.to_thread(self.hold.wait, self.HOLD_LIMIT)
        if self.refuse_with:
            return self.refuse_with
        data = envelope.original_content or b""
        parsed = message_from_bytes(data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.accepted.set()
        return "250 Message accepted for delivery"


class SmtpSink:
    """aiosmtpd on 127.0.0.1:<free port>, running in its own thread."""

    def __init__(self, handler: RecordingHandler | None = None) -> None:
        self.handler = handler or RecordingHandler()
        self.port = free_port()
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self.handler.hold.set()
        self._controller.stop()
