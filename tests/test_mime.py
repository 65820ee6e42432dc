"""The alert email as it goes on the wire: what a mail client decodes is what was rendered."""

from __future__ import annotations

import dataclasses
import email.policy
import random
import re
from datetime import timedelta
from email import quoprimime
from email.header import decode_header, make_header
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jinja2
import pytest
from jinja2.filters import do_wordwrap

from tests.delivery import BAN
from tests.test_render import NOW, MakeConfig, outbound
from watcher.domain.errors import UnsafeMessageError
from watcher.notify.channels.mail.alert import (
    AlertStyle,
    assemble_alert,
    render_alert,
    render_alert_mail,
    subject_for,
    templates,
    text_part,
)
from watcher.notify.channels.mail.headers import (
    MAIL_POLICY,
    check_headers,
    clean_title,
    fold_subject,
)
from watcher.notify.channels.mail.mime import (
    Part,
    assemble,
    check_assembled,
    encode_text,
    qp_body,
    wordwrap,
)
from watcher.notify.channels.mail.notice import render_notice
from watcher.notify.channels.mail.outgoing import Outgoing
from watcher.public.tokens import UNSUBSCRIBE
from watcher.store.notices import Notice

_WORDS = (
    "China", "bans", "dysprosium", "exports", "Nestam", "Ltd", "reroutes", "quota", "weighs",
    "on", "Minas", "Zoë", "Müller", "São", "Paulo", "稀土出口管制", "镝和铽", "–", "·", "…",
    "Ñandú", "price", "12%", "'quoted'", "(2025)", "a", "ESKBAR", "ALTORTOR,", "2", "November:",
    "x" * 30, "naïve", "€5,000", "日本", "on:", "=", "?", "_under_", "Kelriv",
)  # fmt: skip


def generated_titles(count: int, seed: int = 20) -> list[str]:
    """`count` titles of 1–18 words, ASCII and not, short and over the subject's length."""
    rng = random.Random(seed)
    return [" ".join(rng.choices(_WORDS, k=rng.randrange(1, 18))) for _ in range(count)]


def sent_subject(data: bytes) -> str:
    """The Subject a mail client shows: parsed and decoded by the standard parser."""
    parsed = BytesParser(policy=email.policy.default).parsebytes(data, headersonly=True)
    return str(parsed["Subject"])


def test_every_sent_subject_decodes_to_the_subject_rendered(make_config: MakeConfig) -> None:
    """400 subjects with encoded words next to each other and at folds: no space lost or added.

    The `email` package folded `reroutes… · Export control` into two adjacent encoded
    words with only folding white space between them, which RFC 2047 readers drop:
    clients showed `reroutes…· Export control`.
    """
    config = make_config()
    subscriber = config.subscribers[0]
    titles = [
        "ESKBAR ALTORTOR, 2 November: Nestam Ltd reroutes exports of dysprosium",
        "CASJUN MARVENZEL, 19 December: Postponed quota weighs on Minas Gerais output",
        *generated_titles(400),
    ]
    wrong = []
    for title in titles:
        alert = outbound(title=title)
        sent = render_alert_mail(alert, config, subscriber, NOW)
        expected = subject_for(alert, config)
        if sent_subject(sent.data) != expected:
            wrong.append((expected, sent_subject(sent.data)))
    assert wrong == []


@pytest.mark.parametrize(
    "subject",
    [
        "China bans dysprosium exports · Export control",
        "ESKBAR ALTORTOR, 2 November: Nestam Ltd reroutes… · Export control",
        "稀土出口管制收紧，镝和铽的出口许可证暂停发放，直至另行通知为止，影响所有 · Export control",
        "A plain ASCII subject that is long enough to need folding at a space somewhere · Quota",
        "x" * 90 + " · Quota delay",
        "=?utf-8?q?looks_encoded?= but is text · Export control",
        "two  spaces and a trailing one ",
        " leading space",
        "",
    ],
)
def test_a_folded_subject_unfolds_and_decodes_to_itself(subject: str) -> None:
    """Lines within 78 columns (unless one word is longer), CRLF, and the value read back."""
    folded = fold_subject("Subject", subject, "\r\n", 78)
    assert folded.endswith("\r\n")
    lines = folded.removesuffix("\r\n").split("\r\n")
    assert all(line[:1] in (" ", "\t") for line in lines[1:])
    # a line is longer only when it holds a single word longer than a line
    assert all(len(line) <= 78 or len(line.split()) == 1 + (i == 0) for i, line in enumerate(lines))
    assert folded.isascii()
    parsed = BytesParser(policy=email.policy.default).parsebytes(folded.encode() + b"\r\n")
    assert str(parsed["Subject"]) == subject


def test_every_admin_notice_subject_decodes_to_the_subject_set(make_config: MakeConfig) -> None:
    """A notice's Subject is folded as an alert's is: no space lost or doubled as it is sent.

    Notices were folded by the `email` package's SMTP policy, which left the space between
    `reroutes…` and `·` outside the encoded words, where readers drop it.
    """
    config = make_config(admins=["ops@example.org"])
    subjects = [
        "Nestam Ltd reroutes… · Export control",
        "Source “Zoë’s metals” failing · 5 errors",
        *generated_titles(200, seed=21),
    ]
    wrong = []
    for number, subject in enumerate(subjects):
        notice = Notice(number, f"k{number}", subject, "body", f"<n.{number}@example.org>", 0)
        message = render_notice(notice, config, NOW)
        shown = sent_subject(Outgoing.of(message).data)
        if shown != str(message["Subject"]):
            wrong.append((str(message["Subject"]), shown))
    assert wrong == []


def test_the_check_refuses_a_subject_that_reads_back_otherwise() -> None:
    """Folded by the `email` package's own SMTP policy, this subject loses a space: refused."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = "watch@example.org"
    message["To"] = "analyst@example.com"
    message["Message-ID"] = "<m.3@example.org>"
    message["Subject"] = "ESKBAR ALTORTOR, 2 November: Nestam Ltd reroutes… · Export control"
    message.set_content("text")
    assert sent_subject(message.as_bytes()) != str(message["Subject"])  # the stdlib's bug
    with pytest.raises(UnsafeMessageError, match="Subject reads back other than it was set"):
        check_headers(message, "analyst@example.com")


def rfc2047_shown(data: bytes, name: str) -> str:
    """Header `name` as an RFC 2047 reader shows it: unfolded, encoded words decoded, the
    white space between two encoded words ignored (§6.2), as mail clients do."""
    parsed = BytesParser(policy=email.policy.compat32).parsebytes(data, headersonly=True)
    raw = re.sub(r"\r?\n(?=[ \t])", "", str(parsed[name])).strip()
    return str(make_header(decode_header(raw)))


def test_every_sent_to_name_reads_back_in_an_rfc2047_reader(make_config: MakeConfig) -> None:
    """300 subscriber names, ASCII and not, long and short: each To shows the name set.

    The `email` package folded a long mixed-script display name into encoded words with
    the space between two of them outside both, where RFC 2047 readers drop it: about
    one long mixed name in fourteen showed as `ZoëMüller`.
    """
    config = make_config()
    subscriber = config.subscribers[0]
    wrong = []
    for name in ["研究部 办公室 办公室 Ärger São Öl 研究部 Team 办公室 Paulo Zoë Paulo Müller"] + [
        title for title in generated_titles(300, seed=5) if not title.isascii()
    ]:
        named = subscriber.model_copy(update={"name": name})
        sent = render_alert_mail(outbound(), config, named, NOW)
        expected = f"{clean_title(name, 80)} <{subscriber.email}>"
        if rfc2047_shown(sent.data, "To") != expected:
            wrong.append((expected, rfc2047_shown(sent.data, "To")))
    assert wrong == []


def test_the_check_refuses_a_to_name_that_reads_back_otherwise() -> None:
    """Folded by the `email` package's own SMTP policy, this name loses a space: refused."""
    name = "研究部 办公室 办公室 Ärger São Öl 研究部 Team 办公室 Paulo Zoë Paulo Müller"
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = "watch@example.org"
    message["To"] = Address(name, "analyst", "example.com")
    message["Message-ID"] = "<m.4@example.org>"
    message["Subject"] = "Export control"
    message.set_content("text")
    assert rfc2047_shown(message.as_bytes(), "To") != f"{name} <analyst@example.com>"  # the bug
    with pytest.raises(UnsafeMessageError, match="display name"):
        check_headers(message, "analyst@example.com")


_BODIES = [
    BAN[1],
    "中国暂停向美国出口镝和铽。\n" * 3,
    ("稀土出口管制收紧，镝和铽的出口许可证暂停发放，直至另行通知为止，影响所有买家。" * 3 + "\n")
    * 12,
    "=" * 40 + " a body full of equals signs " + "=" * 40,
    "Trailing spaces   \n.dot at a line start\r\nCRLF line\rand a CR " + "x" * 200,
    "Zoë Müller – naïve €5,000 · " * 30,
]


def test_the_sent_bytes_are_those_the_email_package_would_generate(
    make_config: MakeConfig, tmp_path: Path
) -> None:
    """`render_alert_mail` (assembled directly) == `render_alert(...).as_bytes()`, byte for byte.

    With a signed one-click link, an unsigned `unsubscribe_url`, and neither; over ASCII,
    CJK and long-lined bodies and the generated titles; every one passes `check_assembled`.
    """
    key = tmp_path / "links.key"
    key.write_text("mime-key\n", encoding="utf-8")
    configs = [
        make_config(),
        make_config(mail={"unsubscribe_url": "https://watch.example/unsub"}),
        make_config(
            public={"base_url": "https://watch.example", "secret_file": str(key)},
            subscribers=[{"email": "zoe@example.com", "name": "Zoë Müller, Analyst"}],
        ),
    ]
    titles = generated_titles(60, seed=3)
    for index, title in enumerate(titles):
        config = configs[index % len(configs)]
        subscriber = config.subscribers[0]
        alert = outbound(title=title, body=_BODIES[index % len(_BODIES)])
        sent = render_alert_mail(alert, config, subscriber, NOW)
        assert sent.data == render_alert(alert, config, subscriber, NOW).as_bytes()
        assert sent.message_id == alert.message_id
        assert sent.recipients == (subscriber.address,)
        assert sent.sender == "alerts@supply-watcher.invalid"
        parsed = check_assembled(assemble_alert(alert, config, subscriber, NOW), subscriber.address)
        assert str(parsed["Subject"]) == subject_for(alert, config)


def test_check_assembled_refuses_bytes_that_read_otherwise(make_config: MakeConfig) -> None:
    """A Subject altered on the wire, a part's text altered, a To for someone else: refused."""
    config = make_config()
    subscriber = config.subscribers[0]
    good = assemble_alert(outbound(), config, subscriber, NOW)
    check_assembled(good, subscriber.address)
    swaps = [
        (b"Subject: China bans", b"Subject: China ban"),
        (b"export ban on dysprosium", b"export ban on dysprosiun"),
        (b"To: Analyst <analyst@example.com>", b"To: Analyst <other@example.com>"),
    ]
    for old, new in swaps:
        assert old in good.data
        bad = dataclasses.replace(good, data=good.data.replace(old, new))
        with pytest.raises(UnsafeMessageError, match=r"refused to send <id\.1@watch\.example>"):
            check_assembled(bad, subscriber.address)
    with pytest.raises(UnsafeMessageError, match="To is"):
        check_assembled(good, "other@example.com")


def test_the_structural_check_refuses_a_forged_header_or_part() -> None:
    """A header value with a line break, or a payload holding the boundary: refused."""
    part = Part.of("text\n", "plain")
    with pytest.raises(UnsafeMessageError, match="line break inside X-Supply-Watcher-Signals"):
        assemble(
            [("Subject", "hi", False), ("X-Supply-Watcher-Signals", "a\r\nBcc: x", False)],
            [part],
            "BOUNDARY",
        )
    written = assemble([("Subject", "hello", False)], [part], "BOUNDARY")
    smuggled = dataclasses.replace(written, data=written.data.replace(b"hello", b"hi\r\nBcc: x"))
    with pytest.raises(UnsafeMessageError, match="header lines"):
        smuggled.check()
    forged = assemble(
        [("Subject", "hello", False)],
        [Part.of("text\n--BOUNDARY\nContent-Type: text/html\n\n<img>\n", "plain")],
        "BOUNDARY",
    )
    with pytest.raises(UnsafeMessageError, match="MIME structure"):
        forged.check()
    assert assemble([("Subject", "hello", False)], [part], "BOUNDARY").check()


def _qp_inputs(count: int) -> list[bytes]:
    rng = random.Random(45)
    pieces = [
        "a", "word ", " ", "\t", "=", ".", "\n", "\r\n", "\r", "é", "稀土", "€", "…", "x" * 70,
        "From ", "  \n", "\t\n", "=\n", "\x0b", "\x85", "\u2028", "~", "_",
    ]  # fmt: skip
    made = ["".join(rng.choices(pieces, k=rng.randrange(0, 60))) for _ in range(count)]
    made += [" " * n + "\n" for n in range(74, 82)] + ["y" * n + " " for n in range(70, 160)]
    made += ["y" * n + "=" + "z" * 20 for n in range(60, 80)]
    return [text.encode("utf-8") for text in made]


def test_the_fast_quoted_printable_encoder_matches_the_stdlib() -> None:
    """`qp_body` == `quoprimime.body_encode` over 2,000+ inputs, at several line lengths."""
    for data in _qp_inputs(2000):
        for width in (76, 78):
            assert qp_body(data, width) == quoprimime.body_encode(data.decode("latin-1"), width)


def _wrap_inputs(count: int) -> list[str]:
    rng = random.Random(76)
    pieces = [
        "word", "a", "tungsten", "x" * 75, "y" * 80, "export-control", "--", "—", "稀土",
        "…", "\u00a0", "\u2028", "\x1c", "\t", "\n", "  ", "\r\n", "\x0b", "é", "12,000", "(2025)",
    ]  # fmt: skip
    made = []
    for _ in range(count):
        words = rng.choices(pieces, k=rng.randrange(0, 80))
        made.append("".join(w if rng.random() < 0.2 else w + " " for w in words))
    return made + [" ".join(["ab"] * n) for n in range(30, 50)]


def test_the_fast_word_wrap_matches_jinjas() -> None:
    """The `wordwrap` filter gives Jinja's own text for 2,000+ inputs and several widths."""
    environment = jinja2.Environment()
    for text in _wrap_inputs(2000):
        for width in (10, 40, 76):
            assert wordwrap(environment, text, width) == do_wordwrap(environment, text, width)
    assert templates().filters["wordwrap"] is wordwrap


def test_the_part_encoder_matches_set_content_over_generated_texts() -> None:
    """`encode_text` == `EmailMessage.set_content(text)` (transfer encoding and payload)
    for 600 texts of 0–40 lines: short and long, ASCII and not, `=`, trailing white space,
    control characters; so 7bit, 8bit, quoted-printable (under and over ten lines, a long
    line before or after the tenth) and base64 are all chosen."""
    rng = random.Random(64)
    pieces = [
        "word ", "=", 'style="a:b;" ', "稀土", "…", "x" * 70, " ", "\t", "é", "\x0b", "\x1c",
        "\x85", "\u2028", "<b>", "From ", ".", "~",
    ]  # fmt: skip
    chosen = set()
    for _ in range(600):
        lines = [
            "".join(rng.choices(pieces, k=rng.randrange(0, rng.choice((3, 12, 40)))))
            for _ in range(rng.randrange(0, 40))
        ]
        text = "\n".join(lines) + rng.choice(("", "\n", "\r\n"))
        reference = EmailMessage(policy=MAIL_POLICY)
        reference.set_content(text)
        encoding = encode_text(text)[0]
        part = text_part(text, "plain")  # the payload set as `set_content` sets it
        assert encoding == reference["Content-Transfer-Encoding"]
        assert part.get_payload() == reference.get_payload()
        assert (
            part.as_bytes().split(b"\r\n\r\n", 1)[1]
            == reference.as_bytes().split(b"\r\n\r\n", 1)[1]
        )
        chosen.add(encoding)
    assert chosen == {"7bit", "8bit", "quoted-printable", "base64"}


def test_an_alerts_unsubscribe_link_is_the_one_signed_for_its_second(
    make_config: MakeConfig, tmp_path: Path
) -> None:
    """`AlertStyle.unsubscribe_link` (signed once per address, list and second) gives the
    link `Links.unsubscribe` signs at that moment: one for every alert in a second, a new
    one the next second, its own for each address and list, and it checks as theirs."""
    key = tmp_path / "links.key"
    key.write_text("cache-key\n", encoding="utf-8")
    config = make_config(public={"base_url": "https://watch.example", "secret_file": str(key)})
    style = AlertStyle.of(config)
    assert style.links is not None
    start = NOW.replace(microsecond=0)
    seen = set()
    for offset_ms in (0, 1, 400, 999, 1000, 1500, 61_000):
        now = start + timedelta(milliseconds=offset_ms)
        for address in ("analyst@example.com", "zoe@example.com"):
            for list_name in ("alerts", "digest"):
                link = style.unsubscribe_link(address, list_name, now)
                assert link == style.links.unsubscribe(address, list_name, now)
                token = parse_qs(urlsplit(link or "").query)["token"][0]
                claim = style.links.tokens.check(token, UNSUBSCRIBE, now)
                assert (claim.address, claim.list) == (address, list_name)
                assert claim.signed_at == now.replace(microsecond=0)
                seen.add(link)
    assert len(seen) == 3 * 2 * 2  # 3 distinct seconds, 2 addresses, 2 lists


def test_the_fast_word_wrap_matches_jinjas_on_hyphenated_words() -> None:
    """Hyphens and em-dashes where a line breaks (`textwrap` may split a word there):
    Jinja's own text for 3,000 lines at several widths, hyphen breaking on and off."""
    rng = random.Random(77)
    pieces = [
        "year-on-year", "state-of-the-art", "-ab-cd", "a--b", "word--next", "x-", "-", "--",
        "ab-", "-5%", "12-15", "Nd-Pr", "re-export", "export-control-related", "稀土-出口",
        "é-à", "a", "tungsten", "quota", "mid-2025", "---", "x" * 20,
    ]  # fmt: skip
    environment = jinja2.Environment()
    for _ in range(3000):
        line = " ".join(rng.choices(pieces, k=rng.randrange(1, 30)))
        for width in (6, 11, 20, 40, 76):
            for hyphens in (True, False):
                mine = wordwrap(environment, line, width, break_on_hyphens=hyphens)
                assert mine == do_wordwrap(environment, line, width, break_on_hyphens=hyphens)
