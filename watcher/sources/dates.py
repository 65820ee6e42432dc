"""Dates as listing pages print them: ISO 8601, RFC 2822, "24 Nov 2026", "2026年11月24日"…

Pages carry no machine-readable date more often than not; this reads the common
forms, and a source can name its own `date_format` (strptime) for the rest. An
unreadable date is no date (never an error).

`read_date` gives the instant and says whether the text gave a time of day: a bare day
("24 Nov 2026") is that day in the source's zone, kept as a day so nobody is shown an
invented `00:00 UTC`; a date or time without an offset is read in the source's zone.
`find_dates` lists every date a text states, where it states it, for dating documents.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

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
# an ISO 8601 timestamp with a time of day inside running text
_ISO_TIME = re.compile(
    r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?(?![\d:])"
)
_TIME_DIRECTIVES = ("%H", "%I", "%M", "%X", "%c", "%T", "%R")


@dataclass(frozen=True, slots=True)
class Stated:
    """A date as a text states it: `when` an aware instant; `day` set when the text gave
    no time of day (`when` is then the start of `day` in the zone it was read in)."""

    when: datetime
    day: date | None = None


@dataclass(frozen=True, slots=True)
class Found:
    """A date found in running text: what it says, and where (`start`, `end`) it stands."""

    start: int
    end: int
    stated: Stated


def read_date(text: str, fmt: str | None = None, zone: str = "UTC") -> Stated | None:
    """The date in `text`, and whether it has a time of day; None when none can be read.

    A date or time without an offset is read in `zone` (an IANA name, the source's).
    """
    text = " ".join(text.split())
    if not text:
        return None
    tz = ZoneInfo(zone)
    if fmt:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            return None
        if any(directive in fmt for directive in _TIME_DIRECTIVES):
            return Stated(_aware(parsed, tz))
        return _day(parsed.date(), tz)
    try:
        return _day(date.fromisoformat(text), tz)
    except ValueError:
        pass
    try:
        return Stated(_aware(datetime.fromisoformat(text), tz))
    except ValueError:
        pass
    try:
        return Stated(_aware(parsedate_to_datetime(text), tz))
    except (TypeError, ValueError, IndexError):
        pass
    first = next(find_dates(text, zone), None)
    return first.stated if first is not None else None


def find_dates(text: str, zone: str = "UTC") -> Iterator[Found]:
    """Every date `text` states (ISO timestamps, "May 31, 2025", "31 May 2025",
    "2025-05-31", "31.05.2025", "2025年5月31日"), in the order they stand."""
    tz = ZoneInfo(zone)
    found: dict[int, Found] = {}
    for match in _ISO_TIME.finditer(text):
        try:
            stamp = datetime.fromisoformat(match.group().replace(" ", "T"))
        except ValueError:
            continue
        found[match.start()] = Found(match.start(), match.end(), Stated(_aware(stamp, tz)))
    for pattern, order in (
        (_CJK, "ymd"),
        (_YMD, "ymd"),
        (_DMY, "dmy"),
        (_D_MONTH_Y, "dMy"),
        (_MONTH_D_Y, "Mdy"),
    ):
        for match in pattern.finditer(text):
            if any(f.start <= match.start() < f.end for f in found.values()):
                continue  # inside a timestamp already read, or the same date twice
            day = _day_of(dict(zip(order, match.groups(), strict=True)))
            if day is not None:
                found[match.start()] = Found(match.start(), match.end(), _day(day, tz))
    return iter(sorted(found.values(), key=lambda f: f.start))


def _day_of(parts: dict[str, str]) -> date | None:
    month = _MONTHS.get(parts["M"].lower()) if "M" in parts else int(parts["m"])
    if month is None:
        return None
    try:
        return date(int(parts["y"]), month, int(parts["d"]))
    except ValueError:
        return None


def _day(day: date, tz: ZoneInfo) -> Stated:
    return Stated(datetime.combine(day, time(), tz), day)


def _aware(value: datetime, tz: ZoneInfo) -> datetime:
    return value.replace(tzinfo=tz) if value.tzinfo is None else value
