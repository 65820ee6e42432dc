"""Shared fixtures: real local servers, configs written to a temp folder."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import yaml

from tests.mailserver import MailServer
from tests.receiver import Receiver
from tests.servers import FeedServer, SmtpSink
from watcher.config import WatcherConfig
from watcher.config.load import load_config

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
RULES = ROOT / "config" / "rules.yaml"
SHARED = ROOT.parent / "shared"


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """An HTTP server on 127.0.0.1 serving whatever routes a test sets."""
    server = FeedServer().start()
    yield server
    server.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """An HTTP receiver recording every POST (webhooks, Apprise), stopped after the test."""
    server = Receiver()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """An aiosmtpd server on 127.0.0.1 that records every message."""
    sink = SmtpSink().start()
    yield sink
    sink.stop()


WriteConfig = Callable[..., Path]


@pytest.fixture
def write_config(tmp_path: Path) -> WriteConfig:
    """Write a config file in tmp_path (default rules included) and return its path."""

    def write(**sections: Any) -> Path:
        data: dict[str, Any] = {
            "include": [str(RULES)],
            "data_dir": str(tmp_path / "data"),
            "log": {"level": "warning", "format": "json"},
            "web": {"host": "127.0.0.1", "port": 0},
            "subscribers": [{"email": "analyst@example.com", "name": "Analyst"}],
            "sources": [],
        }
        data.update(sections)
        path = tmp_path / "watcher.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        return path

    return write


@pytest.fixture
def make_config(write_config: WriteConfig) -> Callable[..., WatcherConfig]:
    """A validated config built from sections, as `load_config` returns it."""

    def make(**sections: Any) -> WatcherConfig:
        return load_config(write_config(**sections), environ={})

    return make


# --- databases ------------------------------------------------------------------------

PG_ADMIN_DSN = os.environ.get("WATCHER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _pg_admin(statement: str) -> None:
    async def run() -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(run())


def _pg_available() -> str | None:
    """None when the PostgreSQL server answers, else the reason it does not."""
    try:
        _pg_admin("SELECT 1")
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"no PostgreSQL server at {PG_ADMIN_DSN}: {exc}"
    return None


@contextlib.contextmanager
def _postgres_database() -> Iterator[str]:
    """A PostgreSQL database made for one test and dropped after it.

    Without a server the test skips with the reason, except under CI=true, where it
    fails: CI starts the server and must run these tests.
    """
    reason = _pg_available()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    name = f"watcher_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    host = PG_ADMIN_DSN.split("://", 1)[1].rsplit("/", 1)[0]
    try:
        yield f"postgresql+asyncpg://{host}/{name}"
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: an SQLite file, or a PostgreSQL database made for this test."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    with _postgres_database() as url:
        yield url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test (for what only PostgreSQL can do)."""
    with _postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate and key for 127.0.0.1, made once per test session."""
    from tests.mailserver import make_certificate

    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    """A scriptable plaintext aiosmtpd server on 127.0.0.1 (replies, refusals, holds)."""
    server = MailServer().start()
    yield server
    server.stop()
