"""Build a digest email: counts on top, then signal type → severity → one line per story."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from watcher.config import Subscriber, WatcherConfig
from watcher.domain.items import DigestEntry, DigestOutbound, Severity
from watcher.notify.channels.mail.alert import build_message, evidence_view, item_view
from watcher.notify.channels.mail.headers import clean_title

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
    """Signal types (most severe first), each split by severity, one line per story."""
    by_type: dict[str, list[DigestEntry]] = {}
    for entry in entries:
        by_type.setdefault(entry.signal.type, []).append(entry)
    order = sorted(
        by_type,
        key=lambda t: (-max(e.signal.severity.rank for e in by_type[t]), config.signal_label(t)),
    )
    groups = []
    for signal_type in order:
        severities = []
        for severity in _SEVERITIES:
            lines = [
                _line(e, subscriber) for e in by_type[signal_type] if e.signal.severity == severity
            ]
            if lines:
                severities.append({"severity": severity.value, "lines": lines})
        groups.append(
            {
                "label": config.signal_label(signal_type),
                "count": len(by_type[signal_type]),
                "severities": severities,
            }
        )
    return groups


def _line(entry: DigestEntry, subscriber: Subscriber) -> dict[str, object]:
    signal = entry.signal
    # the headline is on the line already: prefer a sentence from the body as evidence
    best = sorted(signal.evidence, key=lambda e: e.in_title)[:1]
    evidence = evidence_view(best[0]) if best else None
    return {
        "headline": clean_title(entry.item.title or "(untitled report)", 200),
        "direction": signal.direction.value,
        "tightening": signal.direction.value == "tightening",
        "speculative": signal.speculative,
        "elements": list(signal.entities.elements),
        "countries": list(signal.entities.countries),
        "evidence": evidence,
        "also_reported_by": list(entry.also_reported_by),
        **item_view(entry.item, subscriber),
    }
