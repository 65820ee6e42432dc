"""SMTP with TLS and AUTH against aiosmtpd on a self-signed certificate; send-test; pacing."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.delivery import BAN, all_rows, cycle, entries, feed_source, feed_xml
from tests.mailserver import PASSWORD, USERNAME, MailServer
from tests.rows import DeliveryRow
from tests.servers import FeedServer, Route
from watcher.cli import app
from watcher.config import WatcherConfig
from watcher.config.load import load_config
from watcher.domain.errors import ConfigError, TransientDeliveryError
from watcher.notify.channels.mail.transport import SmtpTransport
from watcher.notify.pace import Pacer

MakeConfig = Callable[..., WatcherConfig]
WriteConfig = Callable[..., Path]


@pytest.fixture(params=["starttls", "implicit"])
def tls_server(
    request: pytest.FixtureRequest, certificate: tuple[Path, Path]
) -> Iterator[MailServer]:
    """aiosmtpd requiring STARTTLS (or speaking implicit TLS) and AUTH before mail."""
    server = MailServer(tls=request.param, cert=certificate).start()
    yield server
    server.stop()


async def test_alerts_go_out_over_tls_with_auth(
    feed_server: FeedServer,
    tls_server: MailServer,
    certificate: tuple[Path, Path],
    write_config: WriteConfig,
) -> None:
    """STARTTLS (587-style) and implicit TLS (465-style) both log in and deliver."""
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN)))
    path = write_config(
        sources=[feed_source(feed_server.url("/f"))],
        smtp=tls_server.smtp_config(username=USERNAME, ca_file=str(certificate[0])),
    )
    config = load_config(path, environ={"WATCHER_SMTP__PASSWORD": PASSWORD})
    report = await cycle(config)
    assert report.sent == 1
    assert tls_server.handler.logins == [USERNAME]
    assert len(tls_server.messages) == 1


async def test_starttls_required_never_falls_back_to_plaintext(
    mail_server: MailServer, make_config: MakeConfig
) -> None:
    """`tls: starttls` against a server without STARTTLS is an error, and nothing is sent."""
    config = make_config(smtp=mail_server.smtp_config(tls="starttls"))
    with pytest.raises(TransientDeliveryError, match="STARTTLS"):
        async with SmtpTransport(config.smtp):
            pass
    assert not mail_server.messages


async def test_an_untrusted_certificate_is_refused(
    tls_server: MailServer, make_config: MakeConfig
) -> None:
    """Without `ca_file` the self-signed certificate fails verification: no session."""
    config = make_config(smtp=tls_server.smtp_config(username=USERNAME))
    with pytest.raises(TransientDeliveryError):
        async with SmtpTransport(config.smtp):
            pass


async def test_a_wrong_password_defers_without_revealing_the_password(
    feed_server: FeedServer,
    certificate: tuple[Path, Path],
    write_config: WriteConfig,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A refused login is transient; the password (from a *_FILE secret) is in no log or row."""
    server = MailServer(tls="starttls", cert=certificate).start()
    secret = tmp_path / "smtp-password"
    secret.write_text("not-the-Password-42\n")
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN)))
    try:
        path = write_config(
            sources=[feed_source(feed_server.url("/f"))],
            smtp=server.smtp_config(
                username=USERNAME, ca_file=str(certificate[0]), password_file=str(secret)
            ),
            log={"level": "debug", "format": "json"},
        )
        config = load_config(path, environ={})
        report = await cycle(config)
    finally:
        server.stop()
    assert (report.sent, report.retried) == (0, 1)
    [row] = await all_rows(config, DeliveryRow)
    assert "535" in (row.last_error or "")
    assert "not-the-Password-42" not in (row.last_error or "")
    assert "not-the-Password-42" not in capsys.readouterr().out


def test_a_password_in_the_config_file_is_refused(write_config: WriteConfig) -> None:
    """Secrets come from the environment or a file, never from watcher.yaml."""
    path = write_config(smtp={"host": "mail.example.com", "password": "hunter2"})
    with pytest.raises(ConfigError, match="WATCHER_SMTP__PASSWORD"):
        load_config(path, environ={})


def test_send_test_prints_the_servers_reply(
    tls_server: MailServer, certificate: tuple[Path, Path], write_config: WriteConfig
) -> None:
    """`watcher send-test ADDRESS` delivers a sample alert and shows what the server said."""
    path = write_config(smtp=tls_server.smtp_config(username=USERNAME, ca_file=str(certificate[0])))
    result = CliRunner().invoke(
        app,
        ["send-test", "me@example.org", "--config", str(path)],
        env={"WATCHER_SMTP__PASSWORD": PASSWORD},
    )
    assert result.exit_code == 0, result.output
    assert "server reply: 2.0.0 Ok: queued as 1" in result.output
    [message] = tls_server.messages
    assert message["To"].addresses[0].addr_spec == "me@example.org"
    assert str(message["Subject"]).strip().startswith("Test alert: China bans dysprosium")
    assert str(message["Subject"]).strip().endswith(" · Export control")


def test_send_test_reports_a_refusal(mail_server: MailServer, write_config: WriteConfig) -> None:
    """A refused test alert exits 1 with the server's answer."""
    mail_server.handler.refuse_rcpt["me@example.org"] = "550 5.1.1 Unknown user"
    path = write_config(smtp=mail_server.smtp_config())
    result = CliRunner().invoke(app, ["send-test", "me@example.org", "--config", str(path)])
    assert result.exit_code == 1
    assert "550 5.1.1 Unknown user" in result.output


async def test_the_pacer_spaces_sends_to_the_configured_rate() -> None:
    """At 30 per minute, sends are 2 s apart on the (fake) monotonic clock."""
    now = [100.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = Pacer(30, clock=lambda: now[0], sleep=sleep)
    for _ in range(4):
        await pacer.wait()
    assert slept == [2.0, 2.0, 2.0]
    now[0] += 10
    await pacer.wait()
    assert slept == [2.0, 2.0, 2.0]
    unlimited = Pacer(None, clock=lambda: now[0], sleep=sleep)
    await unlimited.wait()
    await unlimited.wait()
    assert len(slept) == 3


def test_a_login_in_plaintext_to_a_remote_relay_is_a_config_error(
    write_config: WriteConfig,
) -> None:
    """`tls: none` with a username is refused unless the relay is on this machine."""
    path = write_config(smtp={"host": "smtp.example.com", "tls": "none", "username": "u"})
    with pytest.raises(ConfigError, match="password in clear"):
        load_config(path, environ={})


def test_send_test_marks_what_the_rules_found_in_its_sample(
    mail_server: MailServer, write_config: WriteConfig
) -> None:
    """The sample alert is the sample report classified: every marked term is whole words."""
    from tests.cli import watcher as run_watcher
    from watcher.classify.engine import Classifier
    from watcher.cli.mail import SAMPLE_BODY, SAMPLE_TITLE

    path = write_config(smtp=mail_server.smtp_config())
    result = run_watcher("send-test", "me@example.org", "--config", str(path))
    assert result.returncode == 0, result.stderr
    [message] = mail_server.messages
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_content()
    quoted = [line.strip()[2:] for line in text.splitlines() if line.strip().startswith("> ")]
    assert quoted
    for line in quoted:
        plain = line.replace("[", "").replace("]", "").removesuffix(" (headline)")
        assert plain in f"{SAMPLE_TITLE} {SAMPLE_BODY}"
        for marked in re.findall(r"\[([^\]]+)\]", line):
            # a term, never a piece of one: the mark opens and closes on word boundaries
            assert re.search(rf"(?<!\w){re.escape(marked)}(?!\w)", plain), (marked, line)
    settings = load_config(path, environ={})
    found = Classifier.from_config(settings, warn=False).classify(SAMPLE_TITLE, SAMPLE_BODY)
    assert found
    for signal in found:
        assert signal.evidence[0].marked(glossed=True) in " ".join(text.split())


def test_send_test_refuses_an_invalid_address_in_one_line(write_config: WriteConfig) -> None:
    """An address that is not one: exit 2, one line saying what is wrong, no validation dump."""
    from tests.cli import watcher as run_watcher

    result = run_watcher("send-test", "analyst@@example", "--config", str(write_config()))
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: 'analyst@@example' is not an email address: ")
    assert "pydantic" not in line
    assert "For further information" not in line


def test_send_test_suggests_tls_none_for_a_local_relay_without_starttls(
    mail_server: MailServer, write_config: WriteConfig
) -> None:
    """`tls: starttls` against a plain relay on 127.0.0.1: the error says to set `tls: none`."""
    from tests.cli import watcher as run_watcher

    path = write_config(smtp=mail_server.smtp_config(tls="starttls"))
    result = run_watcher("send-test", "me@example.org", "--config", str(path))
    assert result.returncode == 1
    assert "STARTTLS" in result.stderr
    assert "smtp.tls: none" in result.stderr
    assert "WATCHER_SMTP__TLS=none" in result.stderr
    assert not mail_server.messages


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"a",
        b"a\r\n",
        b"a\n",
        b"a\r",
        b"\r\r\n\n\r",
        b"Subject: x\r\n\r\nline one\nline two\rline three\r\n.\r\n..dots\r\n",
        b"\n\n\r\n\r\r",
        b"no ending at all\r\nbut a last line",
    ],
)
def test_the_declared_size_is_the_message_as_data_transmits_it(data: bytes) -> None:
    """`wire_size` counts what aiosmtplib's DATA sends: its own line-ending conversion."""
    from aiosmtplib.protocol import normalize_message_line_endings

    from watcher.notify.channels.mail.transport import wire_size

    assert wire_size(data) == len(normalize_message_line_endings(data))


async def test_the_relay_is_told_each_alerts_true_size(
    feed_server: FeedServer, mail_server: MailServer, make_config: MakeConfig
) -> None:
    """MAIL FROM carries SIZE= (the server offers SIZE), equal to the bytes it then receives."""
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN)))
    config = make_config(
        sources=[feed_source(feed_server.url("/f"))], smtp=mail_server.smtp_config()
    )
    assert (await cycle(config)).sent == 1
    [options] = mail_server.handler.mail_options
    [raw] = mail_server.handler.raw
    assert options == [f"SIZE={len(raw)}"]
