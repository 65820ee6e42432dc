"""Hand a built message to the world: an SMTP relay (aiosmtplib) or the mail-drop folder.

A transport is an async context manager: entering opens what a batch shares (one SMTP
connection), `send` returns the server's reply, errors come as `TransientDeliveryError`
(retry later; `TransportUnavailable` when no session could be opened at all) or
`PermanentDeliveryError` (dead letter). `SharedTransport` keeps a few connections for a
whole dispatch pass, each opened only when an email needs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self

from watcher.config import SmtpConfig, WatcherConfig
from watcher.domain.errors import (
    PermanentDeliveryError,
    TransientDeliveryError,
    TransportUnavailable,
)
from watcher.notify.channels.mail.outgoing import Outgoing

if TYPE_CHECKING:
    import aiosmtplib  # imported when a session opens: a round that sends nothing needs none

CLOSE_WAIT_SECONDS = 2.0


class Transport(Protocol):
    """Sends messages within one `async with` batch."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def send(self, message: EmailMessage | Outgoing) -> str:
        """Deliver `message`; return the server's reply or where it was written."""
        ...


def transport_for(config: WatcherConfig) -> Transport:
    """SMTP when `smtp.host` is set, else the mail drop."""
    if config.smtp.host:
        return SmtpTransport(config.smtp)
    return MailDrop(config.maildrop_dir)


class MailDrop:
    """Writes each message as an `.eml` file; the same Message-ID always gives the same file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def __aenter__(self) -> Self:
        await asyncio.to_thread(self.folder.mkdir, parents=True, exist_ok=True)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    async def send(self, message: EmailMessage | Outgoing) -> str:
        """Write atomically (temp file, fsync, rename), so a crash never leaves half a message."""
        mail = message if isinstance(message, Outgoing) else Outgoing.of(message)
        return await asyncio.to_thread(self._write, mail)

    def _write(self, mail: Outgoing) -> str:
        digest = hashlib.sha256(mail.message_id.encode()).hexdigest()[:16]
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        existing = sorted(self.folder.glob(f"*-{digest}.eml"))
        target = existing[0] if existing else self.folder / f"{stamp}-{digest}.eml"
        temp = target.with_suffix(".tmp")
        try:
            with temp.open("wb") as handle:
                handle.write(mail.data)
                handle.flush()
                os.fsync(handle.fileno())
            temp.replace(target)
        except OSError as exc:
            raise TransientDeliveryError(f"cannot write {target}: {exc}") from exc
        return f"written to {target}"


class SmtpTransport:
    """One SMTP connection per batch, with the TLS mode the config asks for.

    `tls: starttls` requires STARTTLS and `implicit` starts TLS before the greeting; with
    either, a server that cannot do TLS is an error, never a plaintext session. Every
    command has the configured timeout; the password is read when logging in only.
    """

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._client: aiosmtplib.SMTP | None = None

    async def __aenter__(self) -> Self:
        import aiosmtplib

        cfg = self.config
        assert cfg.host is not None
        # start_tls=True makes STARTTLS mandatory (an error if the server does not offer
        # it); False, not None, for the other modes: None would mean "if offered"
        client = aiosmtplib.SMTP(
            hostname=cfg.host,
            port=cfg.port,
            timeout=cfg.timeout.total_seconds(),
            use_tls=cfg.tls == "implicit",
            start_tls=cfg.tls == "starttls",
            cert_bundle=str(cfg.ca_file) if cfg.ca_file else None,
        )
        try:
            await client.connect()
            if cfg.username:
                await client.login(cfg.username, cfg.secret() or "")
        except aiosmtplib.SMTPException as exc:
            # a refused login or TLS is the relay's setup, not the recipient's: retry later
            await _close(client)
            raise TransportUnavailable(f"SMTP session with {cfg.host}:{cfg.port}: {exc}") from exc
        except OSError as exc:
            await _close(client)
            raise TransportUnavailable(f"cannot reach {cfg.host}:{cfg.port}: {exc}") from exc
        self._client = client
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        client, self._client = self._client, None
        if client is not None:
            await _close(client, polite=True)

    async def send(self, message: EmailMessage | Outgoing) -> str:
        """Send over the open connection; the envelope goes exactly to the To addresses."""
        if self._client is None:
            raise TransientDeliveryError("SMTP connection is not open")
        import aiosmtplib

        # flattened with the message's own policy (aiosmtplib's send_message would refold
        # with email.policy.SMTP and encode long List-Unsubscribe URIs)
        mail = message if isinstance(message, Outgoing) else Outgoing.of(message)
        if not mail.sender or not mail.recipients:
            raise PermanentDeliveryError(f"{mail.message_id}: no From or To address")
        try:
            errors, reply = await mail_transaction(
                self._client, mail.sender, mail.recipients, mail.data
            )
        except aiosmtplib.SMTPException as exc:
            raise _classify(exc, str(self.config.host)) from exc
        except OSError as exc:
            raise TransientDeliveryError(f"connection to {self.config.host} failed: {exc}") from exc
        if errors:
            # aiosmtplib reports refused recipients here when some were accepted
            codes = [response.code for response in errors.values()]
            detail = "; ".join(f"{rcpt}: {r.code} {r.message}" for rcpt, r in errors.items())
            if all(code >= 500 for code in codes):
                raise PermanentDeliveryError(f"recipient refused: {detail}")
            raise TransientDeliveryError(f"recipient deferred: {detail}")
        return reply


class SharedTransport:
    """Up to `connections` connections for a whole dispatch pass, each opened when needed.

    `async with` it around the pass; senders inside may enter it again (a nested entry
    neither opens nor closes anything), so notices, alerts and digests share the
    connections, and a pass with nothing to send opens none. A send takes an idle
    connection, or opens one while fewer than `connections` are open, or waits for one
    to be free: `connections` sends can be in flight at once. A transient failure of a
    send closes its connection (its session state is unknown after a timeout or a
    refusal) and a later send opens a new one. If opening fails, that send raises
    `TransportUnavailable`, and so does every later send of the pass, without trying
    again: the relay is down for this pass.
    """

    def __init__(self, open_transport: Callable[[], Transport], connections: int = 1) -> None:
        if connections < 1:
            raise ValueError("a shared transport needs at least one connection")
        self._open_transport = open_transport
        self.connections = connections
        self._depth = 0
        self._free = asyncio.Semaphore(connections)
        self._idle: list[Transport] = []
        self._spoilt: list[Transport] = []  # cut off mid-send: closed with the rest
        self._down: str | None = None

    async def __aenter__(self) -> Self:
        self._depth += 1
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._depth -= 1
        if self._depth == 0:
            open_ones = self._idle + self._spoilt
            self._idle, self._spoilt = [], []
            for inner in open_ones:
                await inner.__aexit__(None, None, None)

    async def send(self, message: EmailMessage | Outgoing) -> str:
        """Send over a free connection of the pass, opening one first if none is idle."""
        async with self._free:
            inner = await self._connected()
            try:
                reply = await inner.send(message)
            except TransientDeliveryError:
                await inner.__aexit__(None, None, None)
                raise
            except PermanentDeliveryError:
                self._idle.append(inner)  # the relay refused this email; the session is fine
                raise
            except BaseException:
                self._spoilt.append(inner)  # cancelled mid-send: its session state is unknown
                raise
            self._idle.append(inner)
            return reply

    async def _connected(self) -> Transport:
        if self._down is not None:
            raise TransportUnavailable(self._down)
        if self._idle:
            return self._idle.pop()
        transport = self._open_transport()
        try:
            await transport.__aenter__()
        except TransientDeliveryError as exc:
            self._down = str(exc)
            raise TransportUnavailable(self._down) from exc
        return transport


async def mail_transaction(
    client: aiosmtplib.SMTP, sender: str, recipients: Sequence[str], data: bytes
) -> tuple[dict[str, aiosmtplib.SMTPResponse], str]:
    """One mail transaction (MAIL, RCPT for each recipient, DATA) over `client`.

    What aiosmtplib's `sendmail` does, through its public commands, with the same
    outcomes: the recipients refused while others were accepted and the server's reply
    to the data; `SMTPRecipientsRefused` when every one was refused; after a refusal the
    envelope is reset (RSET). The one difference is the SIZE declared to a server that
    asks for it: counted from the bytes (`wire_size`) instead of converting the whole
    message's line endings once more only to measure it (`sendmail` converts twice, for
    the size and for the data). Data whose every line ends with CRLF, as the watcher's
    own emails do, goes out through `send_transmitted`: the same bytes on the wire as
    `client.data` sends, without its two regular-expression passes over the message.
    """
    import aiosmtplib

    refused: list[aiosmtplib.SMTPRecipientRefused] = []
    try:
        await _greeted(client)  # the server's extensions (SIZE) are known after EHLO
        transmitted = as_transmitted(data)
        if client.supports_extension("size"):
            size = len(data) if transmitted is not None else wire_size(data)
            options = [f"size={size}"]
        else:
            options = []
        await client.mail(sender, options=options)
        for address in recipients:
            try:
                await client.rcpt(address)
            except aiosmtplib.SMTPRecipientRefused as exc:
                refused.append(exc)
        if len(refused) == len(recipients):
            raise aiosmtplib.SMTPRecipientsRefused(refused)
        if transmitted is None:
            response = await client.data(data)
        else:
            response = await send_transmitted(client, transmitted)
    except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused, ValueError):
        # ValueError: an address aiosmtplib will not put on a command line (`sendmail`
        # checks every one before MAIL; here a recipient's check may follow it)
        with contextlib.suppress(ConnectionError, aiosmtplib.SMTPResponseException):
            await client.rset()
        raise
    errors = {r.recipient: aiosmtplib.SMTPResponse(r.code, r.message) for r in refused}
    return errors, response.message


async def _greeted(client: aiosmtplib.SMTP) -> None:
    """EHLO, or HELO when the server refuses EHLO, unless the session had one (as
    `sendmail` does before its first command)."""
    import aiosmtplib

    if not client.is_ehlo_or_helo_needed:
        return
    try:
        await client.ehlo()
    except aiosmtplib.SMTPHeloError:
        if not client.is_connected:
            raise
        await client.helo()


def as_transmitted(data: bytes) -> bytes | None:
    """`data` as aiosmtplib's DATA transmits it, when every line of `data` already ends
    with CRLF (no lone CR or LF, and a CRLF at the end); None otherwise.

    aiosmtplib converts every line ending to CRLF and doubles a period that starts a
    line (RFC 5321's transparency: its `(?m)^\\.`, which begins a line at the start
    and after each LF), then appends the end-of-data mark `.CRLF`. With every line
    ended by CRLF already the conversion changes nothing, and the periods to double
    are the first byte's and those after an LF: found with `bytes.replace` and
    `bytes.count` instead of two regular-expression passes over the whole message,
    which cost about a fifth of a millisecond per 9 KB alert.
    """
    crlf = data.count(b"\r\n")
    if data.count(b"\n") != crlf or data.count(b"\r") != crlf or not data.endswith(b"\r\n"):
        return None
    stuffed = data.replace(b"\n.", b"\n..")
    if stuffed.startswith(b"."):
        stuffed = b"." + stuffed
    return stuffed + b".\r\n"


async def send_transmitted(client: aiosmtplib.SMTP, transmitted: bytes) -> aiosmtplib.SMTPResponse:
    """DATA, then `transmitted` (`as_transmitted`'s bytes) as they are: what aiosmtplib's
    `SMTP.data` does after its own conversion, with the same outcomes.

    DATA must be answered 354 and the message 250, else `SMTPDataError` with the reply;
    a lost connection or a timeout closes the client (as `SMTP.data` does) and raises
    `SMTPServerDisconnected` or `SMTPTimeoutError`. The connection must not carry another
    command meanwhile: a `SmtpTransport` sends one email at a time on its connection.
    Each reply is awaited right after its write, so aiosmtplib's protocol expects it
    before it can arrive (`read_response` arms its reader).
    """
    import aiosmtplib

    protocol = client.protocol
    if protocol is None:
        raise aiosmtplib.SMTPServerDisconnected("Connection lost")
    timeout = client.timeout
    try:
        if not protocol.is_connected:
            raise aiosmtplib.SMTPServerDisconnected("Server not connected")
        protocol.write(b"DATA\r\n")
        start = await protocol.read_response(timeout=timeout)
        if start.code != aiosmtplib.SMTPStatus.start_input:
            raise aiosmtplib.SMTPDataError(start.code, start.message)
        protocol.write(transmitted)
        response = await protocol.read_response(timeout=timeout)
    except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError):
        client.close()
        raise
    if response.code != aiosmtplib.SMTPStatus.completed:
        raise aiosmtplib.SMTPDataError(response.code, response.message)
    return response


def wire_size(data: bytes) -> int:
    """The size of `data` as the DATA command transmits it (RFC 1870): every line ending
    (CRLF, a lone LF or a lone CR) counted as CRLF, and a CRLF added at the end if missing.

    Counted with `bytes.count`, without building the converted copy.
    """
    crlf = data.count(b"\r\n")
    lone = (data.count(b"\n") - crlf) + (data.count(b"\r") - crlf)
    ends_a_line = data.endswith((b"\n", b"\r"))
    return len(data) + lone + (0 if ends_a_line else 2)


async def _close(client: aiosmtplib.SMTP, *, polite: bool = False) -> None:
    """QUIT (if `polite`) and close, then wait briefly until the socket is really closed.

    Closing only schedules the close (a TLS one takes a few round trips); waiting for
    the protocol's `connection_lost` means no socket outlives the batch, even when the
    event loop ends right after (`watcher send-test`).
    """
    import aiosmtplib

    protocol = client.protocol
    try:
        if polite and client.is_connected:
            await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        pass
    client.close()
    deadline = asyncio.get_running_loop().time() + CLOSE_WAIT_SECONDS
    # aiosmtplib's protocol drops its transport in connection_lost
    while protocol is not None and protocol.transport is not None:
        if asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.01)


def _classify(
    exc: aiosmtplib.SMTPException, where: str
) -> TransientDeliveryError | PermanentDeliveryError:
    """5xx replies are permanent; everything else (4xx, timeouts, disconnects) is transient."""
    import aiosmtplib

    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        text = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
        if codes and all(code >= 500 for code in codes):
            return PermanentDeliveryError(f"{where} refused the recipient: {text}")
        return TransientDeliveryError(f"{where} deferred the recipient: {text}")
    code = getattr(exc, "code", None)
    message = getattr(exc, "message", str(exc))
    if isinstance(code, int) and 500 <= code < 600:
        return PermanentDeliveryError(f"{where} replied {code} {message}")
    reason = f"{code} {message}" if code else f"{type(exc).__name__}: {message}"
    return TransientDeliveryError(f"{where}: {reason}")
