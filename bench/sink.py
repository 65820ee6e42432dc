"""A local SMTP sink (aiosmtpd on 127.0.0.1) that counts what the watcher sends.

It accepts every message and keeps only counters: messages, SMTP connections,
recipients, duplicate Message-IDs, and the wall-clock time (`time.time()`, comparable
across processes) of the first and last accepted message. It runs in its own thread,
so the process that owns it can block on a child process meanwhile.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import asdict, dataclass
from email.parser import BytesHeaderParser
from types import TracebackType
from typing import Any, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

HOST = "127.0.0.1"


@dataclass(slots=True)
class SinkCounts:
    """What the sink accepted since its last reset."""

    messages: int = 0
    connections: int = 0
    recipients: int = 0
    duplicate_message_ids: int = 0
    missing_message_ids: int = 0
    first_accept_at: float | None = None
    last_accept_at: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """The counts as a JSON-ready dict."""
        return asdict(self)


class _CountingHandler:
    """aiosmtpd handler: one counter update per message, under a lock (read by another thread)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts = SinkCounts()
        self.seen: set[str] = set()
        self._headers = BytesHeaderParser()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        message_id = str(self._headers.parsebytes(data).get("Message-ID") or "").strip()
        now = time.time()
        with self.lock:
            counts = self.counts
            counts.messages += 1
            counts.recipients += len(envelope.rcpt_tos)
            if not message_id:
                counts.missing_message_ids += 1
            elif message_id in self.seen:
                counts.duplicate_message_ids += 1
            else:
                self.seen.add(message_id)
            counts.first_accept_at = counts.first_accept_at or now
            counts.last_accept_at = now
        return "250 Message accepted for delivery"

    def connected(self) -> None:
        with self.lock:
            self.counts.connections += 1


class _CountingController(Controller):
    """A controller whose SMTP sessions report each new connection to the handler."""

    def factory(self) -> SMTP:
        handler: _CountingHandler = self.handler

        class CountingSMTP(SMTP):
            def connection_made(self, transport: Any) -> None:
                handler.connected()
                super().connection_made(transport)

        return CountingSMTP(self.handler, **self.SMTP_kwargs)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class SmtpSink:
    """`with SmtpSink() as sink:` serves on 127.0.0.1:`sink.port` until the block ends."""

    def __init__(self) -> None:
        self.port = free_port()
        self._handler = _CountingHandler()
        self._controller = _CountingController(self._handler, hostname=HOST, port=self.port)

    def __enter__(self) -> Self:
        self._controller.start()
        self.reset()  # the controller's own readiness probe is not a client
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._controller.stop()

    def snapshot(self) -> SinkCounts:
        """A copy of the counters now."""
        with self._handler.lock:
            return SinkCounts(**asdict(self._handler.counts))

    def reset(self) -> None:
        """Zero the counters and forget the Message-IDs seen so far."""
        with self._handler.lock:
            self._handler.counts = SinkCounts()
            self._handler.seen.clear()
