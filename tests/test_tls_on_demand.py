"""aiohttp's CA stores load at the first TLS connection, and TLS verifies as before.

Each case runs `watcher run --once` in a fresh process (aiohttp is imported once per
process, and this one imported it long ago), against a real HTTPS server on 127.0.0.1
whose self-signed certificate is the system's only CA when `SSL_CERT_FILE` names it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import WriteConfig
from tests.delivery import BAN, entries, feed_source, feed_xml
from tests.mailserver import MailServer, make_certificate
from tests.run_once import run_once
from tests.servers import FeedServer, Route

# printed after `watcher run --once`: its exit code, whether the CA stores are still
# pending and how many CA certificates aiohttp's verifying context holds
_CA_STATE = """
import aiohttp.connector
from watcher.sources.tls import ca_stores_pending
cas = aiohttp.connector._SSL_CONTEXT_VERIFIED.cert_store_stats()["x509_ca"]
print(code, ca_stores_pending(), cas)
"""


def _run_once(config: Path, ca_file: Path | None = None) -> list[str]:
    env = dict(os.environ)
    if ca_file is not None:
        env["SSL_CERT_FILE"] = str(ca_file)
    out = run_once(config, _CA_STATE, env)
    return out.splitlines()[-1].split()  # the probe's line, after what the command printed


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "tls").mkdir()
    return make_certificate(tmp_path / "tls")


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[FeedServer]:
    server = FeedServer(tls=certificate).start()
    yield server
    server.stop()


def _feed(server: FeedServer) -> str:
    server.routes["/f"] = Route(
        feed_xml(entries(BAN)), headers={"Content-Type": "application/xml", "ETag": '"v1"'}
    )
    return server.url("/f")


def test_an_http_only_round_loads_no_ca_store(
    feed_server: FeedServer, mail_server: MailServer, write_config: WriteConfig
) -> None:
    """Sources on http:// only: the round fetches and mails, aiohttp's CA stores never load."""
    path = write_config(sources=[feed_source(_feed(feed_server))], smtp=mail_server.smtp_config())
    assert _run_once(path) == ["0", "True", "0"]
    assert len(mail_server.messages) == 1


def test_an_https_source_is_verified_against_the_ca_store_loaded_on_demand(
    tls_server: FeedServer,
    certificate: tuple[Path, Path],
    mail_server: MailServer,
    write_config: WriteConfig,
) -> None:
    """The first TLS connection loads the store, and the server's certificate verifies."""
    path = write_config(sources=[feed_source(_feed(tls_server))], smtp=mail_server.smtp_config())
    code, pending, cas = _run_once(path, ca_file=certificate[0])
    assert (code, pending, cas) == ("0", "False", "1")
    assert len(tls_server.requests) == 1
    assert len(mail_server.messages) == 1


def test_an_https_source_whose_certificate_no_ca_signed_is_refused(
    tls_server: FeedServer, mail_server: MailServer, write_config: WriteConfig, tmp_path: Path
) -> None:
    """Verification stays on: a certificate outside the (loaded) CA store fails the poll."""
    (tmp_path / "other").mkdir()
    other_ca, _ = make_certificate(tmp_path / "other")
    path = write_config(sources=[feed_source(_feed(tls_server))], smtp=mail_server.smtp_config())
    code, pending, cas = _run_once(path, ca_file=other_ca)
    assert (pending, cas) == ("False", "1")
    assert code != "0"  # the only source failed
    assert tls_server.requests == []  # no request got past the handshake
    assert mail_server.messages == []
