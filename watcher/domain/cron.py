"""Digest schedules: `daily 08:00`, `weekly mon 08:00`, or a five-field cron expression.

`parse_schedule` validates the text and returns the cron fields in the form APScheduler
3's `CronTrigger` takes (the daemon's digest jobs). Day-of-week numbers are turned into
names on the way: crontab counts 0 (and 7) as Sunday, APScheduler 3 counts 0 as Monday
(apscheduler#286), and names mean the same to both. `last_period_end` finds the latest
fire time with cronsim (cron's own rules, as `watcher.domain.polling` uses for sources). The
two agree because a schedule may not restrict both the day of month and the day of week
(cron ORs those, APScheduler ANDs them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DAY_NAMES = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_ITEM = re.compile(r"^(\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(\d+))?$")


@dataclass(frozen=True, slots=True)
class CronFields:
    """Minute, hour, day of month, month, day of week: APScheduler 3 `CronTrigger` syntax."""

    minute: str
    hour: str
    day: str
    month: str
    day_of_week: str

    def expression(self) -> str:
        """The five fields as one crontab line (weekdays by name)."""
        return " ".join((self.minute, self.hour, self.day, self.month, self.day_of_week))

    def as_kwargs(self) -> dict[str, str]:
        """Keyword arguments for `CronTrigger(...)`."""
        return {
            "minute": self.minute,
            "hour": self.hour,
            "day": self.day,
            "month": self.month,
            "day_of_week": self.day_of_week,
        }


def parse_schedule(text: str) -> CronFields:
    """The cron fields of a schedule text; `ValueError` saying what is accepted otherwise."""
    words = text.strip().lower().split()
    if len(words) == 2 and words[0] == "daily":
        hour, minute = _clock(words[1])
        return CronFields(str(minute), str(hour), "*", "*", "*")
    if len(words) == 3 and words[0] == "weekly":
        hour, minute = _clock(words[2])
        return CronFields(str(minute), str(hour), "*", "*", _day_of_week(words[1]))
    if len(words) == 5:
        fields = CronFields(
            _field(words[0], "minute", 0, 59),
            _field(words[1], "hour", 0, 23),
            _field(words[2], "day of month", 1, 31),
            _field(words[3], "month", 1, 12, names=_MONTHS, first=1),
            _field(words[4], "day of week", 0, 7, names=_DAYS, first=0, as_names=True),
        )
        if fields.day != "*" and fields.day_of_week != "*":
            raise ValueError(
                f"{text!r}: restrict the day of the month or the day of the week, not both"
            )
        try:
            next(CronSim(fields.expression(), datetime(2000, 1, 1)))
        except (CronSimError, StopIteration):
            raise ValueError(f"{text!r} never fires") from None
        return fields
    raise ValueError(
        f"{text!r} is not a schedule; expected 'daily 08:00', 'weekly mon 08:00'"
        " or a cron expression such as '0 8 * * mon-fri'"
    )


def last_period_end(schedule: str, timezone: str, now: datetime) -> datetime:
    """The schedule's latest fire time at or before `now`, in UTC (cron's DST rules)."""
    local = now.astimezone(ZoneInfo(timezone)) + timedelta(seconds=1)
    fire = next(CronSim(parse_schedule(schedule).expression(), local, reverse=True))
    return fire.astimezone(UTC)


def check_timezone(name: str) -> str:
    """`name` if it is an IANA time zone (`Europe/Berlin`, `UTC`); `ValueError` otherwise."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA time zone such as Europe/Berlin") from None
    return name


def _clock(text: str) -> tuple[int, int]:
    match = _TIME.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a time of day; expected HH:MM such as 08:00")
    return int(match.group(1)), int(match.group(2))


def _day_of_week(text: str) -> str:
    if text in _DAYS or text in _DAY_NAMES:
        return text[:3]
    raise ValueError(f"{text!r} is not a day of the week; expected mon, tue, … sun")


def _field(
    text: str,
    what: str,
    low: int,
    high: int,
    *,
    names: tuple[str, ...] = (),
    first: int = 0,
    as_names: bool = False,
) -> str:
    """Check one cron field item by item; day-of-week values come back as names."""
    out: list[str] = []
    for item in text.split(","):
        match = _ITEM.match(item)
        if not match:
            raise ValueError(f"cron {what}: {item!r} is not *, N, N-M or a /step of those")
        span, step = match.group(1), match.group(2)
        if step is not None and int(step) < 1:
            raise ValueError(f"cron {what}: the step in {item!r} must be at least 1")
        if as_names and item != "*":
            # expand to names: crontab and APScheduler 3 disagree on numbers and on ranges
            # that wrap past Sunday, never on an explicit list of names
            ends = (
                [low, high]
                if span == "*"
                else [_value(v, what, low, high, names, first) for v in span.split("-")]
            )
            days = range(ends[0], ends[-1] + 1, int(step or 1))
            out.extend(_DAYS[d % 7] for d in days if _DAYS[d % 7] not in out)
            continue
        if span != "*":
            for end in span.split("-"):
                _value(end, what, low, high, names, first)
        out.append(item)
    return ",".join(out)


def _value(text: str, what: str, low: int, high: int, names: tuple[str, ...], first: int) -> int:
    if text.isdigit():
        value = int(text)
    elif text[:3] in names:
        value = names.index(text[:3]) + first
    else:
        raise ValueError(f"cron {what}: {text!r} is not a number or a known name")
    if not low <= value <= high:
        raise ValueError(f"cron {what}: {value} is outside {low}-{high}")
    return value
