"""Build a digest email: counts on top, then one entry per report under its severity.

A report that carries several signal types is listed once, with all its types, under
the severity of its most severe signal; its evidence is that signal's.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from watcher.config import Subscriber, WatcherConfig
from watcher.domain.items import DigestEntry, DigestOutbound, Severity
from watcher.notify.channels.mail.alert import build_message, evidence_view, item_view
from watcher.notify.channels.mail.headers import clean_title
from watcher.notify.channels.mail.presentation import accent, severity_colour, severity_marks

_SEVERITIES = sorted(Severity, key=lambda s: s.rank, reverse=True)


def render_digest(
    digest: DigestOutbound, config: WatcherConfig, subscriber: Subscriber, now: datetime
) -> EmailMessage:
    """The complete, header-checked digest message (also when it has no entry)."""
    day = digest.period_end.astimezone(ZoneInfo(subscriber.timezone)).strftime("%a %d %b %Y")
    stories = len({(e.item.source, e.item.identity) for e in digest.entries})
    count = len(digest.entries)
    if count:
        headline = f"{count} signal{'s' if count != 1 else ''} in {stories} report" + (
            "s" if stories != 1 else ""
        )
    else:
        headline = "nothing new"
    context = {
        "headline": f"Supply Watcher digest · {day}",
        "summary": headline,
        "by_type": _type_counts(digest.entries, config),
        "by_severity": _severity_counts(digest.entries),
        "groups": _groups(digest.entries, config, subscriber),
        "schedule": subscriber.schedule,
        "timezone": subscriber.timezone,
        "recipient": subscriber.address,
    }
    headers = {
        "Subject": f"[Supply Watch] Digest · {headline} · {day}",
        "Message-ID": digest.message_id,
    }
    return build_message(config, subscriber, headers, "digest", context, now)


def _type_counts(entries: tuple[DigestEntry, ...], config: WatcherConfig) -> list[tuple[str, int]]:
    counts = Counter(config.signal_label(e.signal.type) for e in entries)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _severity_counts(entries: tuple[DigestEntry, ...]) -> list[tuple[str, int]]:
    counts = Counter(e.signal.severity for e in entries)
    return [(s.value, counts[s]) for s in _SEVERITIES if counts[s]]


def _groups(
    entries: tuple[DigestEntry, ...], config: WatcherConfig, subscriber: Subscriber
) -> list[dict[str, object]]:
    """Severities (most severe first), each with its reports, newest first, listed once."""
    reports: dict[tuple[str, str], list[DigestEntry]] = {}
    for entry in entries:
        reports.setdefault((entry.item.source, entry.item.identity), []).append(entry)
    by_severity: dict[Severity, list[list[DigestEntry]]] = {}
    for members in reports.values():
        members.sort(key=lambda e: (-e.signal.severity.rank, config.signal_label(e.signal.type)))
        by_severity.setdefault(members[0].signal.severity, []).append(members)
    groups: list[dict[str, object]] = []
    for severity in _SEVERITIES:
        listed = sorted(
            by_severity.get(severity, []),
            key=lambda m: m[0].item.published or datetime.min.replace(tzinfo=UTC),
            reverse=True,
        )
        if listed:
            groups.append(
                {
                    "severity": severity.value,
                    "marks": severity_marks(severity),
                    "reports": [_report(m, config, subscriber) for m in listed],
                }
            )
    return groups


def _report(
    members: list[DigestEntry], config: WatcherConfig, subscriber: Subscriber
) -> dict[str, object]:
    """One report's line: its signal types (most severe first), one evidence sentence."""
    top = members[0]
    # the headline is on the line already: prefer a sentence from the body as evidence
    best = sorted(top.signal.evidence, key=lambda e: e.in_title)[:1]
    elements: dict[str, None] = {}
    countries: dict[str, None] = {}
    for entry in members:
        elements.update(dict.fromkeys(entry.signal.entities.elements))
        countries.update(dict.fromkeys(entry.signal.entities.countries))
    return {
        "headline": clean_title(top.item.title or "(untitled report)", 200),
        "accent": accent([e.signal for e in members]),
        "signals": [
            {
                "label": config.signal_label(e.signal.type),
                "direction": e.signal.direction.value,
                "severity": e.signal.severity.value,
                "marks": severity_marks(e.signal.severity),
                "colour": severity_colour(e.signal.severity, e.signal.direction),
                "speculative": e.signal.speculative,
                "direction_uncertain": e.signal.direction_uncertain,
                "direction_doubt": e.signal.direction_doubt,
            }
            for e in members
        ],
        "elements": list(elements),
        "countries": list(countries),
        "evidence": evidence_view(best[0]) if best else None,
        "also_reported_by": list(top.also_reported_by),
        **item_view(top.item, subscriber),
    }
