"""Dates as listing pages print them: ISO 8601, RFC 2822, "24 Nov 2026", "2026年11月24日"…

Pages carry no machine-readable date more often than not; this reads the common
forms, and a source can name its own `date_format` (strptime) for the rest. A date
without a zone is taken as UTC; an unreadable one is no date (never an error).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_CJK = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_YMD = re.compile(r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b")
_DMY = re.compile(r"\b(\d{1,2})[./](\d{1,2})[./](\d{4})\b")
_D_MONTH_Y = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]{3,9})\.?,?\s+(\d{4})\b")
_MONTH_D_Y = re.compile(r"\b([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b")


def parse_date(text: str, fmt: str | None = None) -> datetime | None:
    """The date in `text` as an aware UTC datetime, or None when none can be read."""
    text = " ".join(text.split())
    if not text:
        return None
    if fmt:
        try:
            return _utc(datetime.strptime(text, fmt))
        except ValueError:
            return None
    try:
        return _utc(datetime.fromisoformat(text))
    except ValueError:
        pass
    try:
        return _utc(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError):
        pass
    return _loose(text)


def _loose(text: str) -> datetime | None:
    for pattern, order in ((_CJK, "ymd"), (_YMD, "ymd"), (_DMY, "dmy")):
        match = pattern.search(text)
        if match:
            parts = dict(zip(order, map(int, match.groups()), strict=True))
            return _make(parts["y"], parts["m"], parts["d"])
    match = _D_MONTH_Y.search(text)
    if match and match.group(2).lower() in _MONTHS:
        return _make(int(match.group(3)), _MONTHS[match.group(2).lower()], int(match.group(1)))
    match = _MONTH_D_Y.search(text)
    if match and match.group(1).lower() in _MONTHS:
        return _make(int(match.group(3)), _MONTHS[match.group(1).lower()], int(match.group(2)))
    return None


def _make(year: int, month: int, day: int) -> datetime | None:
    try:
        return datetime(year, month, day, tzinfo=UTC)
    except ValueError:
        return None


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
