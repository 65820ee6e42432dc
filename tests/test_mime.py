"""The alert email as it goes on the wire: what a mail client decodes is what was rendered."""

from __future__ import annotations

import email.policy
import random
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from tests.test_render import outbound
from watcher.config import WatcherConfig
from watcher.domain.errors import UnsafeMessageError
from watcher.notify.channels.mail.alert import render_alert_mail, subject_for
from watcher.notify.channels.mail.headers import check_headers, fold_subject

MakeConfig = Callable[..., WatcherConfig]
NOW = datetime(2025, 7, 3, 9, 0, tzinfo=UTC)
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
