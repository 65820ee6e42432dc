"""The alert email: its headers, and untrusted feed text that never shapes a header or HTML."""

from __future__ import annotations

import dataclasses
import email.policy
import html
import itertools
import re
from collections.abc import Callable
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import markupsafe
import pytest
from sqlmodel import select

from tests.delivery import BAN, QUOTA, Entry, cycle, entries, feed_source, feed_xml
from tests.mailserver import MailServer
from tests.orm import reading
from tests.rows import ItemRow
from tests.servers import FeedServer, Route
from watcher.classify.engine import Classifier
from watcher.classify.severity import raised_for_sources
from watcher.config import WatcherConfig
from watcher.domain.errors import UnsafeMessageError
from watcher.domain.items import (
    DigestEntry,
    DigestOutbound,
    Direction,
    Entities,
    Evidence,
    Item,
    Outbound,
    Severity,
    Signal,
    Span,
)
from watcher.notify.channels.mail.alert import evidence_view, render_alert, render_alert_mail
from watcher.notify.channels.mail.alert import text_part as make_text_part
from watcher.notify.channels.mail.alert_bodies import escape_html
from watcher.notify.channels.mail.digest import render_digest
from watcher.notify.channels.mail.headers import ALERT_HEADERS, MAIL_POLICY, check_headers
from watcher.notify.channels.mail.presentation import severity_marks
from watcher.public.tokens import UNSUBSCRIBE, Tokens
from watcher.service.rounds import dispatch_all, poll_with_deadline, prepare_sources
from watcher.service.runtime import Runtime
from watcher.sources.html import one_line

MakeConfig = Callable[..., WatcherConfig]
NOW = datetime(2025, 7, 3, 9, 0, tzinfo=UTC)
HOSTILE_TITLES = [
    "China bans dysprosium exports\r\nBcc: evil@example.net",
    "China bans dysprosium exports\nX-Injected: 1\n\n<b>body</b>",
    "=?UTF-8?Q?China_bans_dysprosium_exports=0D=0ABcc:_evil@example.net?=",
    "=?UTF-8?B?Q2hpbmEgYmFucwpCY2M6IGV2aWxAZXhhbXBsZS5uZXQ=?=",
    "China bans dysprosium exports Bcc: evil@example.net",
    "China bans dysprosium exports\u2028Bcc: evil@example.net\x85Cc: x@example.net",
]


def outbound(title: str = BAN[0], body: str = BAN[1], link: str | None = None) -> Outbound:
    """An export-control alert about an item with the given title, body and link."""
    sentence = BAN[1]
    signal = Signal(
        type="export_control",
        direction=Direction.TIGHTENING,
        severity=Severity.CRITICAL,
        score=0.8,
        rule="export_control",
        evidence=(Evidence(sentence, (Span(6, 13, "impose"), Span(17, 27, "export_control"))),),
        entities=Entities(("Dy", "Tb"), (), ("China",)),
    )
    item = Item(
        source="wire",
        title=title,
        body=body,
        link=link or "https://example.com/news/1",
        published=datetime(2025, 7, 3, 8, 30, tzinfo=UTC),
    )
    return Outbound("<id.1@watch.example>", "analyst@example.com", (1,), 0, item, (signal,))


def html_part(message: object) -> str:
    """The HTML alternative of a message, as text."""
    part = message.get_body(("html",))  # type: ignore[attr-defined]
    assert part is not None
    return str(part.get_content())


def text_part(message: object) -> str:
    """The plain-text alternative of a message."""
    part = message.get_body(("plain",))  # type: ignore[attr-defined]
    assert part is not None
    return str(part.get_content())


async def test_an_alert_carries_the_intended_headers(
    feed_server: FeedServer, mail_server: MailServer, make_config: MakeConfig
) -> None:
    """From, To, Date, Message-ID, List-Id, List-Unsubscribe (+ one-click), Auto-Submitted."""
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN)))
    config = make_config(
        sources=[feed_source(feed_server.url("/f"))],
        smtp=mail_server.smtp_config(),
        mail={
            "from": "Supply Watch <alerts@watch.example>",
            "domain": "watch.example",
            "unsubscribe_url": "https://watch.example/unsubscribe",
        },
    )
    await cycle(config)
    [message] = mail_server.messages
    assert message["From"] == "Supply Watch <alerts@watch.example>"
    assert message["To"] == "Analyst <analyst@example.com>"
    assert message["Date"].datetime.tzinfo is not None
    assert re.fullmatch(r"<[0-9a-f]{32}\.\d+@watch\.example>", message["Message-ID"])
    assert message["List-Id"] == "Supply Watcher alerts <alerts.watch.example>"
    unsubscribe = message["List-Unsubscribe"]
    assert "<https://watch.example/unsubscribe?address=analyst%40example.com>" in unsubscribe
    assert "<mailto:unsubscribe@watch.example?subject=unsubscribe%20analyst%40example.com>" in (
        unsubscribe
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # as sent: on one line, never RFC 2047 encoded words a mail client cannot follow
    assert (
        b"\r\nList-Unsubscribe: <https://watch.example/unsubscribe?address=analyst%40example.com>,"
        b" <mailto:unsubscribe@watch.example?subject=unsubscribe%20analyst%40example.com>\r\n"
    ) in mail_server.handler.raw[0]
    assert message["Auto-Submitted"] == "auto-generated"
    assert str(message["Subject"]).strip() == "China bans dysprosium exports · Export control"
    assert message.get_content_type() == "multipart/alternative"
    assert {k.lower() for k in message} <= ALERT_HEADERS


def test_one_click_unsubscribe_is_offered_only_with_an_https_link(
    make_config: MakeConfig,
) -> None:
    """Without `unsubscribe_url`, List-Unsubscribe is a mailto: and no -Post header is set."""
    config = make_config()
    message = render_alert(outbound(), config, config.subscribers[0], NOW)
    assert message["List-Unsubscribe"].startswith("<mailto:unsubscribe@")
    assert "List-Unsubscribe-Post" not in message


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_a_hostile_title_never_adds_a_header(make_config: MakeConfig, title: str) -> None:
    """CR/LF, encoded newlines, Unicode separators and `Bcc:` text stay inside the subject."""
    config = make_config()
    message = render_alert(outbound(title=title), config, config.subscribers[0], NOW)
    raw = message.as_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0]
    names = [
        line.split(b":", 1)[0].lower() for line in head.split(b"\r\n") if line[:1] not in b" \t"
    ]
    assert {n.decode() for n in names} <= ALERT_HEADERS
    assert not {b"bcc", b"cc", b"x-injected"} & set(names)
    assert len(names) == len(set(names))
    assert "\n" not in str(message["Subject"])


@pytest.mark.parametrize("title", HOSTILE_TITLES[:3])
async def test_hostile_feed_titles_reach_only_the_subscriber(
    feed_server: FeedServer, mail_server: MailServer, make_config: MakeConfig, title: str
) -> None:
    """Through a real feed and SMTP: one recipient in the envelope, no extra header."""
    feed_server.routes["/f"] = Route(
        feed_xml([Entry(title, BAN[1], "g1", "https://example.com/1")])
        .replace(b"\r", b"&#13;")
        .replace(b"\n", b"&#10;")
    )
    config = make_config(
        sources=[feed_source(feed_server.url("/f"))], smtp=mail_server.smtp_config()
    )
    await cycle(config)
    [message] = mail_server.messages
    assert mail_server.handler.envelopes[0][1] == ["analyst@example.com"]
    assert {k.lower() for k in message} <= ALERT_HEADERS
    assert "Bcc" not in message


def test_html_and_javascript_links_in_a_summary_never_reach_the_html_part(
    make_config: MakeConfig,
) -> None:
    """Scripts, handlers, images and javascript: links are gone; an https link survives."""
    body = (
        f"{BAN[1]} <script>alert('x')</script><img src=https://tracker.example/p.gif>"
        "<a href=\"javascript:alert('y')\">details</a> <a href='JaVaScRiPt:void(0)'>more</a>"
        "<b onmouseover=\"alert('z')\">bold</b> <iframe src=https://evil.example></iframe>"
        " <a href='https://example.com/ok'>source</a>"
    )
    config = make_config()
    html = html_part(render_alert(outbound(body=body), config, config.subscribers[0], NOW))
    lowered = html.lower()
    for forbidden in ("<script", "javascript:", "<img", "onmouseover", "<iframe", "tracker."):
        assert forbidden not in lowered, forbidden
    assert not re.search(r"\bsrc\s*=", lowered)
    assert '<a href="https://example.com/ok" rel="noopener noreferrer nofollow">' in html
    assert "<b>bold</b>" in html


def test_a_local_document_link_is_plain_text_and_times_are_in_the_subscribers_zone(
    make_config: MakeConfig,
) -> None:
    """file:// links are never anchors; published time shows in the subscriber's time zone."""
    config = make_config(subscribers=[{"email": "tokyo@example.com", "timezone": "Asia/Tokyo"}])
    alert = outbound(link="file:///srv/seeds/02-export-control-notice.md")
    message = render_alert(alert, config, config.subscribers[0], NOW)
    html, text = html_part(message), text_part(message)
    assert 'href="file:' not in html
    assert "02-export-control-notice.md" in html
    assert "Document:  02-export-control-notice.md (local file)" in text
    assert "/srv/seeds" not in html  # the server's folder means nothing to a reader
    assert "/srv/seeds" not in text
    assert "2025-07-03 17:30 JST" in text
    assert "2025-07-03 17:30 JST" in html
    assert "[imposed] an [export ban]" in text
    assert "<mark" in html


def test_the_header_check_refuses_a_message_with_an_extra_header(make_config: MakeConfig) -> None:
    """A header outside the intended set (here Bcc) makes the message unsendable."""
    config = make_config()
    message = render_alert(outbound(), config, config.subscribers[0], NOW)
    message["Bcc"] = "evil@example.net"
    with pytest.raises(UnsafeMessageError, match="bcc"):
        check_headers(message, "analyst@example.com")


async def test_the_same_story_from_a_second_source_mails_once_naming_both(
    feed_server: FeedServer, mail_server: MailServer, make_config: MakeConfig
) -> None:
    """One email naming the other source, its severity raised because two carry the story."""
    feed_server.routes["/a"] = Route(feed_xml(entries(QUOTA)))
    feed_server.routes["/b"] = Route(feed_xml([Entry(QUOTA[0], QUOTA[1], "other-guid", None)]))
    config = make_config(
        sources=[
            feed_source(feed_server.url("/a"), "wire-a"),
            feed_source(feed_server.url("/b"), "wire-b"),
        ],
        smtp=mail_server.smtp_config(),
    )
    async with Runtime(config) as rt:
        for source in await prepare_sources(rt):
            await poll_with_deadline(rt, source)
        async with reading(rt.db) as session:
            stories = {i.story_id for i in (await session.exec(select(ItemRow))).all()}
        await dispatch_all(rt)
    assert len(stories) == 1
    [message] = mail_server.messages
    assert "Also reported by: wire-b" in text_part(message)
    assert "wire-b" in html_part(message)
    # two sources carry the story: the alert's severity is one step above one source's
    [alone] = Classifier.from_config(config).classify(QUOTA[0], QUOTA[1])
    raised = raised_for_sources(alone.severity, 2, alone.direction)
    assert raised != alone.severity
    assert f"severity {severity_marks(raised)} {raised.value}" in text_part(message)


async def test_a_chinese_term_is_glossed_in_english_in_the_alert(
    feed_server: FeedServer, mail_server: MailServer, make_config: MakeConfig
) -> None:
    """A reader without Chinese sees what a matched Chinese term means, in both parts."""
    title = "商務部公告暫停實施稀土出口管制措施"
    body = "中國商務部宣布，自即日起暫停實施對稀土相關物項的出口管制措施。"
    feed_server.routes["/zh"] = Route(feed_xml([Entry(title, body, "zh-1", None)]))
    config = make_config(
        sources=[feed_source(feed_server.url("/zh"), "cn-wire")], smtp=mail_server.smtp_config()
    )
    [signal] = Classifier.from_config(config).classify(title, body)
    glossed = [s for e in signal.evidence for s in e.spans if s.gloss]
    assert glossed  # the rules gloss the Chinese terms this item matches
    await cycle(config)
    [message] = mail_server.messages
    for span in glossed:
        assert f"({span.gloss})" in text_part(message)
        assert f"({span.gloss})" in html_part(message)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Short ASCII lines.\nTwo of them.\n",
        "Dysprosium · terbium: export ban “effective at once”.\n",
        "中国暂停向美国出口镝和铽。\n" * 3,
        "A line far longer than the seventy-eight characters a line may have in a message body"
        " before it must be encoded.\n",
        (
            "稀土出口管制收紧，镝和铽的出口许可证暂停发放，直至另行通知为止，影响所有买家。" * 3
            + "\n"
        )
        * 12,
        (
            "Mostly ASCII with one – dash in a line that is much longer than seventy-eight"
            " characters.\n"
        )
        * 12,
    ],
)
def test_parts_are_encoded_exactly_as_the_email_package_would(text: str) -> None:
    """Same transfer encoding, payload and headers as `EmailMessage.set_content(text)`."""
    reference = EmailMessage(policy=MAIL_POLICY)
    reference.set_content(text)
    part = make_text_part(text, "plain")
    assert part["Content-Transfer-Encoding"] == reference["Content-Transfer-Encoding"]
    assert part.get_payload() == reference.get_payload()
    assert str(part["Content-Type"]) == str(reference["Content-Type"])
    assert part.get_content() == reference.get_content()


def test_an_alert_is_multipart_alternative_with_a_boundary_no_part_contains(
    make_config: MakeConfig,
) -> None:
    """Text then HTML under one multipart/alternative; both decode to what was rendered."""
    config = make_config()
    body = "=" * 40 + " a body full of equals signs " + "=" * 40
    message = render_alert(outbound(body=body), config, config.subscribers[0], NOW)
    assert message.get_content_type() == "multipart/alternative"
    assert message["MIME-Version"] == "1.0"
    boundary = message.get_boundary()
    assert boundary
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert all(("--" + boundary) not in str(p.get_payload()) for p in parts)
    parsed = message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    assert text_part(parsed).replace("\r\n", "\n") == text_part(message)  # sent with CRLF
    assert "equals signs" in html_part(parsed)


def test_a_signed_one_click_link_is_in_the_headers_and_both_footers(
    make_config: MakeConfig, tmp_path: Path
) -> None:
    """With the public endpoint's URL and key: the signed link in one header line and the body."""
    key = tmp_path / "links.key"
    key.write_text("render-key\n", encoding="utf-8")
    config = make_config(
        public={"base_url": "https://watch.example", "secret_file": str(key)},
        mail={"unsubscribe_url": "https://legacy.example/unsub"},
    )
    message = render_alert(outbound(), config, config.subscribers[0], NOW)
    link, mailto = (p.strip().strip("<>") for p in str(message["List-Unsubscribe"]).split(","))
    assert link.startswith("https://watch.example/unsubscribe?token=")
    assert mailto.startswith("mailto:unsubscribe@")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    tokens = Tokens.of(config.public)
    assert tokens is not None
    claim = tokens.check(parse_qs(urlsplit(link).query)["token"][0], UNSUBSCRIBE, NOW)
    assert (claim.address, claim.list) == ("analyst@example.com", "alerts")
    assert link in text_part(message)
    assert f'href="{link}"' in html_part(message)
    assert f"List-Unsubscribe: <{link}>, <mailto:".encode() in message.as_bytes(policy=MAIL_POLICY)


async def test_an_uncertain_direction_says_why_in_both_parts(
    feed_server: FeedServer, mail_server: MailServer, make_config: MakeConfig
) -> None:
    """An alert whose direction the evidence disputes says so and quotes the conflicting cue."""
    title = "Indonesia resumes nickel ore shipments"
    body = (
        "Indonesia resumed nickel ore shipments on Monday, but the main mine there is still halted."
    )
    feed_server.routes["/ore"] = Route(feed_xml([Entry(title, body, "ore-1", None)]))
    config = make_config(
        sources=[feed_source(feed_server.url("/ore"), "ore-wire")], smtp=mail_server.smtp_config()
    )
    [signal] = Classifier.from_config(config).classify(title, body)
    assert signal.direction_uncertain
    assert "'halted'" in signal.direction_doubt
    await cycle(config)
    [message] = mail_server.messages
    for part in (text_part(message), html.unescape(html_part(message))):
        assert "direction uncertain" in part
        assert f"Direction uncertain: {signal.direction_doubt}" in part


def test_a_digest_marks_an_uncertain_direction_and_says_why(make_config: MakeConfig) -> None:
    """A digest lists an uncertain signal as such, with the words that read the other way;
    a settled signal beside it gets no such line."""
    config = make_config()
    classifier = Classifier.from_config(config)
    entries = []
    for n, (title, body) in enumerate(
        [
            (
                "Indonesia resumes nickel ore shipments",
                "Indonesia resumed nickel ore shipments on Monday, but the main mine there is"
                " still halted.",
            ),
            (
                "China bans exports of gallium",
                "China banned exports of gallium from Monday, the commerce ministry said.",
            ),
        ]
    ):
        [signal] = classifier.classify(title, body)
        item = Item(source="wire", title=title, body=body, link=f"https://example.com/{n}")
        entries.append(DigestEntry(item, signal))
    doubted, settled = (e.signal for e in entries)
    assert doubted.direction_uncertain
    assert doubted.direction_doubt
    assert not settled.direction_uncertain
    subscriber = config.subscribers[0]
    digest = DigestOutbound(1, "<d.1@watch.example>", subscriber.address, NOW, 0, tuple(entries))
    message = render_digest(digest, config, subscriber, NOW)
    for part in (text_part(message), html.unescape(html_part(message))):
        assert part.count("uncertain") == 2  # the mark and the reason, of the one signal
        label = config.signal_label(doubted.type)
        assert f"Direction uncertain ({label}): {doubted.direction_doubt}" in part


_NASTY = "<b>&amp; \"quoted\" 'single' & <script>x</script>"


def _branch_signals(variant: int) -> tuple[Signal, ...]:
    """Signals that take the templates' branches: plain; two with one speculative and
    uncertain (with a hostile doubt) and easing; uncertain with no doubt, a glossed
    term in the headline; one with every kind of entity named in hostile text."""
    sentence = f"China imposed an export ban on dysprosium {_NASTY} and terbium."
    evidence = Evidence(sentence, (Span(6, 13, "impose"), Span(17, 27, "export_control")))
    plain = Signal(
        "export_control",
        Direction.TIGHTENING,
        Severity.HIGH,
        0.8,
        "export_control",
        (evidence,),
        Entities(("Dy",), (), ("China",)),
    )
    if variant == 0:
        return (plain,)
    if variant == 1:
        doubtful = dataclasses.replace(
            plain,
            type="quota",
            rule=f"quota {_NASTY}",
            direction=Direction.EASING,
            severity=Severity.LOW,
            score=1.0,
            speculative=True,
            direction_uncertain=True,
            direction_doubt=f"'lifted' {_NASTY} reads easing",
            evidence=(evidence, evidence),
            entities=Entities(),
        )
        return (plain, doubtful)
    if variant == 2:
        glossed = Evidence(
            "商务部暂停实施出口管制", (Span(3, 7, "suspend", "suspend a measure"),), True
        )
        return (dataclasses.replace(plain, direction_uncertain=True, evidence=(glossed,)),)
    named = Entities((f"Dy {_NASTY}", "Tb"), (f"magnets {_NASTY}",), (f"China {_NASTY}",))
    return (dataclasses.replace(plain, severity=Severity.CRITICAL, entities=named),)


def test_the_sent_parts_are_the_templates_output_on_every_branch(
    make_config: MakeConfig, tmp_path: Path
) -> None:
    """`render_alert_mail` (its parts written by `alert_bodies`) == `render_alert` (the
    Jinja templates), byte for byte, over 192 alerts that take every branch of
    `alert.txt.j2` and `alert.html.j2`, with hostile text in every field a feed supplies.
    """
    key = tmp_path / "links.key"
    key.write_text("branch-key\n", encoding="utf-8")
    configs = [
        make_config(public={"base_url": "https://watch.example", "secret_file": str(key)}),
        make_config(
            subscribers=[{"email": "zoe@example.com", "name": "Zoë", "timezone": "Asia/Tokyo"}]
        ),
    ]
    links = [
        "https://example.com/a?b=1&c=\"<x>'y'&z",
        None,
        "file:///srv/r%20%3Cx%3E.md",
        "javascript:alert(1)",
    ]
    bodies = [
        "",
        f"<p>{_NASTY} <a href='https://x.example/?a=1&b=2'>link</a></p>",
        "state-of-the-art export-control-related measures " * 9 + "x" * 90,
    ]
    sources = ("farm-0001", f"Wire {_NASTY}")
    cases = itertools.product(
        range(4),
        links,
        [(1, ()), (2, ("quota",)), (3, ())],
        [(), (f"A {_NASTY}", "Reuters – 路透")],
        ["", f"figure {_NASTY}"],
    )
    htmls = []
    for index, (variant, link, (revision, earlier), also, news) in enumerate(cases):
        config = configs[index % 2]
        item = Item(
            source=sources[index % 2],
            title=f"{index} {_NASTY} · 稀土",
            body=bodies[index % 3],
            link=link,
            published=None if index % 5 == 0 else NOW,
        )
        alert = Outbound(
            f"<b{index}@watch.example>",
            "s",
            (index,),
            0,
            item,
            _branch_signals(variant),
            also,
            revision,
            earlier,
            story_news=news,
        )
        sent = render_alert_mail(alert, config, config.subscribers[0], NOW)
        reference = render_alert(alert, config, config.subscribers[0], NOW)
        assert sent.data == reference.as_bytes(), alert
        htmls.append(html_part(reference))
    assert len(set(htmls)) == 192  # every case a different email
    branches = [
        "speculative",
        "Direction uncertain: ",
        "(local file)",
        "Read the report",
        "Also reported by",
        "now also reports",
        "Updated: ",
        "Summary</div>",
        "in one click",
        "(headline)",
        "Products</td>",
        "sentences</div>",
        "date unknown",
    ]
    for marker in branches:  # each branch taken by some alerts and not by others
        assert 0 < sum(marker in html for html in htmls) < len(htmls), marker


def test_the_written_parts_escape_as_jinjas_autoescaping() -> None:
    """`escape_html` == markupsafe's `escape` (what Jinja calls) on text holding each
    character it replaces, alone, repeated and among others, ASCII and not."""
    samples = ["", "plain", "&", "<", ">", "'", '"', "&amp;", "&#39;", _NASTY, "Zoë <稀土> & 'é'"]
    samples += ["".join(chars) for chars in itertools.product("&<>'\"a é", repeat=3)]
    for text in samples:
        assert escape_html(text) == str(markupsafe.escape(text)), text


def test_an_evidence_sentences_text_is_its_marked_sentence_on_one_line() -> None:
    """`evidence_view(e).text` == `one_line(e.marked(glossed=True))`, and its HTML marks
    the same terms, over spans out of order, overlapping, glossed and at either end."""
    sentence = "China\nimposed an export ban <on> dysprosium & 暂停实施 terbium"
    span_sets = [
        (),
        (Span(6, 13, "impose"),),
        (Span(17, 27, "export_control"), Span(6, 13, "impose")),
        (Span(0, 5, "c"), Span(3, 9, "overlap"), Span(48, 52, "suspend", "suspend a measure")),
        (Span(len(sentence) - 7, len(sentence), "tb"), Span(28, 32, "x", "<gloss & 'q'>")),
    ]
    for spans in span_sets:
        evidence = Evidence(sentence, spans)
        view = evidence_view(evidence)
        assert view.text == one_line(evidence.marked(glossed=True))
        # the HTML without its tags reads as the sentence with the glosses
        shown = html.unescape(re.sub(r"<[^>]+>", "", view.html))
        assert shown == evidence.marked("", "", glossed=True)
        assert view.html.count("<mark ") == evidence.marked().count("[")
