"""A running daemon seen from outside: probes, metrics, hot reload, stopping mid-send."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path

import httpx
import yaml
from sqlmodel import select

from tests.conftest import ROOT, WriteConfig
from tests.orm import reading
from tests.rows import DeliveryRow, NoticeRow
from tests.servers import SmtpSink
from watcher.config.load import load_config
from watcher.service.daemon import Daemon
from watcher.service.runtime import Runtime


async def _until(predicate: Callable[[], bool]) -> None:
    """Wait (at most 20 s) until `predicate()` holds."""
    async with asyncio.timeout(20):
        while not predicate():
            await asyncio.sleep(0.05)


def _mails(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "data" / "maildrop").glob("*.eml"))


def _subjects(tmp_path: Path) -> list[str]:
    return [p.read_text(encoding="utf-8", errors="replace") for p in _mails(tmp_path)]


async def test_probes_and_metrics_of_a_running_daemon(
    write_config: WriteConfig, tmp_path: Path
) -> None:
    """/healthz and /readyz answer 200; /metrics counts polls, signals and emails sent."""
    path = write_config(
        sources=[
            {"name": "seeds", "kind": "files", "path": str(ROOT / "seeds"), "backfill": "3650d"}
        ]
    )
    daemon = Daemon(load_config(path, environ={}), path)
    task = asyncio.create_task(daemon.run())
    try:
        await _until(lambda: len(_mails(tmp_path)) == 8)
        await _until(lambda: daemon.metrics.emails.labels("sent")._value.get() == 8)
        assert daemon.probe is not None
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{daemon.probe.port}") as web:
            health = await web.get("/healthz")
            ready = await web.get("/readyz")
            metrics = (await web.get("/metrics")).text
    finally:
        daemon.stop()
        assert await task == 0
    assert health.status_code == 200
    assert health.json()["scheduler"] == "running"
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"
    assert 'watcher_polls_total{outcome="ok",source="seeds"} 1.0' in metrics
    assert 'watcher_items_new_total{source="seeds"} 11.0' in metrics
    assert 'watcher_signals_total{direction="easing",type="export_control"} 1.0' in metrics
    assert 'watcher_emails_total{outcome="sent"} 8.0' in metrics
    assert "watcher_outbox_pending 0.0" in metrics
    assert "watcher_poll_duration_seconds_bucket" in metrics


async def test_a_config_edit_is_applied_without_restart(
    write_config: WriteConfig, tmp_path: Path
) -> None:
    """A source added to the file while running is polled; the old one keeps its state."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    shutil.copytree(ROOT / "seeds", second)
    (first / "quota.md").write_text(
        (ROOT / "seeds" / "03-mining-quota-announcement.md").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    path = write_config(
        sources=[{"name": "first", "kind": "files", "path": str(first), "backfill": "3650d"}],
        service={"reload_check": "0.2s"},
        polling={"tick": "0.5s"},  # the added source is claimed when due, not up to 5 s later
    )
    daemon = Daemon(load_config(path, environ={}), path)
    task = asyncio.create_task(daemon.run())
    try:
        await _until(lambda: len(_mails(tmp_path)) == 1)
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["sources"].append(
            {"name": "second", "kind": "files", "path": str(second), "backfill": "3650d"}
        )
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        # eight seed alerts, less the quota report: the same story as first's, already sent
        await _until(lambda: len(_mails(tmp_path)) == 8)
    finally:
        daemon.stop()
        assert await task == 0
    assert [s.name for s in daemon.config.sources] == ["first", "second"]
    assert daemon.metrics.reloads.labels("applied")._value.get() == 1


async def test_an_invalid_edit_is_kept_out_and_admins_are_told(
    write_config: WriteConfig, tmp_path: Path
) -> None:
    """A broken edit leaves the running config in force and queues one admin notice."""
    path = write_config(
        sources=[
            {"name": "seeds", "kind": "files", "path": str(ROOT / "seeds"), "backfill": "3650d"}
        ],
        admins=["ops@example.com"],
        service={"reload_check": "0.2s"},
    )
    daemon = Daemon(load_config(path, environ={}), path)
    task = asyncio.create_task(daemon.run())
    try:
        await _until(lambda: len(_mails(tmp_path)) == 8)
        path.write_text(
            path.read_text(encoding="utf-8") + "\nsmtp: {port: nine}\n", encoding="utf-8"
        )
        await _until(lambda: daemon.metrics.reloads.labels("rejected")._value.get() == 1)
        assert await daemon.reload("sighup") is False  # same broken file: still refused
    finally:
        daemon.stop()
        assert await task == 0
    assert daemon.config.smtp.port == 587
    async with Runtime(daemon.config) as rt, reading(rt.db) as session:
        notices = (await session.exec(select(NoticeRow))).all()
    assert len(notices) == 1
    assert "smtp.port" in notices[0].body


async def test_stopping_while_a_send_is_slow_finishes_the_send(
    write_config: WriteConfig, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    """Stop during a slow SMTP exchange: the drain lets it finish and records it as sent."""
    smtp_sink.handler.hold.clear()  # every DATA exchange stays open until released below
    path = write_config(
        sources=[
            {"name": "seeds", "kind": "files", "path": str(ROOT / "seeds"), "backfill": "3650d"}
        ],
        smtp={"host": "127.0.0.1", "port": smtp_sink.port, "tls": "none", "timeout": "10s"},
    )
    daemon = Daemon(load_config(path, environ={}), path)
    task = asyncio.create_task(daemon.run())
    await _until(lambda: smtp_sink.handler.data_started >= 2)
    daemon.stop()  # the dispatcher is inside held DATA exchanges right now
    smtp_sink.handler.hold.set()  # the server answers them only once the stop was asked
    assert await task == 0
    async with Runtime(daemon.config) as rt, reading(rt.db) as session:
        rows = (await session.exec(select(DeliveryRow))).all()
    sent = [r for r in rows if r.status == "sent"]
    assert sent
    accepted = {str(m["Message-ID"]) for m in smtp_sink.messages}
    assert {r.message_id for r in sent} <= accepted
    assert all(r.status in ("sent", "pending") for r in rows)
