"""One-click unsubscribe end to end: the link in a real alert, driven over HTTP.

The alert is rendered and dropped in the mail-drop folder by the service; its
List-Unsubscribe URL is taken from the message and sent to the public endpoint served
by uvicorn on a free port. Only the clock is the test's.
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from typer.testing import CliRunner

from tests.clock import Clock
from tests.delivery import BAN, FLOOD, all_rows, cycle, entries, feed_source, feed_xml
from tests.public_site import public_site
from tests.rows import DeliveryRow
from tests.servers import FeedServer, Route, free_port
from watcher.cli import app
from watcher.config.load import load_config
from watcher.domain.errors import TokenError
from watcher.public.tokens import UNSUBSCRIBE, Tokens
from watcher.service.rounds import poll_with_deadline, prepare_sources
from watcher.service.runtime import Runtime
from watcher.store import optouts
from watcher.store.db import open_database

ANALYST = "analyst@example.com"
ONE_CLICK = {"Content-Type": "application/x-www-form-urlencoded"}


def _public(tmp_path: Path, **more: Any) -> dict[str, Any]:
    key = tmp_path / "public.key"
    key.write_text("current-signing-key\n", encoding="utf-8")
    return {"base_url": "https://watch.example", "secret_file": str(key), **more}


def _mails(tmp_path: Path) -> list[EmailMessage]:
    return [
        message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[misc]
        for path in sorted((tmp_path / "data" / "maildrop").glob("*.eml"))
    ]


def _token_of(message: EmailMessage) -> str:
    """The token of the https URL in the message's List-Unsubscribe header."""
    first = str(message["List-Unsubscribe"]).split(",")[0].strip().strip("<>")
    parts = urlsplit(first)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "watch.example", "/unsubscribe")
    return parse_qs(parts.query)["token"][0]


async def test_one_click_on_a_real_alert_stops_every_later_mail(
    feed_server: FeedServer, make_config: Any, tmp_path: Path
) -> None:
    """The alert's one-click POST unsubscribes at once (200); the next item mails nobody."""
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN)))
    config = make_config(sources=[feed_source(feed_server.url("/f"))], public=_public(tmp_path))
    clock = Clock()
    await cycle(config, clock)
    [alert] = _mails(tmp_path)
    assert alert["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "mailto:unsubscribe@" in str(alert["List-Unsubscribe"])
    token = _token_of(alert)

    async with public_site(config, clock) as base, httpx.AsyncClient() as client:
        reply = await client.post(
            f"{base}/unsubscribe",
            params={"token": token},
            content=b"List-Unsubscribe=One-Click",
            headers=ONE_CLICK,
        )
    assert reply.status_code == 200
    assert "You are unsubscribed" in reply.text
    async with open_database(config.database_url) as db:
        state = (await optouts.all_optouts(db))[ANALYST]
    assert (state.state, state.how, state.list, state.since) == (
        "unsubscribed",
        "one-click",
        "alerts",
        clock.now,
    )

    feed_server.routes["/f"] = Route(feed_xml(entries(BAN, FLOOD)))
    clock.advance(timedelta(hours=1))
    await cycle(config, clock)
    assert len(_mails(tmp_path)) == 1  # nothing after the click
    rows = await all_rows(config, DeliveryRow)
    assert sorted(r.status for r in rows) == ["cancelled", "sent"]


async def test_pending_mail_of_an_unsubscribed_subscriber_is_cancelled_not_dead(
    feed_server: FeedServer, make_config: Any, tmp_path: Path
) -> None:
    """Alerts queued but not yet sent when the click comes are cancelled, never dead letters."""
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN, FLOOD)))
    config = make_config(sources=[feed_source(feed_server.url("/f"))], public=_public(tmp_path))
    clock = Clock()
    async with Runtime(config, clock=clock) as rt:
        for source in await prepare_sources(rt):
            await poll_with_deadline(rt, source)  # queued, not dispatched
    tokens = Tokens.of(config.public)
    assert tokens is not None
    token = tokens.sign(ANALYST, UNSUBSCRIBE, clock.now, "alerts")
    async with public_site(config, clock) as base, httpx.AsyncClient() as client:
        reply = await client.post(f"{base}/unsubscribe", params={"token": token}, data={})
    assert reply.status_code == 200
    rows = await all_rows(config, DeliveryRow)
    assert len(rows) == 2
    assert {r.status for r in rows} == {"cancelled"}
    assert all(r.last_error is None for r in rows)
    await cycle(config, clock)
    assert _mails(tmp_path) == []
    async with open_database(config.database_url) as db:
        assert (await optouts.all_optouts(db))[ANALYST].how == "confirm-page"


async def test_get_shows_a_confirm_button_and_changes_nothing(
    make_config: Any, tmp_path: Path
) -> None:
    """A GET (what a link scanner does) answers a page with a POST form; nobody is unsubscribed."""
    config = make_config(public=_public(tmp_path))
    clock = Clock()
    tokens = Tokens.of(config.public)
    assert tokens is not None
    token = tokens.sign(ANALYST, UNSUBSCRIBE, clock.now, "alerts")
    async with public_site(config, clock) as base, httpx.AsyncClient() as client:
        reply = await client.get(f"{base}/unsubscribe", params={"token": token})
        async with open_database(config.database_url) as db:
            assert await optouts.all_optouts(db) == {}
    assert reply.status_code == 200
    assert '<form method="post">' in reply.text
    assert ANALYST in reply.text
    assert reply.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("make_token", "status", "reason"),
    [
        ("forged", 403, "signature does not match"),
        ("tampered", 403, "signature does not match"),
        ("expired", 403, "expired"),
        ("feed", 403, "signature does not match"),
        ("missing", 400, "no token"),
    ],
)
async def test_a_bad_token_is_refused_with_a_reason_and_changes_nothing(
    make_config: Any, tmp_path: Path, make_token: str, status: int, reason: str
) -> None:
    """Forged, tampered, expired, wrong-purpose or missing tokens: a clear refusal, no opt-out."""
    config = make_config(public=_public(tmp_path))
    clock = Clock()
    tokens = Tokens.of(config.public)
    assert tokens is not None
    good = tokens.sign(ANALYST, UNSUBSCRIBE, clock.now, "alerts")
    token = {
        "forged": Tokens("another-key", None, None, timedelta(days=365)).sign(
            ANALYST, UNSUBSCRIBE, clock.now, "alerts"
        ),
        "tampered": good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB"),
        "expired": tokens.sign(ANALYST, UNSUBSCRIBE, clock.now - timedelta(days=366), "alerts"),
        "feed": tokens.sign(ANALYST, "feed", clock.now),
        "missing": "",
    }[make_token]
    async with public_site(config, clock) as base, httpx.AsyncClient() as client:
        reply = await client.post(
            f"{base}/unsubscribe",
            params={"token": token} if token else {},
            content=b"List-Unsubscribe=One-Click",
            headers=ONE_CLICK,
        )
    assert reply.status_code == status
    assert reason in reply.text
    assert "Nothing was changed" in reply.text
    async with open_database(config.database_url) as db:
        assert await optouts.all_optouts(db) == {}


async def test_a_replayed_click_keeps_the_first_opt_out(make_config: Any, tmp_path: Path) -> None:
    """The same link posted twice: 200 both times, the opt-out keeps its first time and way."""
    config = make_config(public=_public(tmp_path))
    clock = Clock()
    tokens = Tokens.of(config.public)
    assert tokens is not None
    token = tokens.sign(ANALYST, UNSUBSCRIBE, clock.now, "alerts")
    first_time = clock.now
    async with public_site(config, clock) as base, httpx.AsyncClient() as client:
        first = await client.post(
            f"{base}/unsubscribe",
            params={"token": token},
            content=b"List-Unsubscribe=One-Click",
            headers=ONE_CLICK,
        )
        clock.advance(timedelta(minutes=5))
        again = await client.post(f"{base}/unsubscribe", params={"token": token}, data={})
    assert (first.status_code, again.status_code) == (200, 200)
    assert "already was" in again.text
    async with open_database(config.database_url) as db:
        state = (await optouts.all_optouts(db))[ANALYST]
    assert (state.since, state.how) == (first_time, "one-click")


async def test_links_signed_with_the_previous_key_work_until_the_grace_ends(
    make_config: Any, tmp_path: Path
) -> None:
    """After a rotation an old link still works; after `previous_valid_until` it is refused."""
    clock = Clock()
    old_key = tmp_path / "old.key"
    old_key.write_text("the-key-before\n", encoding="utf-8")
    until = clock.now + timedelta(days=30)
    config = make_config(
        public=_public(
            tmp_path, previous_secret_file=str(old_key), previous_valid_until=until.isoformat()
        )
    )
    old = Tokens("the-key-before", None, None, timedelta(days=365))
    token = old.sign(ANALYST, UNSUBSCRIBE, clock.now - timedelta(days=3), "alerts")
    async with public_site(config, clock) as base, httpx.AsyncClient() as client:
        clock.advance(timedelta(days=31))
        late = await client.post(f"{base}/unsubscribe", params={"token": token}, data={})
        clock.advance(timedelta(days=-2))
        in_grace = await client.post(f"{base}/unsubscribe", params={"token": token}, data={})
    assert late.status_code == 403
    assert in_grace.status_code == 200


def test_subscribers_lists_the_opt_out_and_resubscribe_takes_it_back(
    feed_server: FeedServer, write_config: Any, tmp_path: Path
) -> None:
    """`watcher subscribers` shows state, since and how; after `resubscribe` mail flows again."""
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN)))
    path = write_config(
        sources=[feed_source(feed_server.url("/f"))],
        public=_public(tmp_path),
        subscribers=[
            {
                "email": ANALYST,
                "channels": {"webhook": [f"http://127.0.0.1:{free_port()}/a?key=s3"]},
            },
            {"email": "buyer@example.com"},
        ],
    )
    config = load_config(path, environ={"WATCHER_WEBHOOK__SECRET": "k"})
    out = _cli("subscribers", "unsubscribe", ANALYST, "--config", str(path))
    assert f"{ANALYST} unsubscribed" in out
    rows = {
        r["address"]: r
        for r in map(json.loads, _cli("subscribers", "--json", "--config", str(path)).splitlines())
    }
    assert rows[ANALYST]["state"] == "unsubscribed"
    assert rows[ANALYST]["how"] == "cli"
    assert rows[ANALYST]["since"]
    assert rows[ANALYST]["channels"] == "email, webhook×1"  # endpoints (secrets) never shown
    assert (rows["buyer@example.com"]["state"], rows["buyer@example.com"]["how"]) == (
        "subscribed",
        "config",
    )

    asyncio.run(cycle(config, Clock()))
    assert [m["To"] for m in _mails(tmp_path)] == ["buyer@example.com"]

    assert "subscribed again" in _cli("subscribers", "resubscribe", ANALYST, "--config", str(path))
    rows = {
        r["address"]: r
        for r in map(json.loads, _cli("subscribers", "--json", "--config", str(path)).splitlines())
    }
    assert (rows[ANALYST]["state"], rows[ANALYST]["how"]) == ("subscribed", "cli")
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN, FLOOD)))
    asyncio.run(cycle(config, Clock()))
    assert sorted(str(m["To"]) for m in _mails(tmp_path)).count(ANALYST) == 1  # FLOOD only


def _cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_a_new_key_written_to_the_key_file_signs_the_next_link(
    make_config: Any, tmp_path: Path
) -> None:
    """Replacing the key file's content is picked up: links of the old key stop verifying."""
    config = make_config(public=_public(tmp_path))
    clock = Clock()
    before = Tokens.of(config.public)
    assert before is not None
    old_link = before.sign(ANALYST, UNSUBSCRIBE, clock.now, "alerts")
    key = tmp_path / "public.key"
    key.write_text("a-brand-new-key\n", encoding="utf-8")
    stamp = key.stat().st_mtime_ns + 1_000_000_000  # a later version, however coarse the clock
    os.utime(key, ns=(stamp, stamp))
    after = Tokens.of(config.public)
    assert after is not None
    assert after.key == "a-brand-new-key"
    with pytest.raises(TokenError, match="signature does not match"):
        after.check(old_link, UNSUBSCRIBE, clock.now)
    assert (
        after.check(
            after.sign(ANALYST, UNSUBSCRIBE, clock.now, "alerts"), UNSUBSCRIBE, clock.now
        ).address
        == ANALYST
    )


async def test_an_oversized_post_is_refused_and_changes_nothing(
    make_config: Any, tmp_path: Path
) -> None:
    """A valid token with a megabyte of body: 413, no opt-out (the endpoint reads a few KB)."""
    config = make_config(public=_public(tmp_path))
    clock = Clock()
    tokens = Tokens.of(config.public)
    assert tokens is not None
    token = tokens.sign(ANALYST, UNSUBSCRIBE, clock.now, "alerts")
    async with public_site(config, clock) as base, httpx.AsyncClient() as client:
        reply = await client.post(
            f"{base}/unsubscribe", params={"token": token}, content=b"x=" + b"a" * 1_000_000
        )
    assert reply.status_code == 413
    async with open_database(config.database_url) as db:
        assert await optouts.all_optouts(db) == {}
