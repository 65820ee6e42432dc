"""What the service imports at start-up: rich only to draw, the parsers only to parse."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, WriteConfig
from tests.delivery import BAN, entries, feed_source, feed_xml
from tests.mailserver import MailServer
from tests.run_once import run_once
from tests.servers import FeedServer, Route
from watcher.ops.log import rich_traceback

_PROBE = """
import sys
import watcher.cli.app, watcher.service.rounds, watcher.service.runtime
from watcher.ops.log import configure_logging
configure_logging("info", "console")
configure_logging("info", "json")
LAZY = {"rich", "pygments", "selectolax", "charset_normalizer", "nh3", "feedparser"}
print(sorted({m.split(".")[0] for m in sys.modules} & LAZY))
import rich.console  # still importable afterwards
print(rich.console.Console.__name__)
"""


def test_the_service_and_its_logging_start_without_rich() -> None:
    """The command line, the round and both log formats load no renderer and no parser.

    A round with nothing new (all 304) needs none of them; the first document or email
    loads what it needs.
    """
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["[]", "Console"]


# printed after `watcher run --once`: the classifiers built, its exit code and what it
# loaded of `LAZY`
_LOADED = """
LAZY = {"rich", "pygments", "jinja2", "aiosmtplib", "pebble", "watcher.store.listing", "selectolax",
        "sqlalchemy.orm", "sqlalchemy.ext.asyncio", "aiosqlite", "sqlmodel", "alembic",
        "watcher.classify.engine", "typer"}
from watcher.service.analysis import _classifiers
print(len(_classifiers))
print(code, sorted(m for m in sys.modules if m in LAZY or m.split(".")[0] in LAZY))
"""


def _run_once(config: Path) -> str:
    return run_once(config, _LOADED).strip()


def test_an_idle_run_once_imports_no_mail_rendering_smtp_or_listing(
    feed_server: FeedServer, mail_server: MailServer, write_config: WriteConfig
) -> None:
    """`run --once` on a round where every source answers 304 and nothing is due loads no
    template engine, SMTP client, table drawing or store listing, and neither imports the
    rule engine nor builds a classifier; a round that classifies and mails does. Neither
    loads Typer: a plain `run` command line starts without it (`watcher.ops.startup`).
    On an SQLite file at the newest revision it loads no async engine (nor the ORM that
    SQLAlchemy's asyncio extension imports) and no SQLModel, nor does the first run, whose
    new database gets its schema from the Core tables.

    The first round (a new item, an alert sent) shows the probe sees those modules when
    they are used (not jinja2: an alert's parts are written without the templates); the
    second (the same feed, 304) must not load them.
    """
    feed_server.routes["/f"] = Route(
        feed_xml(entries(BAN)), headers={"Content-Type": "application/xml", "ETag": '"v1"'}
    )
    path = write_config(
        sources=[feed_source(feed_server.url("/f"))], smtp=mail_server.smtp_config()
    )
    first = _run_once(path)
    assert first.startswith("1\n0 "), first  # one classifier built, exit 0
    assert "'watcher.classify.engine'" in first
    assert "'jinja2'" not in first  # an alert's parts are written without the templates
    assert "'aiosmtplib'" in first
    # a new database: its schema made from the Core tables, no migration stack loaded
    assert "'sqlalchemy.ext.asyncio'" not in first
    assert "'alembic'" not in first
    assert len(mail_server.messages) == 1
    assert _run_once(path) == "0\n0 []"
    assert feed_server.requests[-1][1].get("If-None-Match") == '"v1"'  # the idle round's 304
    assert len(mail_server.messages) == 1


def test_a_terminal_traceback_is_drawn_with_rich_loaded_then() -> None:
    """The console renderer's traceback on a terminal: rich's, with the exception named."""
    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError:
        exc_info = sys.exc_info()
    sio = io.StringIO()
    rich_traceback(sio, exc_info)  # type: ignore[arg-type]
    text = sio.getvalue()
    assert "ZeroDivisionError" in text
    assert "Traceback" in text
