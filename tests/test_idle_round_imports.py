"""An idle `run --once` round (every source 304, nothing due) imports only what it uses."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import WriteConfig
from tests.delivery import BAN, entries, feed_source, feed_xml
from tests.mailserver import MailServer
from tests.run_once import run_once
from tests.servers import FeedServer, Route

# what only a poll with a document or a message to send needs (issue 20)
UNUSED_WHEN_IDLE = (
    "watcher.domain.stories",
    "watcher.domain.story_facts",
    "watcher.domain.story_names",
    "watcher.domain.story_updates",
    "watcher.store.poll",
    "watcher.store.story_index",
    "watcher.store.sketch_bytes",
    "watcher.store.lookup",
    "watcher.sources.fulltext",
    "watcher.notify.route",
    "watcher.notify.channels.mail.alert",
    "watcher.notify.channels.mail.alert_bodies",
    "watcher.notify.channels.mail.mime",
    "watcher.notify.channels.mail.digest",
    "watcher.notify.channels.mail.notice",
)

# printed after `watcher run --once`: its exit code and which of those it loaded
_PROBE = f"""
print(code, sorted(m for m in {UNUSED_WHEN_IDLE!r} if m in sys.modules))
"""


def _run_once(config: Path) -> str:
    return run_once(config, _PROBE).strip()


def test_an_idle_run_once_imports_no_story_or_mail_rendering_module(
    feed_server: FeedServer, mail_server: MailServer, write_config: WriteConfig
) -> None:
    """A round of 304s with nothing due loads no story sketching, story facts, story
    index, poll store or mail rendering; the first round (a new item stored in its story,
    an alert mailed) loads them, so the probe sees them when they are used.
    """
    feed_server.routes["/f"] = Route(
        feed_xml(entries(BAN)), headers={"Content-Type": "application/xml", "ETag": '"v1"'}
    )
    path = write_config(
        sources=[feed_source(feed_server.url("/f"))], smtp=mail_server.smtp_config()
    )
    first = _run_once(path)
    assert first.startswith("0 "), first
    for module in (
        "watcher.domain.stories",
        "watcher.store.poll",
        "watcher.notify.route",
        "watcher.notify.channels.mail.alert",
    ):
        assert repr(module) in first, (module, first)
    assert len(mail_server.messages) == 1
    assert _run_once(path) == "0 []"
    assert feed_server.requests[-1][1].get("If-None-Match") == '"v1"'  # the idle round's 304
    assert len(mail_server.messages) == 1
