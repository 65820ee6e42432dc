"""A scriptable aiosmtpd server on 127.0.0.1: STARTTLS or implicit TLS, AUTH, set replies.

The certificate is self-signed and made here with `cryptography` (for 127.0.0.1 and
localhost); clients trust it through `smtp.ca_file`. The handler can answer DATA with
scripted replies, refuse recipients, or hold the reply to a message it has (to kill a
dispatcher inside the window between the server's acceptance and the client's commit).
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.servers import free_port

USERNAME, PASSWORD = "watcher", "s3cret-Pa55"


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1/localhost: (cert.pem, key.pem)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class ScriptedHandler:
    """Records accepted messages; answers DATA from `data_replies` first, then 250.

    With `fail_after` set, the message after that many accepted ones is not accepted:
    the server stops listening and drops the connection (a relay going down mid-batch).
    """

    messages: list[EmailMessage] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    mail_options: list[list[str]] = field(default_factory=list)  # each message's MAIL FROM options
    peers: list[Any] = field(default_factory=list)  # the client end of each message's connection
    data_replies: list[str] = field(default_factory=list)
    refuse_rcpt: dict[str, str] = field(default_factory=dict)
    go_on: threading.Event = field(default_factory=threading.Event)
    received: threading.Event = field(default_factory=threading.Event)
    logins: list[str] = field(default_factory=list)
    fail_after: int | None = None
    listener: Any = None  # the asyncio server, closed by `fail_after`

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address.lower() in self.refuse_rcpt:
            return self.refuse_rcpt[address.lower()]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.fail_after is not None and len(self.messages) >= self.fail_after:
            self.listener.close()
            assert server.transport is not None
            server.transport.close()
            return "421 4.3.2 Going down"
        if self.data_replies:
            return self.data_replies.pop(0)
        parsed = message_from_bytes(envelope.original_content or b"", policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.raw.append(envelope.original_content or b"")
        self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        self.mail_options.append(list(envelope.mail_options))
        self.peers.append(session.peer)
        self.received.set()
        # the message is in; while `go_on` is clear, the client waits for the reply
        await asyncio.to_thread(self.go_on.wait, 60)
        return f"250 2.0.0 Ok: queued as {len(self.messages)}"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == USERNAME
            and data.password.decode() == PASSWORD
        )
        if ok:
            self.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)  # aiosmtpd answers 235 or 535


class MailServer:
    """aiosmtpd in a thread. `tls`: "starttls" (required, AUTH required), "implicit", "none"."""

    def __init__(
        self, tls: str = "none", cert: tuple[Path, Path] | None = None, port: int | None = None
    ) -> None:
        self.handler = ScriptedHandler()
        self.handler.go_on.set()
        self.port = port or free_port()
        self.tls = tls
        kwargs: dict[str, Any] = {}
        if tls != "none":
            assert cert is not None
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(str(cert[0]), str(cert[1]))
            kwargs["authenticator"] = self.handler.authenticate
            kwargs["auth_required"] = True
            if tls == "starttls":
                kwargs.update(tls_context=context, require_starttls=True)
            else:
                # the whole socket is TLS, but aiosmtpd only counts STARTTLS as TLS when
                # deciding whether to offer AUTH: offer it anyway (and then it cannot be
                # "required" without a warning); the tests check that the client logged in
                kwargs.update(ssl_context=context, auth_require_tls=False, auth_required=False)
        self._controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, ready_timeout=5, **kwargs
        )

    @property
    def messages(self) -> list[EmailMessage]:
        """Every message accepted so far."""
        return self.handler.messages

    def smtp_config(self, **extra: Any) -> dict[str, Any]:
        """The `smtp:` config section that reaches this server."""
        config: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": self.port,
            "tls": self.tls,
            "timeout": "5s",
        }
        config.update(extra)
        return config

    def start(self) -> MailServer:
        self._controller.start()
        self.handler.listener = self._controller.server
        return self

    def stop(self) -> None:
        self.handler.go_on.set()
        self._controller.stop()
