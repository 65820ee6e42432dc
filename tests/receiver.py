"""A real HTTP receiver on 127.0.0.1 for webhook and Apprise tests: records every POST."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    """One request as the receiver saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """Answers POSTs with the next queued status (default 200), records each first.

    `hold` cleared keeps every answer back (up to `HOLD_LIMIT` s) after recording it:
    the sender has sent but cannot know it was accepted. `got` is set on each request.
    """

    HOLD_LIMIT = 60.0

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.statuses: deque[int] = deque()
        self.hold = threading.Event()
        self.hold.set()
        self.got = threading.Event()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver.lock:
                    receiver.requests.append(
                        Received("POST", self.path, dict(self.headers.items()), body)
                    )
                    status = receiver.statuses.popleft() if receiver.statuses else 200
                receiver.got.set()
                receiver.hold.wait(receiver.HOLD_LIMIT)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                except (BrokenPipeError, ConnectionResetError):
                    return  # the sender was killed while held

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        # serve_forever checks for shutdown() every poll_interval: its default 0.5 s made
        # every stop() wait 0.25 s on average (0.5 s right after start), per test
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.hold.set()
        self._httpd.shutdown()
        self._httpd.server_close()
