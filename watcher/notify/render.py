"""Build the email for an outbound alert: text and HTML parts, safe headers.

Text from feeds is untrusted: it is flattened to one line and stripped of control
characters before it reaches a header, and autoescaped in the HTML part. Links are
kept only for http(s).
"""

from __future__ import annotations

import email.policy
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

import jinja2
from markupsafe import Markup, escape

from watcher.config import WatcherConfig
from watcher.items import Direction, Evidence, Outbound, Signal
from watcher.sources.html import one_line

MAX_SUBJECT_TITLE = 120
_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("watcher.notify", "templates"),
    autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
    undefined=jinja2.StrictUndefined,
    trim_blocks=False,
)


@dataclass(frozen=True, slots=True)
class _EvidenceView:
    text_marked: str
    html_marked: Markup
    in_title: bool


def safe_header_text(text: str, limit: int = MAX_SUBJECT_TITLE) -> str:
    """One line, no control characters, at most `limit` characters (with an ellipsis)."""
    flat = one_line("".join(c if c.isprintable() else " " for c in text))
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def subject_for(outbound: Outbound, config: WatcherConfig) -> str:
    """`[Supply Watch] Export control · tightening · Dy, Tb · <title>`."""
    labels = ", ".join(dict.fromkeys(config.signal_label(s.type) for s in outbound.signals))
    directions = {s.direction for s in outbound.signals}
    direction = directions.pop().value if len(directions) == 1 else "mixed"
    elements: list[str] = []
    for signal in outbound.signals:
        elements.extend(e for e in signal.entities.elements if e not in elements)
    parts = ["[Supply Watch] " + labels, direction]
    if elements:
        parts.append(", ".join(elements[:4]) + ("…" if len(elements) > 4 else ""))
    parts.append(safe_header_text(outbound.item.title or "(untitled report)"))
    return " · ".join(parts)


def render_alert(
    outbound: Outbound, config: WatcherConfig, now: datetime | None = None
) -> EmailMessage:
    """The complete RFC 5322 message for one outbound alert."""
    now = now or datetime.now(UTC)
    context = {
        "headline": safe_header_text(outbound.item.title or "(untitled report)", 300),
        "signals": [_signal_view(s, config) for s in outbound.signals],
        "source": outbound.item.source,
        "published": _when(outbound.item.published),
        "link": _safe_link(outbound.item.link),
        "recipient": outbound.subscriber,
    }
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = config.mail.sender
    message["To"] = _address(outbound.subscriber)
    message["Subject"] = subject_for(outbound, config)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = outbound.message_id
    message["Auto-Submitted"] = "auto-generated"
    message["List-Id"] = f"Supply Watcher alerts <alerts.{config.mail.domain}>"
    message["X-Supply-Watcher-Signals"] = ", ".join(
        f"{s.type}:{s.direction.value}" for s in outbound.signals
    )
    message.set_content(_ENV.get_template("alert.txt.j2").render(context))
    message.add_alternative(_ENV.get_template("alert.html.j2").render(context), subtype="html")
    return message


def _signal_view(signal: Signal, config: WatcherConfig) -> dict[str, object]:
    return {
        "label": config.signal_label(signal.type),
        "rule": signal.rule,
        "direction": signal.direction.value,
        "tightening": signal.direction is Direction.TIGHTENING,
        "severity": signal.severity.value,
        "score": signal.score,
        "speculative": signal.speculative,
        "evidence": [_evidence_view(e) for e in signal.evidence],
        "elements": list(signal.entities.elements),
        "products": list(signal.entities.products),
        "countries": list(signal.entities.countries),
    }


def _evidence_view(evidence: Evidence) -> _EvidenceView:
    html = Markup("")
    pos = 0
    sentence = evidence.sentence
    for span in sorted(evidence.spans, key=lambda s: s.start):
        if span.start < pos:
            continue
        html += escape(sentence[pos : span.start])
        html += Markup('<mark style="background:#fde68a;">{}</mark>').format(
            sentence[span.start : span.end]
        )
        pos = span.end
    html += escape(sentence[pos:])
    return _EvidenceView(one_line(evidence.marked()), html, evidence.in_title)


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "date unknown"


def _safe_link(link: str | None) -> str | None:
    if link and link.lower().startswith(("http://", "https://", "file://")):
        return link
    return None


def _address(text: str) -> Address | str:
    name, address = parseaddr(text)
    username, _, domain = address.rpartition("@")
    if username and domain:
        return Address(display_name=name, username=username, domain=domain)
    return address
