"""How an alert looks at a glance: its subject line and its severity scale.

The subject starts with the report's headline, which is what a reader scans an inbox
for, and ends with the signal type; it stays within `SUBJECT_CHARS`, about what an
inbox list shows, so the headline is never pushed out of view by labels.

Severity is a four-step scale shown twice: as a word and as filled marks (`●●●○ high`),
which survive plain text and colour blindness, and in HTML as a colour. Tightening
runs from amber to dark red; easing, which is good news for buyers, runs through
greens and is never framed in alarm red.
"""

from __future__ import annotations

from collections.abc import Sequence

from watcher.domain.items import Direction, Severity, Signal

SUBJECT_CHARS = 78
"""The longest subject: about what an inbox list shows before it cuts."""

_TIGHTENING = {
    Severity.LOW: "#b54708",
    Severity.MEDIUM: "#dc6803",
    Severity.HIGH: "#d92d20",
    Severity.CRITICAL: "#912018",
}
_EASING = {
    Severity.LOW: "#3b7c5a",
    Severity.MEDIUM: "#067647",
    Severity.HIGH: "#05603a",
    Severity.CRITICAL: "#054f31",
}
NEUTRAL = "#175cd3"
"""The accent of an email that carries no signal (an empty digest)."""


def subject_line(title: str, labels: Sequence[str], directions: set[Direction]) -> str:
    """`<headline> · Export control +2` (`, easing` when every signal eases), cut to fit.

    `title` is already one clean line; only it is shortened (at a word, with an
    ellipsis), so the signal type always shows.
    """
    tag = labels[0] if labels else "alert"
    if len(labels) > 1:
        tag += f" +{len(labels) - 1}"
    if directions == {Direction.EASING}:
        tag += ", easing"
    room = SUBJECT_CHARS - len(tag) - 3
    headline = title
    if len(title) > room:  # cut at a word where one ends late enough, else mid-word
        cut = title[: room - 1]
        words = cut.rsplit(" ", 1)[0] if " " in cut[room // 2 :] else cut
        headline = words.rstrip(" ,;:·-") + "…"
    return f"{headline} · {tag}"


def severity_marks(severity: Severity) -> str:
    """`●●●○` for high: as many filled marks as the step on the four-step scale."""
    filled = severity.rank + 1
    return "●" * filled + "○" * (len(Severity) - filled)


def severity_colour(severity: Severity, direction: Direction) -> str:
    """The colour of `severity`: ambers to dark red when tightening, greens when easing."""
    scale = _EASING if direction is Direction.EASING else _TIGHTENING
    return scale[severity]


def accent(signals: Sequence[Signal]) -> str:
    """The email's accent colour: that of its most severe signal (tightening first on a tie)."""
    if not signals:
        return NEUTRAL
    top = max(signals, key=lambda s: (s.severity.rank, s.direction is Direction.TIGHTENING))
    return severity_colour(top.severity, top.direction)
