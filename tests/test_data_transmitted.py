"""DATA without aiosmtplib's conversion passes: the same bytes on the wire, the same outcomes.

`mail_transaction` sends a message whose lines all end with CRLF through
`send_transmitted` (`as_transmitted`'s bytes). A raw SMTP server on 127.0.0.1 records
every byte each session receives: the watcher's transaction must send exactly what
aiosmtplib's own `sendmail` sends for the same message (SIZE, dot-stuffing, end mark),
whichever path the message takes, and refusals must come back as `sendmail`'s do.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiosmtplib
import pytest
from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings

from watcher.notify.channels.mail.transport import as_transmitted, mail_transaction

SENDER, RECIPIENT = "alerts@example.org", "analyst@example.com"


@dataclass
class RawServer:
    """Records each session's bytes; answers DATA's content with `data_reply`."""

    data_reply: bytes = b"250 2.0.0 queued"
    start_reply: bytes = b"354 go ahead"
    hang_up_on_data: bool = False
    sessions: list[bytearray] = field(default_factory=list)
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen = bytearray()
        self.sessions.append(seen)
        writer.write(b"220 raw.test ESMTP\r\n")
        in_data = False
        while line := await reader.readline():
            seen += line
            if in_data:
                if line == b".\r\n":
                    in_data = False
                    writer.write(self.data_reply + b"\r\n")
            elif line.upper().startswith(b"EHLO"):
                writer.write(b"250-raw.test\r\n250-SIZE 10000000\r\n250 8BITMIME\r\n")
            elif line.upper().startswith(b"DATA") and self.hang_up_on_data:
                break
            elif line.upper().startswith(b"DATA"):
                writer.write(self.start_reply + b"\r\n")
                in_data = self.start_reply.startswith(b"354")
            elif line.upper().startswith(b"QUIT"):
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()


@pytest.fixture
async def raw_server() -> AsyncIterator[RawServer]:
    server = RawServer()
    listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    server.port = listening.sockets[0].getsockname()[1]
    try:
        yield server
    finally:
        listening.close()
        await listening.wait_closed()


@contextlib.asynccontextmanager
async def connected(server: RawServer) -> AsyncIterator[aiosmtplib.SMTP]:
    """A client connected to `server`, closed however the block ends."""
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=server.port, timeout=5)
    await client.connect()
    try:
        yield client
    finally:
        client.close()


async def _session(server: RawServer, data: bytes, *, ours: bool) -> bytes:
    """One connection sending `data` by `mail_transaction` (ours) or `sendmail`; its bytes
    from MAIL on (EHLO names the client's host, the same either way). The server records
    a line before it answers, so QUIT's answer means the session's bytes are all there."""
    async with connected(server) as client:
        if ours:
            errors, reply = await mail_transaction(client, SENDER, [RECIPIENT], data)
            assert (errors, reply) == ({}, "2.0.0 queued")
        else:
            errors2, reply2 = await client.sendmail(SENDER, [RECIPIENT], data)
            assert (errors2, reply2) == ({}, "2.0.0 queued")
        await client.quit()
    sent = bytes(server.sessions[-1])
    return sent[sent.index(b"MAIL FROM") :]


SAMPLES = [
    b"a\r\n",
    b"Subject: x\r\n\r\nbody\r\n",
    b".starts with a dot\r\n",
    b"..two dots\r\n.\r\n.\r\n",
    b"line\r\n.dot after CRLF\r\n\r\n.\r\n",
    b"x\r\n" * 500 + b".\r\nend\r\n",
    # not every line ends with CRLF: aiosmtplib's own conversion
    b"lone LF\nthen .dot\n",
    b"lone CR\r.dot\r\n",
    b"no ending",
    b".",
    b"\r\n.\n.\r",
]


@pytest.mark.parametrize("data", SAMPLES)
async def test_the_wire_bytes_are_sendmails(raw_server: RawServer, data: bytes) -> None:
    theirs = await _session(raw_server, data, ours=False)
    ours = await _session(raw_server, data, ours=True)
    assert ours == theirs
    assert b"SIZE=" in ours.upper()


async def test_random_messages_go_out_as_sendmail_sends_them(raw_server: RawServer) -> None:
    rng = random.Random(20)
    alphabet = [b"a", b" ", b".", b"\r\n", b"\r\n.", b"\n", b"\r", b"=", b"\xc3\xa9"]
    for _ in range(40):
        data = b"".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 60)))
        if rng.random() < 0.5:
            data += b"\r\n"
        assert await _session(raw_server, data, ours=True) == await _session(
            raw_server, data, ours=False
        ), data


def test_transmitted_bytes_are_aiosmtplibs_conversion() -> None:
    """Where `as_transmitted` answers, it is aiosmtplib's conversion plus the end mark;
    it answers exactly when the conversion changes no line ending."""
    rng = random.Random(7)
    crlf_only = [b"x", b".", b"\r\n", b"\r\n.", b"..", b" "]
    pieces = [*crlf_only, b"\n", b"\r", b"\n."]
    answered = 0
    for i in range(20_000):
        alphabet = pieces if i % 2 else crlf_only
        data = b"".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12)))
        if i % 4 == 0:
            data += b"\r\n"
        normalized = normalize_message_line_endings(data)
        got = as_transmitted(data)
        if normalized != data:
            assert got is None, data
            continue
        answered += 1
        assert got == PERIOD_REGEX.sub(b"..", normalized) + b".\r\n", data
    assert answered > 5_000


async def test_a_refused_data_command_raises_as_sendmail_does(raw_server: RawServer) -> None:
    raw_server.start_reply = b"451 4.3.0 try later"
    async with connected(raw_server) as client:
        with pytest.raises(aiosmtplib.SMTPDataError) as caught:
            await mail_transaction(client, SENDER, [RECIPIENT], b"body\r\n")
        assert (caught.value.code, caught.value.message) == (451, "4.3.0 try later")


async def test_refused_content_raises_with_the_servers_reply(raw_server: RawServer) -> None:
    raw_server.data_reply = b"554 5.6.0 rejected"
    async with connected(raw_server) as client:
        with pytest.raises(aiosmtplib.SMTPDataError) as caught:
            await mail_transaction(client, SENDER, [RECIPIENT], b"body\r\n")
        assert (caught.value.code, caught.value.message) == (554, "5.6.0 rejected")
        # the session goes on: the envelope was reset and the next email is accepted
        raw_server.data_reply = b"250 2.0.0 queued"
        assert await mail_transaction(client, SENDER, [RECIPIENT], b"next\r\n") == (
            {},
            "2.0.0 queued",
        )


async def test_a_server_that_hangs_up_at_data_closes_the_client(
    raw_server: RawServer,
) -> None:
    raw_server.hang_up_on_data = True
    async with connected(raw_server) as client:
        with pytest.raises(aiosmtplib.SMTPServerDisconnected):
            await mail_transaction(client, SENDER, [RECIPIENT], b"body\r\n")
        assert not client.is_connected
        assert client.protocol is None  # closed, as `SMTP.data` closes it
