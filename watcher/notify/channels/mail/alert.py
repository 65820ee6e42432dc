"""Build the email for an outbound alert: a text part, an HTML part, safe headers.

Rendering needs only the config's mail section and signal labels (`MailSettings`):
the dispatcher renders alerts in the worker processes from an `AlertStyle`, the digest
from the config itself. The alert's parts are written by `alert_bodies` (the text the
Jinja templates give) and its bytes assembled directly (`mime`): the same bytes
`render_alert(...).as_bytes()` gives with the templates and the `email` package, at a
fraction of the CPU; `render_alert` stays as the reference for the tests and
`watcher send-test`, and the digest's `build_message` renders its templates.

Text from feeds is untrusted. Titles reach the subject only through `clean_title`;
the summary goes through nh3 (no tag but a few inline ones, links only http/https)
before the HTML, which escapes everything else; the item's link is a link only when it
is http(s) — a local document (`file://`) is shown as plain text.
"""

from __future__ import annotations

import functools
import random
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Protocol, TypeVar
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import structlog
from markupsafe import Markup

from watcher.config import MailConfig, Subscriber, WatcherConfig, readable_signal_type
from watcher.domain.errors import UnsafeMessageError
from watcher.domain.items import Direction, Evidence, Item, Outbound, Signal
from watcher.notify.channels.mail.alert_bodies import alert_html, alert_text, escape_html
from watcher.notify.channels.mail.headers import (
    MAIL_POLICY,
    WITHHELD_TITLE,
    check_headers,
    clean_title,
    list_headers,
    recipient,
    reused_header,
)
from watcher.notify.channels.mail.mime import (
    Assembled,
    FoldedHeaders,
    Part,
    assemble,
    encode_text,
    wordwrap,
)
from watcher.notify.channels.mail.outgoing import Outgoing
from watcher.notify.channels.mail.presentation import (
    accent,
    severity_colour,
    severity_marks,
    subject_line,
)
from watcher.public.links import Links
from watcher.sources.html import html_to_text, one_line

if TYPE_CHECKING:
    import jinja2

log = structlog.get_logger(__name__)
T = TypeVar("T")
SUMMARY_CHARS = 480
# an alert's own headers whose values repeat across emails: parsed and folded once
REPEATING = frozenset({"X-Supply-Watcher-Signals"})
_SUMMARY_TAGS = {"a", "b", "i", "em", "strong", "br"}


@functools.cache
def templates() -> jinja2.Environment:
    """The templates' environment, made (and jinja2 imported) on the first render only.

    A round that sends nothing (an idle `run --once`) never imports jinja2.
    """
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("watcher.notify.channels.mail", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=jinja2.StrictUndefined,
        auto_reload=False,  # the templates ship with the package: never stat them again
    )
    environment.filters["wordwrap"] = jinja2.pass_environment(wordwrap)
    return environment


@functools.cache
def compiled(name: str) -> jinja2.Template:
    """`templates().get_template(name)`, compiled once per process and kept."""
    return templates().get_template(name)


class MailSettings(Protocol):
    """What rendering needs of the config (a `WatcherConfig` is one)."""

    @property
    def mail(self) -> MailConfig: ...

    def signal_label(self, signal_type: str) -> str: ...

    def unsubscribe_link(self, address: str, list_name: str, now: datetime) -> str | None: ...


@dataclass(frozen=True, slots=True)
class AlertStyle:
    """A config's `MailSettings` alone: small enough to send with every alert to a worker."""

    mail: MailConfig
    labels: Mapping[str, str]
    links: Links | None = None

    @classmethod
    def of(cls, config: WatcherConfig) -> AlertStyle:
        """The mail section, every configured signal type's label, the link signer."""
        return cls(
            config.mail, {t: config.signal_label(t) for t in config.signals}, Links.of(config)
        )

    def signal_label(self, signal_type: str) -> str:
        """As `WatcherConfig.signal_label`."""
        return self.labels.get(signal_type) or readable_signal_type(signal_type)

    def unsubscribe_link(self, address: str, list_name: str, now: datetime) -> str | None:
        """As `WatcherConfig.unsubscribe_link`; signed once per address, list and second.

        A token is stamped to the second (`Tokens.sign`), so every alert rendered for
        one subscriber within a second carries the same link: it is signed once and
        reused (`_SIGNED`), not signed again for each of them.
        """
        if self.links is None:
            return None
        key = (self.links, address, list_name, int(now.astimezone(UTC).timestamp()))
        link = _SIGNED.get(key)
        if link is None:
            if len(_SIGNED) >= 1024:
                _SIGNED.clear()
            link = _SIGNED[key] = self.links.unsubscribe(address, list_name, now)
        return link


_SIGNED: dict[tuple[Links, str, str, int], str] = {}
"""Signed unsubscribe links by (signer, address, list, second): see `unsubscribe_link`."""


def subject_for(
    outbound: Outbound,
    config: MailSettings,
    headline: str | None = None,
    severest: Sequence[Signal] | None = None,
) -> str:
    """`<headline> · Export control +1`: the headline first, within `SUBJECT_CHARS`.

    An item that adds a fact to a story it joined says so first (`Update: …`). The type
    named is the most severe one. `headline` and `severest`, when given, are the item's
    cleaned title (`headline_of`) and `most_severe_first(outbound)`, already made for the
    alert's parts.
    """
    if severest is None:
        severest = most_severe_first(outbound)
    labels = list(dict.fromkeys(config.signal_label(s.type) for s in severest))
    title = headline_of(outbound.item) if headline is None else headline
    if outbound.story_news:
        title = f"Update: {title}"
    return subject_line(title, labels, {s.direction for s in outbound.signals})


def headline_of(item: Item) -> str:
    """The item's title as the alert shows it (`clean_title`, at most 300 characters)."""
    return clean_title(item.title or "(untitled report)", 300)


def most_severe_first(outbound: Outbound) -> list[Signal]:
    """The alert's signals, most severe first (rule order among equals)."""
    return sorted(outbound.signals, key=lambda s: -s.severity.rank)


def render_alert(
    outbound: Outbound, config: MailSettings, subscriber: Subscriber, now: datetime
) -> EmailMessage:
    """The complete, header-checked RFC 5322 message for one outbound alert."""
    return _checked_alert(outbound, config, subscriber, now)[0]


def render_alert_mail(
    outbound: Outbound, config: MailSettings, subscriber: Subscriber, now: datetime
) -> Outgoing:
    """The alert's bytes as they are sent, assembled directly and checked (`mime`).

    The same bytes as `render_alert(...).as_bytes()`, at a fraction of the CPU.
    """
    assembled = assemble_alert(outbound, config, subscriber, now)
    return outgoing(assembled, outbound.message_id, config, subscriber)


def outgoing(
    assembled: Assembled, message_id: str, config: MailSettings, subscriber: Subscriber
) -> Outgoing:
    """`assembled` with its envelope: from `mail.sender`'s address, to the subscriber's."""
    senders = getattr(reused_header("From", config.mail.sender), "addresses", ())
    return Outgoing(
        message_id=message_id,
        sender=senders[0].addr_spec if senders else "",
        recipients=(recipient(subscriber).addr_spec,),
        data=assembled.data,
    )


def assemble_alert(
    outbound: Outbound, config: MailSettings, subscriber: Subscriber, now: datetime
) -> Assembled:
    """The alert assembled and structurally checked (`Assembled.check`); the title withheld
    if the alert fails with it (`_title_withheld_if_unsafe`)."""

    def checked(headers: dict[str, str], view: AlertView) -> Assembled:
        link = config.unsubscribe_link(subscriber.address, "alerts", now)
        unsubscribe = config.mail.unsubscribe_address
        text = alert_text(view, unsubscribe, link or "")
        html = alert_html(view, unsubscribe, link or "")
        assembled = assemble_message(config, subscriber, headers, (link, text, html), now)
        assembled.check()
        return assembled

    return _title_withheld_if_unsafe(outbound, config, subscriber, checked)


def _checked_alert(
    outbound: Outbound, config: MailSettings, subscriber: Subscriber, now: datetime
) -> tuple[EmailMessage, bytes]:
    """The alert built with the `email` package and its checked bytes; the title withheld
    if the alert fails with it (`_title_withheld_if_unsafe`)."""

    def checked(headers: dict[str, str], view: AlertView) -> tuple[EmailMessage, bytes]:
        message = compose_message(config, subscriber, headers, "alert", view.context(), now)
        return message, check_headers(message, subscriber.address)

    return _title_withheld_if_unsafe(outbound, config, subscriber, checked)


def _title_withheld_if_unsafe(
    outbound: Outbound,
    config: MailSettings,
    subscriber: Subscriber,
    build: Callable[[dict[str, str], AlertView], T],
) -> T:
    """`build(headers, view)` of the alert; if its title fails the check, of the alert
    without it.

    A feed must not be able to suppress its own alert with a title that makes the
    message unsafe: the title is replaced by `WITHHELD_TITLE` and `build` runs again
    (`UnsafeMessageError` only if the message is unsafe without the feed's title too).
    """
    try:
        return build(*_alert(outbound, config, subscriber))
    except UnsafeMessageError as error:
        log.warning("alert_title_withheld", message_id=outbound.message_id, reason=str(error))
    untitled = replace(outbound, item=replace(outbound.item, title=WITHHELD_TITLE))
    return build(*_alert(untitled, config, subscriber))


def _alert(
    outbound: Outbound, config: MailSettings, subscriber: Subscriber
) -> tuple[dict[str, str], AlertView]:
    """The alert's own headers and what its parts show."""
    item = outbound.item
    summary = sanitize_summary(item.body)
    headline = headline_of(item)
    severest = most_severe_first(outbound)
    view = AlertView(
        headline=headline,
        signals=[signal_view(s, config) for s in severest],
        accent=accent(outbound.signals),
        update=update_note(outbound, config),
        also_reported_by=list(outbound.also_reported_by),
        carried_by=1 + len(outbound.also_reported_by),
        story_news=outbound.story_news,
        recipient=subscriber.address,
        source=item.source,
        published=published_text(item, subscriber.timezone),
        link=safe_link(item.link),
        document=local_document(item.link),
        summary_html=Markup(summary),
        summary_text=html_to_text(summary),
    )
    headers = {
        "Subject": subject_for(outbound, config, headline, severest),
        "Message-ID": outbound.message_id,
        "X-Supply-Watcher-Signals": ", ".join(
            f"{s.type}:{s.direction.value}" for s in outbound.signals
        ),
    }
    return headers, view


@dataclass(frozen=True, slots=True)
class AlertView:
    """What an alert's parts show: the alert templates' context (`context`), and what
    `alert_bodies` writes the same text from. Feed text in it is cleaned (`headline`,
    `link`, `document`) or sanitised (`summary_html`), not yet escaped for HTML."""

    headline: str
    signals: list[SignalView]
    accent: str
    update: str | None
    also_reported_by: list[str]
    carried_by: int
    story_news: str
    recipient: str
    source: str
    published: str
    link: str | None
    document: str | None
    summary_html: Markup
    summary_text: str

    def context(self) -> dict[str, object]:
        """The fields by name, for the templates (`item_view`'s keys among them)."""
        return {field.name: getattr(self, field.name) for field in fields(self)}


def build_message(
    config: MailSettings,
    subscriber: Subscriber,
    headers: dict[str, str],
    template: str,
    context: Mapping[str, object],
    now: datetime,
) -> EmailMessage:
    """Text + HTML from `<template>.txt.j2` / `.html.j2` with the common headers, checked."""
    message = compose_message(config, subscriber, headers, template, context, now)
    check_headers(message, subscriber.address)
    return message


def assemble_message(
    config: MailSettings,
    subscriber: Subscriber,
    headers: dict[str, str],
    bodies: tuple[str | None, str, str],
    now: datetime,
) -> Assembled:
    """`compose_message` written as bytes directly (`mime.assemble`) from `bodies` (the
    signed unsubscribe link or None, the text and the HTML as rendered): the same
    headers, in the same order, and the same parts. Check it (`Assembled.check`)
    before sending."""
    link, text, html = bodies
    head = shared_head(config, subscriber, headers, link, now)
    parts = [Part.of(text, "plain"), Part.of(html, "html")]
    return assemble(_own_lines(headers), parts, _boundary([p.data for p in parts]), head)


def shared_head(
    config: MailSettings,
    subscriber: Subscriber,
    headers: dict[str, str],
    link: str | None,
    now: datetime,
) -> FoldedHeaders:
    """`_shared_lines` folded: the lines before `headers`' own that every email to
    `subscriber` rendered at `now` with `link` shares.

    The alerts of one `render_many` call share their `now`, and mostly their subscriber
    and link: the last head made is kept (`_LAST_HEAD`) and reused while all of these are
    the same (the config's mail section by identity, held by the entry), not built,
    converted to text and looked up header by header again for each email.
    """
    global _LAST_HEAD
    mail = config.mail
    key = (subscriber.name, subscriber.address, now, link, tuple(headers))
    last = _LAST_HEAD
    if last is not None and last[0] is mail and last[1] == key:
        return last[2]
    lines = _shared_lines(config, subscriber, headers, link, now)
    head = FoldedHeaders.of([(name, str(value), reused) for name, value, reused in lines])
    _LAST_HEAD = (mail, key, head)
    return head


_LAST_HEAD: tuple[MailConfig, tuple[object, ...], FoldedHeaders] | None = None
"""`shared_head`'s last head: (the mail section it was made from, its key, the head)."""


def compose_message(
    config: MailSettings,
    subscriber: Subscriber,
    headers: dict[str, str],
    template: str,
    context: Mapping[str, object],
    now: datetime,
) -> EmailMessage:
    """`build_message` without the header check: check it (`check_headers`) before sending.

    The headers every email to this subscriber repeats are parsed and folded once
    (`headers.reused_header`), and so are the Date (to the second), the multipart
    boundary's Content-Type and those of `headers` named in `REPEATING`; the rest of
    `headers` (Subject, Message-ID) are parsed each time.
    """
    link, text, html = _bodies(config, subscriber, template, context, now)
    message = EmailMessage(policy=MAIL_POLICY)
    lines = [*_shared_lines(config, subscriber, headers, link, now), *_own_lines(headers)]
    for name, value, reused in lines:
        message[name] = reused_header(name, value) if reused else value
    parts = [text_part(text, "plain"), text_part(html, "html")]
    message["MIME-Version"] = reused_header("MIME-Version", "1.0")
    boundary = _boundary([str(part.get_payload()) for part in parts])
    content_type = f'multipart/alternative; boundary="{boundary}"'
    message["Content-Type"] = reused_header("Content-Type", content_type)
    for part in parts:
        message.attach(part)
    return message


def _shared_lines(
    config: MailSettings,
    subscriber: Subscriber,
    headers: dict[str, str],
    link: str | None,
    now: datetime,
) -> list[tuple[str, object, bool]]:
    """The email's headers before `headers`' own (`_own_lines`), in order: From, To, Date,
    Auto-Submitted and the list headers, as (name, value, reused); a list header
    `headers` also sets is left out.

    `reused`: the value repeats from email to email (From, To, List-*, the Date to the
    second), so it is parsed and folded once (`headers.reused_header`); a signed
    unsubscribe link differs from email to email, as Subject and Message-ID do.
    """
    lines: list[tuple[str, object, bool]] = [
        ("From", config.mail.sender, True),
        ("To", recipient(subscriber), True),
        ("Date", format_datetime(now.astimezone(UTC)), True),
        ("Auto-Submitted", "auto-generated", True),
    ]
    for name, value in list_headers(config.mail, subscriber.address, link).items():
        if name not in headers:
            lines.append((name, value, not (link and name == "List-Unsubscribe")))
    return lines


def _own_lines(headers: dict[str, str]) -> list[tuple[str, str, bool]]:
    """`headers` as (name, value, reused): reused for those named in `REPEATING`."""
    return [(name, value, name in REPEATING) for name, value in headers.items()]


def _bodies(
    config: MailSettings,
    subscriber: Subscriber,
    template: str,
    context: Mapping[str, object],
    now: datetime,
) -> tuple[str | None, str, str]:
    """The signed unsubscribe link (if any), and `<template>.txt.j2` and `.html.j2` rendered."""
    link = config.unsubscribe_link(
        subscriber.address, "digest" if template == "digest" else "alerts", now
    )
    context = {
        **context,
        "unsubscribe": config.mail.unsubscribe_address,
        "unsubscribe_link": link or "",
    }
    text = compiled(f"{template}.txt.j2").render(context)
    html = compiled(f"{template}.html.j2").render(context)
    return link, text, html


def text_part(text: str, subtype: str) -> EmailMessage:
    """A `text/<subtype>; charset="utf-8"` part, encoded as `set_content(text)` would.

    The same transfer encoding and payload as the `email` package's `set_content`
    (`encode_text`), without parsing the part's two headers again for every email.
    """
    cte, payload = encode_text(text)
    part = EmailMessage(policy=MAIL_POLICY)
    part["Content-Type"] = reused_header("Content-Type", f'text/{subtype}; charset="utf-8"')
    part["Content-Transfer-Encoding"] = reused_header("Content-Transfer-Encoding", cte)
    part.set_payload(payload)
    return part


def _boundary(payloads: Sequence[str | bytes]) -> str:
    """A multipart boundary (the `email` package's form) that no part's payload contains.

    The process's own random boundary, unless a payload contains it: then a fresh one.
    A boundary need only be unique within its message, and one that repeats makes the
    Content-Type header one parsed and folded once (`reused_header`).
    """
    boundary = _BOUNDARY
    while any(_holds(payload, "--" + boundary) for payload in payloads):
        boundary = _new_boundary()
    return boundary


def _holds(payload: str | bytes, delimiter: str) -> bool:
    if isinstance(payload, bytes):
        return delimiter.encode("ascii") in payload
    return delimiter in payload


def _new_boundary() -> str:
    return "=" * 15 + f"{random.randrange(sys.maxsize):019d}" + "=="


_BOUNDARY = _new_boundary()


def item_view(item: Item, subscriber: Subscriber) -> dict[str, object]:
    """Source, published time in the subscriber's zone, safe link, sanitised summary."""
    summary = sanitize_summary(item.body)
    return {
        "source": item.source,
        "published": published_text(item, subscriber.timezone),
        "link": safe_link(item.link),
        "document": local_document(item.link),
        "summary_html": Markup(summary),
        "summary_text": html_to_text(summary),
    }


def update_note(outbound: Outbound, config: MailSettings) -> str | None:
    """For a revised report: `Updated: now also reports Scrap shortage (alerted earlier: …)`."""
    if outbound.revision <= 1:
        return None
    new = ", ".join(dict.fromkeys(config.signal_label(s.type) for s in outbound.signals))
    if not outbound.earlier_types:
        return f"Updated: the revised report now reports {new}"
    earlier = ", ".join(config.signal_label(t) for t in outbound.earlier_types)
    return f"Updated: now also reports {new} (alerted earlier: {earlier})"


@dataclass(frozen=True, slots=True)
class EvidenceView:
    """What the templates show of one evidence sentence.

    The views are objects, not dicts: Jinja looks `s.label` up as an attribute first,
    and a dict answers that with an `AttributeError` raised and caught per lookup.
    """

    text: str
    html: Markup
    in_title: bool


@dataclass(frozen=True, slots=True)
class SignalView:
    """What the templates show of one signal (see `EvidenceView`)."""

    marks: str
    colour: str
    type: str
    label: str
    rule: str
    direction: str
    tightening: bool
    severity: str
    score: float
    speculative: bool
    direction_uncertain: bool
    direction_doubt: str
    evidence: list[EvidenceView]
    elements: list[str]
    products: list[str]
    countries: list[str]


def signal_view(signal: Signal, config: MailSettings) -> SignalView:
    """What the templates show of one signal."""
    return SignalView(
        marks=severity_marks(signal.severity),
        colour=severity_colour(signal.severity, signal.direction),
        type=signal.type,
        label=config.signal_label(signal.type),
        rule=signal.rule,
        direction=signal.direction.value,
        tightening=signal.direction is Direction.TIGHTENING,
        severity=signal.severity.value,
        score=signal.score,
        speculative=signal.speculative,
        direction_uncertain=signal.direction_uncertain,
        direction_doubt=signal.direction_doubt,
        evidence=[evidence_view(e) for e in signal.evidence],
        elements=list(signal.entities.elements),
        products=list(signal.entities.products),
        countries=list(signal.entities.countries),
    )


def evidence_view(evidence: Evidence) -> EvidenceView:
    """The sentence with matched terms marked: `[term]` in text (`Evidence.marked` with
    glosses, on one line), `<mark>` in HTML; both written in one pass over the spans."""
    pieces: list[str] = []  # joined into one `Markup`: every piece of the sentence escaped
    marked: list[str] = []  # `evidence.marked(glossed=True)`, piece by piece
    pos = 0
    sentence = evidence.sentence
    for span in sorted(evidence.spans, key=lambda s: s.start):
        if span.start < pos:
            continue
        before, term = sentence[pos : span.start], sentence[span.start : span.end]
        pieces += [escape_html(before), _MARK, escape_html(term), "</mark>"]
        marked += [before, "[", term, "]"]
        if span.gloss:  # a term in another script: what it means, in English
            pieces += [_GLOSS, escape_html(span.gloss), ")</span>"]
            marked += [" (", span.gloss, ")"]
        pos = span.end
    pieces.append(escape_html(sentence[pos:]))
    marked.append(sentence[pos:])
    return EvidenceView(one_line("".join(marked)), Markup("".join(pieces)), evidence.in_title)


_MARK = '<mark style="background:#fde68a;padding:0 2px;">'
_GLOSS = ' <span style="color:#6b7280;">('


def sanitize_summary(body: str, limit: int = SUMMARY_CHARS) -> str:
    """The start of the body as safe HTML: a few inline tags, links only http(s)."""
    text = body.strip()
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:") + " …"
    return _summary_cleaner()(text)


@functools.cache
def _summary_cleaner() -> Callable[[str], str]:
    """nh3's sanitiser for summaries (a few inline tags, links only http(s)), made once.

    nh3 (loaded with the first summary to clean, not with the service) builds its
    sanitiser from the options at every `nh3.clean` call; an `nh3.Cleaner` (nh3 ≥ 0.2.18)
    holds one built, and cleans the same way at a third of the CPU.
    """
    import nh3

    cleaner = nh3.Cleaner(
        tags=_SUMMARY_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https"},
        link_rel="noopener noreferrer nofollow",
    )
    clean: Callable[[str], str] = cleaner.clean
    return clean


def safe_link(link: str | None) -> str | None:
    """The link if it is http(s) with a host; anything else is never a link."""
    if not link:
        return None
    parts = urlsplit(link.strip())
    if parts.scheme.lower() in ("http", "https") and parts.netloc and " " not in link.strip():
        return link.strip()
    return None


def local_document(link: str | None) -> str | None:
    """The file name of a `file://` link (the files source): shown as text, never linked,
    and never the server's folder, which means nothing to a reader."""
    if link and link.lower().startswith("file://"):
        return one_line(PurePosixPath(unquote(urlsplit(link).path)).name) or None
    return None


# How the email says where a date was read (`Item.date_from`); the source's own date
# field needs no note.
_DATE_FROM = {
    "front matter": "from the document's front matter",
    "dateline": "from the document's dateline",
    "text": "the first date the document states",
    "file time": "file time: the document states no date",
}


def published_text(item: Item, zone: str) -> str:
    """The item's date as the email shows it, and where it was read when that matters.

    A day without a time of day is shown as that day (`2025-05-31`), as the source
    stated it, never converted to a time; a time is shown in the subscriber's zone.
    """
    shown = (
        item.published_day.isoformat()
        if item.published_day is not None
        else local_time(item.published, zone)
    )
    note = _DATE_FROM.get(item.date_from)
    return f"{shown} ({note})" if note and item.published is not None else shown


def local_time(value: datetime | None, zone: str) -> str:
    """`2025-06-02 10:30 CEST` in the subscriber's zone, or `date unknown`."""
    if value is None:
        return "date unknown"
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")
