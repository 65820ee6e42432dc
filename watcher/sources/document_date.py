"""When a local document was written, read from the document before its file time.

A report copied into a watched folder today may be a year old: its file time says
today, its text says when it was written. `document_date` looks, in this order, at

1. the front matter (`date:`, `published:`, `created:` in a leading `---` YAML block),
2. a dateline: a date at the start of one of the first lines, after at most a short
   place, byline or label ("WASHINGTON, May 31, 2025 —", "新华社北京2025年5月31日电",
   "发布时间：2025年5月31日"),
3. the first date the text states anywhere,

and only then takes the file's modification time. A dateline or stated date later than
the file time is not when the document was written (a deadline, an effective date) and
is passed over. A date without a time of day stays a day, read in the source's zone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from watcher.sources.dates import Stated, find_dates, read_date

FRONT_MATTER_KEYS = ("date", "published", "publish_date", "pubdate", "created")
DATELINE_LINES = 6
MAX_DATELINE_PREFIX = 40
MAX_DATELINE_WORDS = 6
# a stated date this much after the file time is still the document's (zones, clocks)
FUTURE_SLACK = timedelta(days=1)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_SENTENCE_END = re.compile(r"[.!?。！？]\s")
# what may stand before a dateline's date: a place in capitals ("GANZHOU, Jiangxi,"), a
# label or byline ending in ":" or "|" ("Published:", "By Jane Doe |"), a label word,
# or Chinese alone ("新华社北京", "北京，")
_PLACE = re.compile(r"[A-Z][A-Z.'’-]+\b.*[,—–-]")
_LABEL = re.compile(r".*[:：|·]|(?i:(?:published|updated|posted|issued|dated|date)\b.*)")
_CHINESE = re.compile(r"[\u3400-\u9fff\s，、：:（）()]+")

FRONT_MATTER = "front matter"
DATELINE = "dateline"
TEXT = "text"
FILE_TIME = "file time"


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """A leading `---` YAML block as a mapping, and the text after it.

    Text without one, or whose block is not a YAML mapping, is returned whole with `{}`.
    """
    match = _FRONT_MATTER.match(text)
    if match is None:
        return {}, text
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return {}, text
    if not isinstance(data, dict):
        return {}, text
    return {str(k): v for k, v in data.items()}, text[match.end() :]


def document_date(
    text: str, front: Mapping[str, Any], modified: datetime, zone: str
) -> tuple[Stated, str]:
    """The document's date and where it was read (`front matter`, `dateline`, `text` or
    `file time`). `text` is the document without its front matter; `modified` its file time.
    """
    for key in FRONT_MATTER_KEYS:
        stated = _front_value(front.get(key), zone)
        if stated is not None:
            return stated, FRONT_MATTER
    latest = modified + FUTURE_SLACK
    for stated in _dateline(text, zone):
        if stated.when <= latest:
            return stated, DATELINE
    for found in find_dates(text, zone):
        if found.stated.when <= latest:
            return found.stated, TEXT
    return Stated(modified), FILE_TIME


def _front_value(value: Any, zone: str) -> Stated | None:
    tz = ZoneInfo(zone)
    if isinstance(value, datetime):
        return Stated(value if value.tzinfo else value.replace(tzinfo=tz))
    if isinstance(value, date):
        return Stated(datetime.combine(value, time(), tz), value)
    if isinstance(value, str):
        return read_date(value, zone=zone)
    return None


def _dateline(text: str, zone: str) -> list[Stated]:
    """Dates that open one of the document's first lines, after a short prefix at most."""
    lines = [line for line in text.splitlines() if line.strip()][:DATELINE_LINES]
    out = []
    for line in lines:
        first = next(find_dates(line, zone), None)
        if first is not None and _is_dateline_prefix(line[: first.start]):
            out.append(first.stated)
    return out


def _is_dateline_prefix(prefix: str) -> bool:
    """A place, byline or label ("BEIJING,", "By Jane Doe |", "发布时间："), not the start
    of a sentence ("Exporters said on Friday,")."""
    prefix = prefix.strip()
    if not prefix:
        return True
    if len(prefix) > MAX_DATELINE_PREFIX or len(prefix.split()) > MAX_DATELINE_WORDS:
        return False
    if _PLACE.fullmatch(prefix):  # "WASHINGTON D.C. —": its full stops end no sentence
        return True
    if _SENTENCE_END.search(prefix + " "):
        return False
    return bool(_LABEL.fullmatch(prefix) or _CHINESE.fullmatch(prefix))
