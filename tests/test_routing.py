"""Subscriber filters: which signal reaches whom, as a table and through a real feed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pytest

from tests.delivery import (
    BAN,
    FLOOD,
    MYANMAR,
    QUOTA,
    RUMOUR,
    SCRAP,
    cycle,
    entries,
    feed_source,
    feed_xml,
)
from tests.mailserver import MailServer
from tests.servers import FeedServer, Route
from watcher.config import Subscriber, WatcherConfig
from watcher.domain.items import Direction, Entities, Severity, Signal
from watcher.notify.route import wants

MakeConfig = Callable[..., WatcherConfig]


def signal(**overrides: Any) -> Signal:
    """A high, tightening export-control signal about Dy in China, with overrides."""
    values: dict[str, Any] = {
        "type": "export_control",
        "direction": Direction.TIGHTENING,
        "severity": Severity.HIGH,
        "score": 0.7,
        "rule": "export_control",
        "evidence": (),
        "entities": Entities(("Dy",), (), ("China",)),
        "speculative": False,
    }
    values.update(overrides)
    return Signal(**values)


@pytest.mark.parametrize(
    ("filters", "overrides", "expected"),
    [
        ({}, {}, True),
        ({"signals": ["quota_delay"]}, {}, False),
        ({"signals": ["quota_delay", "export_control"]}, {}, True),
        ({"min_severity": "critical"}, {}, False),
        ({"min_severity": "high"}, {}, True),
        ({"min_severity": "medium"}, {"severity": Severity.LOW}, False),
        ({"directions": ["easing"]}, {}, False),
        ({"directions": ["easing"]}, {"direction": Direction.EASING}, True),
        ({}, {"speculative": True}, False),
        ({"include_speculative": True}, {"speculative": True}, True),
        ({"elements": ["Dy", "Tb"]}, {}, True),
        ({"elements": ["tb"]}, {"entities": Entities(("Tb",), (), ())}, True),
        ({"elements": ["Ga"]}, {}, False),
        ({"elements": ["Dy"]}, {"entities": Entities((), (), ("China",))}, False),
        ({"countries": ["Myanmar"]}, {}, False),
        ({"countries": ["china"]}, {}, True),
        ({"elements": ["Dy"], "countries": ["Myanmar"]}, {}, False),
        ({"mode": "digest", "schedule": "weekly mon 08:00"}, {}, True),
    ],
)
def test_filters_decide_who_wants_a_signal(
    filters: dict[str, Any], overrides: dict[str, Any], expected: bool
) -> None:
    """Each filter alone and combined: types, severity floor, direction, speculation, entities."""
    subscriber = Subscriber(email="a@example.com", **filters)
    assert wants(subscriber, signal(**overrides)) is expected


async def test_a_feed_reaches_each_subscriber_through_their_filters(
    feed_server: FeedServer, mail_server: MailServer, make_config: MakeConfig
) -> None:
    """Six reports, six subscribers: every one gets exactly the alerts their filters pass."""
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN, FLOOD, QUOTA, SCRAP, RUMOUR, MYANMAR)))
    config = make_config(
        sources=[feed_source(feed_server.url("/f"))],
        smtp=mail_server.smtp_config(),
        subscribers=[
            {"email": "all@example.com"},
            {"email": "dytb@example.com", "elements": ["Dy", "Tb"]},
            {"email": "myanmar@example.com", "countries": ["Myanmar"]},
            {
                "email": "critical@example.com",
                "min_severity": "critical",
                "signals": ["export_control", "ore_supply_disruption"],
            },
            {
                "email": "rumours@example.com",
                "signals": ["export_control"],
                "include_speculative": True,
            },
            {"email": "easing@example.com", "directions": ["easing"]},
        ],
    )
    await cycle(config)
    ban, flood, quota, scrap, rumour, myanmar = (
        t for t, _ in (BAN, FLOOD, QUOTA, SCRAP, RUMOUR, MYANMAR)
    )
    got: dict[str, set[str]] = defaultdict(set)
    for message in mail_server.messages:
        address = message["To"].addresses[0].addr_spec
        # the headline comes first, cut with an ellipsis when the subject would be long
        shown = str(message["Subject"]).rsplit(" · ", 1)[0].removesuffix("…")
        [title] = [t for t in (ban, flood, quota, scrap, rumour, myanmar) if t.startswith(shown)]
        got[address].add(title)
    assert got == {
        "all@example.com": {ban, flood, quota, scrap, myanmar},
        "dytb@example.com": {ban},
        "myanmar@example.com": {myanmar},
        "critical@example.com": {ban, flood, myanmar},
        "rumours@example.com": {ban, rumour},
    }
