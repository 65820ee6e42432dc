"""`watcher outbox` lists what is unsent; `watcher outbox retry` requeues it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from tests.clock import Clock
from tests.delivery import (
    BAN,
    FLOOD,
    QUOTA,
    all_rows,
    cycle,
    dispatch,
    entries,
    feed_source,
    feed_xml,
)
from tests.mailserver import MailServer
from tests.rows import DeliveryRow
from tests.servers import FeedServer, Route
from watcher.cli import app
from watcher.config.load import load_config

WriteConfig = Callable[..., Path]


def watcher(*args: str) -> str:
    """Run the CLI in-process; return its output (exit code 0 required)."""
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_outbox_lists_failed_and_dead_rows_and_retry_requeues_them(
    feed_server: FeedServer, mail_server: MailServer, write_config: WriteConfig
) -> None:
    """A 451 row shows as failed, a 550 row as dead; `retry ID` and `--dead` deliver them."""
    # synchronous on purpose: the CLI runs its own event loop, as it does in a shell
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN, FLOOD, QUOTA)))
    path = write_config(
        sources=[feed_source(feed_server.url("/f"))],
        smtp=mail_server.smtp_config(),
        subscribers=[
            {"email": "analyst@example.com", "signals": ["export_control", "quota_delay"]},
            {"email": "gone@example.com", "signals": ["ore_supply_disruption"]},
        ],
    )
    config = load_config(path, environ={})
    mail_server.handler.data_replies.append("451 4.3.0 Greylisted, come back later")
    mail_server.handler.refuse_rcpt["gone@example.com"] = "550 5.1.1 User unknown"
    clock = Clock()
    asyncio.run(cycle(config, clock))
    rows = asyncio.run(all_rows(config, DeliveryRow))
    [dead] = [r for r in rows if r.subscriber == "gone@example.com"]
    analyst = [r for r in rows if r.subscriber == "analyst@example.com"]
    # the first message the server reads gets the 451 (emails go out over parallel
    # connections, so either of the analyst's two); the 550 refuses gone@ before DATA
    assert sorted(r.status for r in analyst) == ["pending", "sent"]
    [failed] = [r for r in analyst if r.status == "pending"]
    assert dead.status == "dead"

    listing = watcher("outbox", "--config", str(path))
    assert f"{failed.id:>6}  failed" in listing
    assert f"{dead.id:>6}  dead" in listing
    assert "550 5.1.1 User unknown" in listing
    assert "451 4.3.0 Greylisted" in listing

    mail_server.handler.refuse_rcpt.clear()
    assert "requeued 1 row" in watcher("outbox", "retry", str(failed.id), "--config", str(path))
    assert "requeued 1 row" in watcher("outbox", "retry", "--dead", "--config", str(path))
    asyncio.run(dispatch(config, Clock(clock.now + timedelta(minutes=1))))
    assert {r.status for r in asyncio.run(all_rows(config, DeliveryRow))} == {"sent"}
    assert "The outbox is empty" in watcher("outbox", "--config", str(path))
    assert len(mail_server.messages) == 3


def test_retry_without_ids_or_dead_is_a_usage_error(write_config: WriteConfig) -> None:
    """`watcher outbox retry` alone says what it needs and exits 2."""
    result = CliRunner().invoke(app, ["outbox", "retry", "--config", str(write_config())])
    assert result.exit_code == 2
    assert "--dead" in result.output
