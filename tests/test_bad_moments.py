"""Small leaks and noise: URL secrets masked (in start-up errors too), admin notices grouped."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
import structlog
from typer.testing import CliRunner

from tests.clock import Clock
from tests.conftest import WriteConfig
from tests.delivery import BAN, FLOOD, QUOTA, SCRAP, all_rows, cycle, entries, feed_source, feed_xml
from tests.mailserver import MailServer
from tests.rows import DeliveryRow, NoticeRow
from tests.servers import FeedServer, Route
from watcher.cli.app import app
from watcher.config import WatcherConfig
from watcher.domain.masking import mask_secrets
from watcher.domain.notices import notice_group
from watcher.ops.log import configure_logging

MakeConfig = Callable[..., WatcherConfig]
SECRET = "hunter2-s3cr3t"


@pytest.fixture(autouse=True)
def _logging_restored() -> Iterator[None]:
    """`run` and the log test configure structlog for a stream that closes: undo it after."""
    try:
        yield
    finally:
        structlog.reset_defaults()


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (f"postgresql+asyncpg://app@db:5432/w?password={SECRET}", "postgresql+asyncpg://app@db"),
        (f"postgresql://app:{SECRET}@db/w", "postgresql://app:***@db/w"),
        (f"postgresql://db/w?sslmode=require&sslpassword={SECRET}", "sslmode=require"),
        (f"https://feeds.example/rss?page=2&api_key={SECRET}", "page=2"),
        (f"https://x.example/cb#access_token={SECRET}&state=1", "state=1"),
        (f"error: cannot open 'https://u:{SECRET}@x.example/a?token={SECRET}'", "error"),
    ],
)
def test_every_secret_part_of_a_url_is_masked(text: str, kept: str) -> None:
    """User-info passwords and secret-named parameters vanish; the rest of the URL stays."""
    masked = mask_secrets(text)
    assert SECRET not in masked
    assert kept in masked
    assert "***" in masked


def test_harmless_parameters_are_left_alone() -> None:
    """`monkey=` or `page=` are not secrets: nothing is masked."""
    text = "https://x.example/a?monkey=1&page=2&q=a==b"
    assert mask_secrets(text) == text


def test_a_log_line_masks_secrets_in_fields_and_tracebacks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A URL with `?password=` in an event field or an exception's text never prints."""
    configure_logging("info", "json")
    log = structlog.get_logger("test")
    try:
        raise RuntimeError(f"cannot reach postgresql://db/w?password={SECRET}")
    except RuntimeError:
        log.exception("boom", url=f"postgresql://db/w?password={SECRET}")
    out = capsys.readouterr().out
    assert "boom" in out
    assert SECRET not in out


def test_a_start_up_error_masks_a_query_password(write_config: WriteConfig) -> None:
    """PostgreSQL refuses the database: the one-line error names it with `?password=***`."""
    name = f"watcher_absent_{uuid.uuid4().hex[:8]}"  # never created: the server says so
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}?password={SECRET}"
    path = write_config(database={"url": url})
    result = CliRunner().invoke(app, ["run", "--once", "--config", str(path)])
    assert result.exit_code == 1, result.output
    assert SECRET not in result.output
    [line] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert name in line
    assert "password=***" in line
    assert "Traceback" not in result.output


async def test_dead_letters_of_one_cause_make_one_admin_notice(
    feed_server: FeedServer, mail_server: MailServer, make_config: MakeConfig, database_url: str
) -> None:
    """Four alerts to a bouncing address: four dead letters, one notice email listing them."""
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN, FLOOD, QUOTA, SCRAP)))
    config = make_config(
        sources=[feed_source(feed_server.url("/f"))],
        smtp=mail_server.smtp_config(),
        admins=["ops@example.com"],
        database={"url": database_url},
    )
    mail_server.handler.refuse_rcpt["analyst@example.com"] = "550 5.1.1 No such mailbox"
    clock = Clock()
    for _ in range(2):
        await cycle(config, clock)
        clock.advance(timedelta(minutes=5))
    dead = [r for r in await all_rows(config, DeliveryRow) if r.status == "dead"]
    message_ids = {r.message_id for r in dead}
    assert len(message_ids) == 4
    notices = await all_rows(config, NoticeRow)
    assert len(notices) == 4
    assert {n.status for n in notices} == {"sent"}
    assert len({notice_group(n.key) for n in notices}) == 1
    [email] = mail_server.messages
    assert email["To"].addresses[0].addr_spec == "ops@example.com"
    assert "(4 times, one cause)" in str(email["Subject"])
    body = email.get_body(("plain",)).get_content()
    for message_id in message_ids:
        assert message_id in body


def test_notices_of_other_causes_stay_apart() -> None:
    """Only `cause#instance` keys group; two causes are two groups; plain keys are alone."""
    assert notice_group("dead-letter:aa#<1@x>") == notice_group("dead-letter:aa#<2@x>")
    assert notice_group("dead-letter:aa#<1@x>") != notice_group("dead-letter:bb#<1@x>")
    assert notice_group("source-failing:wire:2025-07-03") is None
