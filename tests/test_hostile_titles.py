"""Hostile feed titles through a real feed and SMTP server: every email arrives whole and as built.

Each received message is checked as a whole: one header block with exactly the alert's
headers, a multipart/alternative of one text/plain and one text/html part, the
subscriber as the only recipient, a Message-ID, and nothing of the title outside the
Subject and the body text.
"""

from __future__ import annotations

import email.policy
from collections import Counter
from collections.abc import Callable
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from tests.delivery import BAN, Entry, cycle, feed_source, feed_xml
from tests.mailserver import MailServer
from tests.servers import FeedServer, Route
from watcher.config import WatcherConfig
from watcher.domain.errors import UnsafeMessageError
from watcher.notify.channels.mail.headers import (
    ALERT_HEADERS,
    MAIL_POLICY,
    WITHHELD_TITLE,
    check_headers,
    clean_title,
)

MakeConfig = Callable[..., WatcherConfig]
SUBSCRIBER = "analyst@example.com"
INJECTED = "text/html\r\n\r\n<img src=https://attacker.example/p.gif>"


def _q(text: str) -> str:
    """`text` as one RFC 2047 Q-encoded UTF-8 word."""
    body = "".join(
        chr(b) if chr(b).isalnum() and b < 128 else "_" if b == 32 else f"={b:02X}"
        for b in text.encode("utf-8")
    )
    return f"=?UTF-8?Q?{body}?="


# classes of attack, each in forms of its own: a valid encoded word carrying CR/LF next to
# one nothing can decode (unknown charset, bad base64, bad bytes for the charset), a
# smuggled encoded word inside a decoded one, raw CR/LF, and Unicode line separators
HOSTILE = [
    f"Dy ban {_q(chr(13) + chr(10) + 'Content-Type: ' + INJECTED)} =?x-no-such?Q?zz?=",
    f"Dy ban {_q(chr(13) + chr(10) + 'Bcc: evil@example.net')} =?klingon?B?AAAA?=",
    f"{_q(chr(10) + chr(10) + 'MIME-Version: 1.0')} =?UTF-8?B?%%%notbase64?=",
    f"{_q('a' + chr(13) + chr(10) + 'Cc: x@example.net')} =?ascii?Q?=FF=FE?=",
    f"Double {_q('=?UTF-8?Q?=0D=0ABcc:_evil@example.net?=')}",
    "=?utf-7?Q?+AA0ACg-Bcc:_evil@example.net?= =?bogus?Q?x?=",
    "Dy ban\r\n\r\nContent-Type: text/html\r\n\r\n<b>owned</b>",
    "Dy ban\u2028Bcc: evil@example.net\x85Reply-To: evil@example.net",
    "=?UTF-8?Q?=E2=80=A8Message-ID:_<evil@x>?= =?iso-8859-1?Q?caf=E9?= =?nope?Q?end?=",
]


def _check_whole(raw: bytes) -> EmailMessage:
    """Assert `raw` is an alert exactly as built; returns it parsed."""
    parsed = BytesParser(policy=email.policy.default).parsebytes(raw)
    assert isinstance(parsed, EmailMessage)
    names = Counter(name.lower() for name in parsed)
    assert set(names) <= ALERT_HEADERS, names
    assert max(names.values()) == 1, names
    for required in ("from", "to", "subject", "message-id", "date", "content-type"):
        assert required in names, required
    assert parsed.get_content_type() == "multipart/alternative"
    parts = list(parsed.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    for part in parts:
        assert {n.lower() for n in part} == {"content-type", "content-transfer-encoding"}
        assert not part.defects
    assert not parsed.defects
    subject = str(parsed["Subject"])
    assert "\r" not in subject
    assert "\n" not in subject
    assert "=?" not in subject  # no encoded word survives decoding
    assert [a.addr_spec for a in parsed["To"].addresses] == [SUBSCRIBER]
    html = parts[1].get_content().lower()
    assert "<img" not in html
    assert "<b>owned</b>" not in html
    return parsed


@pytest.mark.parametrize("title", HOSTILE)
async def test_every_hostile_title_still_mails_one_whole_alert(
    feed_server: FeedServer, mail_server: MailServer, make_config: MakeConfig, title: str
) -> None:
    """The alert goes out once, to the subscriber alone, with exactly the built headers, parts."""
    body = BAN[1]
    feed_server.routes["/f"] = Route(
        feed_xml([Entry(title, body, "g1", "https://example.com/1")])
        .replace(b"\r", b"&#13;")
        .replace(b"\n", b"&#10;")
    )
    config = make_config(
        sources=[feed_source(feed_server.url("/f"))], smtp=mail_server.smtp_config()
    )
    report = await cycle(config)
    assert len(mail_server.handler.raw) == 1, report
    assert mail_server.handler.envelopes[0][1] == [SUBSCRIBER]
    _check_whole(mail_server.handler.raw[0])


@pytest.mark.parametrize("title", HOSTILE)
def test_a_cleaned_title_reads_back_as_itself(title: str) -> None:
    """The cleaned title is one line, no encoded word, and the email package keeps it as is."""
    cleaned = clean_title(title)
    assert cleaned.isprintable()
    assert "=?" not in cleaned
    assert str(MAIL_POLICY.header_factory("Subject", cleaned)) == cleaned


def test_undecodable_words_stay_text_and_valid_ones_are_decoded() -> None:
    """A word in an unknown charset is kept literally; its valid neighbour is decoded."""
    cleaned = clean_title("=?UTF-8?Q?Gallium_=E2=80=94_ban?= =?x-unknown?Q?rest?=")
    assert cleaned.startswith("Gallium — ban")
    assert "x-unknown" in cleaned
    assert "rest" in cleaned


def test_the_check_refuses_a_message_whose_subject_folds_into_a_body() -> None:
    """A raw encoded CR/LF in a Subject set past the cleaner is caught in the whole message."""
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = "watch@example.org"
    message["To"] = SUBSCRIBER
    message["Message-ID"] = "<m.1@example.org>"
    message["Subject"] = f"Dy {_q(chr(13) + chr(10) + chr(13) + chr(10) + 'x')} =?bad?Q?y?="
    message.set_content("text")
    message.add_alternative("<p>html</p>", subtype="html")
    with pytest.raises(UnsafeMessageError, match=r"refused to send <m\.1@example\.org>"):
        check_headers(message, SUBSCRIBER)


def test_the_check_refuses_a_body_that_forges_a_mime_part() -> None:
    """A payload line that is the boundary makes a part the builder never made: refused."""
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = "watch@example.org"
    message["To"] = SUBSCRIBER
    message["Message-ID"] = "<m.2@example.org>"
    message["Subject"] = "plain"
    message.set_content("text\n--BOUNDARY\nContent-Type: text/html\n\n<img src=x>\n")
    message.add_alternative("<p>html</p>", subtype="html")
    message.set_boundary("BOUNDARY")
    with pytest.raises(UnsafeMessageError, match="MIME parts"):
        check_headers(message, SUBSCRIBER)
    assert WITHHELD_TITLE.isprintable()


PRINTABLE_WITHOUT_WORD_START = [
    "?= Gallium ?= quota",
    "= ? not an encoded word = ?",
    '"quoted" (comment) <angle> [bracket] \\ back:slash; semi, comma @ at',
    "  leading and  doubled   spaces ",
    "trailing space ",
    "稀土出口管制 镝和铽 Zoë – naïve €5,000 …",
]


@pytest.mark.parametrize("value", PRINTABLE_WITHOUT_WORD_START)
def test_a_printable_value_without_an_encoded_word_start_is_kept_by_the_parser(
    value: str,
) -> None:
    """What `clean_title` trusts without parsing: such a Subject reads back as itself."""
    assert str(MAIL_POLICY.header_factory("Subject", value)) == value
