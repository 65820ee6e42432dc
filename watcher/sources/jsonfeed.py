"""JSON Feed 1.0 / 1.1 (https://www.jsonfeed.org/version/1.1/): feedparser does not read it.

A small schema: the top-level object must name a JSON Feed `version` and hold `items`;
each item needs an `id` and some text. Unknown keys are ignored, as the spec asks.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import urljoin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from watcher.domain.errors import ParseError
from watcher.domain.items import Item
from watcher.sources.html import html_to_text, one_line
from watcher.sources.result import Parsed
from watcher.sources.trim import take_ends

MAX_TITLE = 500


class _Entry(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    url: str | None = None
    external_url: str | None = None
    title: str | None = None
    content_html: str | None = None
    content_text: str | None = None
    summary: str | None = None
    date_published: str | None = None
    date_modified: str | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: object) -> object:
        # 1.0 feeds in the wild use numbers; 1.1 says "string", so both are accepted
        return str(value) if isinstance(value, int | float) else value


class _Feed(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: str = Field(pattern=r"^https?://jsonfeed\.org/version/")
    title: str | None = None
    home_page_url: str | None = None
    items: list[dict[str, object]]


def looks_like_json(data: bytes, content_type: str) -> bool:
    """True when the bytes are declared JSON or start like a JSON object."""
    if "json" in content_type.lower():
        return True
    return data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")


def parse_json_feed(data: bytes, source: str, base_url: str = "") -> Parsed:
    """Items of a JSON Feed; `ParseError` when it is not one. A bad entry is a warning."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
        feed = _Feed.model_validate(document)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParseError(source, f"not a JSON Feed: invalid JSON ({exc})") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"])) or "(top level)"
        raise ParseError(source, f"not a JSON Feed: {where}: {first['msg']}") from None
    base = feed.home_page_url or base_url
    items: list[Item] = []
    taken, trimmed = take_ends(len(feed.items))
    warnings = [trimmed] if trimmed else []
    for index in taken:
        try:
            entry = _Entry.model_validate(feed.items[index])
        except ValidationError as exc:
            warnings.append(f"items.{index}: {exc.errors()[0]['msg']}")
            continue
        item = _item(entry, source, base)
        if item is not None:
            items.append(item)
    return Parsed(items=items, warnings=warnings)


def _item(entry: _Entry, source: str, base: str) -> Item | None:
    title = one_line(html_to_text(entry.title or ""))[:MAX_TITLE]
    body = html_to_text(entry.content_html or "") or (entry.content_text or "").strip()
    body = body or html_to_text(entry.summary or "")
    if not title and not body:
        return None
    link = entry.url or entry.external_url
    return Item(
        source=source,
        title=title,
        body=body,
        link=urljoin(base, link) if link else None,
        guid=entry.id.strip() or None,
        published=_when(entry.date_published) or _when(entry.date_modified),
    )


def _when(value: str | None) -> datetime | None:
    """RFC 3339 dates as UTC; anything unreadable is no date."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)
