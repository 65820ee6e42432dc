"""The running daemon with its public endpoint: one click stops all of a subscriber's alerts.

One config entry reaches the subscriber by email, a signed webhook and an Apprise URL.
The one-click URL is taken from the real alert in the mail drop and posted to the
daemon's own public port; the next item found reaches nobody on any channel, within
one dispatch interval. A real daemon in-process, real servers, the real clock.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from email import message_from_bytes, policy
from pathlib import Path

import httpx

from tests.conftest import ROOT
from tests.delivery import all_rows
from tests.receiver import Receiver
from tests.rows import DeliveryRow, SignalRow
from watcher.config import WatcherConfig
from watcher.config.load import load_config
from watcher.service.daemon import Daemon

WriteConfig = Callable[..., Path]


async def _until(predicate: Callable[[], bool], limit: float = 30) -> None:
    """Wait (at most `limit` s) until `predicate()` holds."""
    async with asyncio.timeout(limit):
        while not predicate():
            await asyncio.sleep(0.05)


def _mails(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "data" / "maildrop").glob("*.eml"))


async def test_one_click_in_a_real_alert_stops_email_webhook_and_chat(
    receiver: Receiver, write_config: WriteConfig, tmp_path: Path
) -> None:
    """Alert on 3 channels; POST its one-click URL to the daemon; the next item reaches nobody."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(ROOT / "seeds" / "02-export-control-notice.md", inbox)
    key = tmp_path / "public.key"
    key.write_text("daemon-signing-key\n", encoding="utf-8")
    path = write_config(
        sources=[
            {
                "name": "desk",
                "kind": "files",
                "path": str(inbox),
                "backfill": "3650d",
                "every": "10s",
                "jitter": "0s",  # the second file is read 10 s after the first, not up to 40 s
            }
        ],
        subscribers=[
            {
                "email": "analyst@example.com",
                "channels": {
                    "webhook": [receiver.url("/hook")],
                    "apprise": [f"json://127.0.0.1:{receiver.port}/chat"],
                },
            }
        ],
        dispatcher={"every": "1s"},
        polling={"tick": "0.5s"},  # the second file is claimed when due, not up to 5 s later
        public={
            "enabled": True,
            "host": "127.0.0.1",
            "port": 0,
            "base_url": "https://watch.example",
            "secret_file": str(key),
        },
    )
    config = load_config(path, environ={"WATCHER_WEBHOOK__SECRET": "whsec"})
    daemon = Daemon(config, None)
    task = asyncio.create_task(daemon.run())
    try:
        await _until(lambda: len(_mails(tmp_path)) == 1 and len(receiver.requests) == 2)
        assert sorted(r.path for r in receiver.requests) == ["/chat", "/hook"]
        alert = message_from_bytes(_mails(tmp_path)[0].read_bytes(), policy=policy.default)
        assert alert["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        link = str(alert["List-Unsubscribe"]).split(",")[0].strip().strip("<>")
        assert link.startswith("https://watch.example/unsubscribe?token=")
        assert daemon.public is not None
        assert daemon.probe is not None
        assert daemon.public.port != daemon.probe.port
        local = link.replace("https://watch.example", f"http://127.0.0.1:{daemon.public.port}")
        async with httpx.AsyncClient() as client:
            clicked = await client.post(
                local,
                content=b"List-Unsubscribe=One-Click",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        assert clicked.status_code == 200

        shutil.copy(ROOT / "seeds" / "03-mining-quota-announcement.md", inbox)
        signals_before = len(await all_rows(config, SignalRow))
        await _until_async(lambda: _signals_more_than(config, signals_before))
        rows = await all_rows(config, DeliveryRow)
        later = [r for r in rows if r.status != "sent"]
        assert later, "the new item queued nothing"
        await _until_async(lambda: _all_cancelled(config))
    finally:
        daemon.stop()
        assert await task == 0
    assert len(_mails(tmp_path)) == 1
    assert len(receiver.requests) == 2
    rows = await all_rows(config, DeliveryRow)
    assert {r.status for r in rows} == {"sent", "cancelled"}
    assert sorted(r.channel for r in rows if r.status == "cancelled") == [
        "apprise",
        "email",
        "webhook",
    ]


async def _signals_more_than(config: WatcherConfig, count: int) -> bool:
    return len(await all_rows(config, SignalRow)) > count


async def _all_cancelled(config: WatcherConfig) -> bool:
    rows = await all_rows(config, DeliveryRow)
    return all(r.status in ("sent", "cancelled") for r in rows)


async def _until_async(check: Callable[[], Awaitable[bool]], limit: float = 40) -> None:
    """Wait (at most `limit` s) until the coroutine `check()` returns true."""
    async with asyncio.timeout(limit):
        while not await check():
            await asyncio.sleep(0.1)
