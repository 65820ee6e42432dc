"""Shared fixtures: real local servers, configs written to a temp folder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.mailserver import MailServer
from tests.servers import FeedServer, SmtpSink
from watcher.config import WatcherConfig
from watcher.configfile import load_config

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
