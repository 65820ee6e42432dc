"""A local folder as a source: each text document is an item, each feed file gives its entries.

A document is dated by what it says (front matter, dateline, first stated date), its
file time only when it states no date (`watcher.sources.document_date`); the item
records which, and a stated day without a time of day stays a day.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from watcher.config import FilesSource
from watcher.domain.errors import FetchError, ParseError
from watcher.domain.identity import with_identity
from watcher.domain.items import Item
from watcher.sources.document_date import document_date, split_front_matter
from watcher.sources.feed import parse_feed
from watcher.sources.html import one_line
from watcher.sources.result import FetchResult

FEED_SUFFIXES = {".xml", ".rss", ".atom"}
MAX_FILE_BYTES = 5_000_000
MAX_TITLE_CHARS = 200
_SKIPPED_NAMES = ("readme", "license", "licence")


async def read_folder(source: FilesSource) -> FetchResult:
    """Every matching document in the folder as items; a bad file is a warning, not a failure."""
    return await asyncio.to_thread(_read_folder, source)


def _read_folder(source: FilesSource) -> FetchResult:
    folder = source.path
    if not folder.is_dir():
        raise FetchError(source.name, f"folder {folder} does not exist or is not a folder")
    paths = sorted(
        {
            path
            for pattern in source.patterns
            for path in folder.rglob(pattern)
            if path.is_file() and not _skipped(path.relative_to(folder))
        }
    )
    items: list[Item] = []
    warnings: list[str] = []
    for path in paths:
        try:
            items.extend(_read_file(source, folder, path))
        except (OSError, ParseError) as exc:
            warnings.append(f"{path}: {exc}")
    return FetchResult(items=[with_identity(i, source.identity) for i in items], warnings=warnings)


def _skipped(relative: Path) -> bool:
    if any(part.startswith(".") for part in relative.parts):
        return True
    return relative.name.lower().startswith(_SKIPPED_NAMES)


def _read_file(source: FilesSource, folder: Path, path: Path) -> list[Item]:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise OSError(f"larger than {MAX_FILE_BYTES} bytes; skipped")
    data = path.read_bytes()
    relative = path.relative_to(folder).as_posix()
    if path.suffix.lower() in FEED_SUFFIXES:
        return parse_feed(data, source.name).items
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n").lstrip("\ufeff")
    front, text = split_front_matter(text)
    title, body = split_title(text)
    if isinstance(front.get("title"), str) and front["title"].strip():
        title, body = one_line(front["title"]), text.strip()
    if not title:
        title = path.stem.replace("_", " ").replace("-", " ")
    modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    stated, found_in = document_date(text, front, modified, source.timezone)
    return [
        Item(
            source=source.name,
            title=title or path.stem,
            body=body,
            link=path.resolve().as_uri(),
            guid=f"file:{relative}",
            published=stated.when,
            published_day=stated.day,
            date_from=found_in,
        )
    ]


def split_title(text: str) -> tuple[str, str]:
    """A short first line is the title (Markdown `#` removed) and the rest the body.

    A long first line is a paragraph, not a headline: then there is no title ("").
    """
    lines = text.strip().split("\n", 1)
    first = one_line(lines[0].lstrip("#").strip())
    if len(first) > MAX_TITLE_CHARS:
        return "", text.strip()
    return first, lines[1].strip() if len(lines) > 1 else ""
