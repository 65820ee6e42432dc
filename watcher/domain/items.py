"""Frozen values passed between the pipeline's stages. No I/O here, no ORM rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class Direction(StrEnum):
    """Which way a signal moves supply."""

    TIGHTENING = "tightening"
    EASING = "easing"


class Severity(StrEnum):
    """How much a signal matters; ordered from low to critical."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for low … 3 for critical, for comparisons."""
        return _SEVERITY_ORDER.index(self)

    def raised(self, steps: int = 1) -> Severity:
        """This severity moved up by `steps`, capped at critical."""
        return _SEVERITY_ORDER[min(self.rank + steps, len(_SEVERITY_ORDER) - 1)]


_SEVERITY_ORDER = [Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]


@dataclass(frozen=True, slots=True)
class Item:
    """One report as a source delivered it, already reduced to plain text."""

    source: str
    title: str
    body: str
    link: str | None = None
    guid: str | None = None
    published: datetime | None = None
    identity: str = ""
    content_hash: str = ""
    published_day: date | None = None
    """The day the source states when it states no time of day (`published` is then the
    start of that day in the source's zone): shown as a date, never as an invented time."""
    date_from: str = ""
    """Where `published` was read when not from the source's own date field: `front
    matter`, `dateline`, `text` (the first date the document states) or `file time`."""

    @property
    def text(self) -> str:
        """Title and body as one text; the title is its own first sentence."""
        return f"{self.title}.\n{self.body}" if self.title else self.body


@dataclass(frozen=True, slots=True)
class Span:
    """A matched term inside an evidence sentence: [start, end) offsets and the concept.

    `gloss` is the concept's English gloss for a term in another script (a Chinese term
    is glossed "suspend" or "export controls"), so a reader without Chinese sees why
    the rule fired; empty for English terms and concepts without one.
    """

    start: int
    end: int
    concept: str
    gloss: str = ""


@dataclass(frozen=True, slots=True)
class Evidence:
    """A sentence that made a rule fire, with the spans of the terms that matched."""

    sentence: str
    spans: tuple[Span, ...] = ()
    in_title: bool = False

    def marked(self, left: str = "[", right: str = "]", *, glossed: bool = False) -> str:
        """The sentence with every matched span wrapped in `left`/`right`; with `glossed`,
        a span's English gloss follows it: "[暫停實施] (suspend a measure)"."""
        out: list[str] = []
        pos = 0
        for span in sorted(self.spans, key=lambda s: s.start):
            if span.start < pos:
                continue
            out.append(self.sentence[pos : span.start])
            out.append(f"{left}{self.sentence[span.start : span.end]}{right}")
            if glossed and span.gloss:
                out.append(f" ({span.gloss})")
            pos = span.end
        out.append(self.sentence[pos:])
        return "".join(out)


@dataclass(frozen=True, slots=True)
class Entities:
    """What an evidence sentence talks about, by canonical name."""

    elements: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, list[str]]:
        """Plain lists, for JSON."""
        return {
            "elements": list(self.elements),
            "products": list(self.products),
            "countries": list(self.countries),
        }


@dataclass(frozen=True, slots=True)
class Signal:
    """A supply-shock signal found in one item, with everything needed to explain it."""

    type: str
    direction: Direction
    severity: Severity
    score: float
    rule: str
    evidence: tuple[Evidence, ...]
    entities: Entities = field(default_factory=Entities)
    speculative: bool = False
    direction_uncertain: bool = False
    """True when the item's evidence conflicts on the direction and nothing settles it:
    the direction is the classifier's best reading, and the severity is capped as for
    easing."""
    direction_doubt: str = ""
    """Why the direction is uncertain, for a reader: the words that read the other way
    and where they stand ("'halted' in the same sentence reads tightening")."""

    def as_dict(self) -> dict[str, object]:
        """The JSON shape used by `watcher classify --jsonl` and stored on the signal row.

        Each evidence entry's `glosses` maps a glossed span's concept to its gloss (only
        when a span has one), beside `spans` as `[start, end, concept]`.
        """
        return {
            "type": self.type,
            "direction": self.direction.value,
            "direction_uncertain": self.direction_uncertain,
            "direction_doubt": self.direction_doubt,
            "severity": self.severity.value,
            "score": round(self.score, 3),
            "speculative": self.speculative,
            "rule": self.rule,
            "evidence": [_evidence_dict(e) for e in self.evidence],
            "entities": self.entities.as_dict(),
        }


def _evidence_dict(evidence: Evidence) -> dict[str, object]:
    out: dict[str, object] = {
        "sentence": evidence.sentence,
        "marked": evidence.marked(),
        "in_title": evidence.in_title,
        "spans": [[s.start, s.end, s.concept] for s in evidence.spans],
    }
    glosses = {s.concept: s.gloss for s in evidence.spans if s.gloss}
    if glosses:
        # one gloss per span: two terms of one concept may carry two (a concept's own
        # gloss and a term's, `glosses:` in the rules); "glosses" by concept is what rows
        # stored before 2026-12-07 hold, kept for readers of either form
        out["glosses"] = glosses
        out["span_glosses"] = [s.gloss for s in evidence.spans]
    return out


@dataclass(frozen=True, slots=True)
class Recipient:
    """One place an alert goes: a subscriber on a channel, at one of its targets there.

    `mode` is `digest` when the alert waits for the subscriber's digest, else
    `immediate`.
    """

    subscriber: str
    channel: str = "email"
    target: str = "email"
    mode: str = "immediate"


@dataclass(frozen=True, slots=True)
class Outbound:
    """One alert to send: a subscriber's due deliveries of one item on one channel target.

    The deliveries share `message_id`: the email's Message-ID, the alert's stable ID on
    other channels.
    """

    message_id: str
    subscriber: str
    delivery_ids: tuple[int, ...]
    attempts: int
    item: Item
    signals: tuple[Signal, ...]
    also_reported_by: tuple[str, ...] = ()
    """Names of the other sources with an item in the same story, without this item's."""
    revision: int = 1
    """The item's revision: above 1 when its text changed after it was first stored."""
    earlier_types: tuple[str, ...] = ()
    """Signal types of this story this subscriber was alerted to before, on this channel."""
    channel: str = "email"
    target: str = "email"
    story_news: str = ""
    """What this item adds to a story already alerted ("figure 12%; day 03-04"): the alert
    is an update of that story. Empty for a story's first report."""
    queued_at: datetime | None = None
    """When the oldest of its deliveries was queued (a grace period counts from here)."""


@dataclass(frozen=True, slots=True)
class DigestEntry:
    """One story's signal of one type in a digest, with the item that carried it."""

    item: Item
    signal: Signal
    also_reported_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DigestOutbound:
    """One digest email: a subscriber's queued signals up to `period_end`, fixed when built."""

    digest_id: int
    message_id: str
    subscriber: str
    period_end: datetime
    attempts: int
    entries: tuple[DigestEntry, ...]
