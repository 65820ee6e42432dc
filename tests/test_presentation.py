"""How an alert reads at a glance: subject, severity scale, the headline's link, revisions."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import UTC, datetime

from tests.delivery import BAN, QUOTA, Entry, cycle, feed_source, feed_xml
from tests.mailserver import MailServer
from tests.servers import FeedServer, Route
from tests.test_render import html_part, outbound, text_part
from watcher.config import WatcherConfig
from watcher.domain.items import Direction, Severity
from watcher.notify.channels.mail.alert import render_alert
from watcher.notify.channels.mail.presentation import (
    SUBJECT_CHARS,
    severity_colour,
    subject_line,
)

MakeConfig = Callable[..., WatcherConfig]
NOW = datetime(2025, 7, 3, 9, 0, tzinfo=UTC)
ALARM_REDS = {severity_colour(s, Direction.TIGHTENING) for s in (Severity.HIGH, Severity.CRITICAL)}


def test_the_subject_starts_with_the_headline_and_fits_an_inbox_line() -> None:
    """A long headline with four types: headline first, cut at a word, the type still shown."""
    title = (
        "China's medium-heavy rare earth oxide output slips in May as feedstock dries up"
        " across Jiangxi and Guangdong"
    )
    labels = ["Ore supply disruption", "Export control", "Scrap shortage", "Quota delay"]
    subject = subject_line(title, labels, {Direction.TIGHTENING})
    assert len(subject) <= SUBJECT_CHARS
    assert subject.startswith("China's medium-heavy rare earth oxide output")
    assert subject.endswith("… · Ore supply disruption +3")
    cut = subject.split("…")[0]
    assert title.startswith(cut)
    assert title[len(cut)] == " "  # cut between words
    short = subject_line("Mining quotas late", ["Quota delay"], {Direction.EASING})
    assert short == "Mining quotas late · Quota delay, easing"


def test_severity_shows_as_a_word_a_scale_and_a_colour(make_config: MakeConfig) -> None:
    """`●●●● critical` in both parts; the HTML badge has the critical tightening colour."""
    config = make_config()
    message = render_alert(outbound(), config, config.subscribers[0], NOW)
    text, html = text_part(message), html_part(message)
    assert "severity ●●●● critical" in text
    assert "●●●● critical" in html
    assert f"background:{severity_colour(Severity.CRITICAL, Direction.TIGHTENING)}" in html


def test_an_easing_alert_is_not_framed_in_alarm_red(make_config: MakeConfig) -> None:
    """Easing of any severity: greens for the accent and badges, none of the alarm reds."""
    config = make_config()
    base = outbound()
    easing = dataclasses.replace(
        base,
        signals=tuple(
            dataclasses.replace(s, direction=Direction.EASING, severity=Severity.HIGH)
            for s in base.signals
        ),
    )
    html = html_part(render_alert(easing, config, config.subscribers[0], NOW))
    colours = set(re.findall(r"#[0-9a-f]{6}", html))
    assert not colours & ALARM_REDS
    assert "#b42318" not in colours  # the old alarm red of every header
    assert f"solid {severity_colour(Severity.HIGH, Direction.EASING)}" in html
    tightening = html_part(render_alert(base, config, config.subscribers[0], NOW))
    assert set(re.findall(r"#[0-9a-f]{6}", tightening)) & ALARM_REDS


def test_the_headline_links_to_the_item(make_config: MakeConfig) -> None:
    """In HTML the headline is a visible link to the report; in text the link follows it."""
    config = make_config()
    message = render_alert(outbound(), config, config.subscribers[0], NOW)
    html, text = html_part(message), text_part(message)
    anchor = re.search(r'<a href="([^"]+)" style="([^"]+)">([^<]+)</a>', html)
    assert anchor is not None
    assert anchor.group(1) == "https://example.com/news/1"
    assert anchor.group(3) == BAN[0]
    assert "underline" in anchor.group(2)
    assert text.splitlines()[:2] == [BAN[0], "https://example.com/news/1"]


async def test_a_revised_report_says_what_it_now_adds(
    feed_server: FeedServer, mail_server: MailServer, make_config: MakeConfig
) -> None:
    """The revision that adds a quota delay says so, and names the earlier alert's type."""
    link = "https://example.com/news/r1"
    feed_server.routes["/f"] = Route(feed_xml([Entry(BAN[0], BAN[1], "r1", link)]))
    config = make_config(
        sources=[feed_source(feed_server.url("/f"))], smtp=mail_server.smtp_config()
    )
    await cycle(config)
    [first] = mail_server.messages
    assert "updated" not in text_part(first).lower()
    revised = Entry(BAN[0], f"{BAN[1]} {QUOTA[1]}", "r1", link)
    feed_server.routes["/f"] = Route(feed_xml([revised]))
    await cycle(config)
    [_, update] = mail_server.messages
    text, html = text_part(update), html_part(update)
    note = "now also reports Quota delay (alerted earlier: Export control)"
    assert f"Updated: {note}" in text
    assert note in html
    assert str(update["Subject"]).endswith(" · Quota delay")
