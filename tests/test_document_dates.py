"""Local documents are dated by what they say, then by file time; the email says which.

A report copied into a watched folder today keeps the date its dateline states, so the
first poll's backfill window holds it back as old. A stated day without a time of day is
shown as that day, never as `00:00 UTC`.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from tests.conftest import WriteConfig
from watcher.config import PageSelectors
from watcher.config.load import load_config
from watcher.service.rounds import run_once
from watcher.sources.document_date import document_date, split_front_matter
from watcher.sources.page import parse_page

ENGLISH = """\
China bans exports of neodymium magnets

BEIJING, May 31, 2025 — China's Ministry of Commerce announced an export ban on \
neodymium magnets, effective July 1, 2025.
"""
CHINESE = """\
商务部公告：对稀土永磁实施出口管制

新华社北京2025年6月3日电 商务部宣布对钕铁硼永磁材料实施出口管制，自2025年8月1日起施行。
"""
UNDATED = """\
China bans exports of neodymium magnets

China's Ministry of Commerce announced an export ban on neodymium magnets.
"""
FRONT_MATTER = """\
---
title: China bans exports of neodymium magnets
date: 2025-06-02T09:15:00+08:00
---
MOFCOM announced an export ban on neodymium magnets on May 30, 2025.
"""


def _mails(tmp_path: Path) -> list[EmailMessage]:
    folder = tmp_path / "data" / "maildrop"
    return [
        message_from_bytes(p.read_bytes(), _class=EmailMessage, policy=policy.default)
        for p in sorted(folder.glob("*.eml"))
    ]


def _text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def _published_line(message: EmailMessage) -> str:
    return next(line for line in _text(message).splitlines() if line.startswith("Published:"))


def _folder(tmp_path: Path, documents: dict[str, str]) -> Path:
    """The documents written now: their file time is today, as for a fresh copy."""
    folder = tmp_path / "reports"
    folder.mkdir()
    for name, text in documents.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _date_of(text: str, modified: datetime, zone: str = "UTC") -> tuple[object, str]:
    front, body = split_front_matter(text)
    stated, found_in = document_date(body, front, modified, zone)
    return (stated.day or stated.when), found_in


def test_datelines_in_english_and_chinese_date_the_document() -> None:
    """The dateline's day, not the later effective date nor the file time; a day stays
    a day, read in the source's zone."""
    now = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
    assert _date_of(ENGLISH, now) == (date(2025, 5, 31), "dateline")
    assert _date_of(CHINESE, now) == (date(2025, 6, 3), "dateline")
    front, body = split_front_matter(CHINESE)
    stated, _ = document_date(body, front, now, "Asia/Shanghai")
    assert stated.when == datetime(2025, 6, 2, 16, 0, tzinfo=UTC)


def test_front_matter_then_first_stated_date_then_file_time() -> None:
    """Front matter wins (with its time of day); a text without a dateline is dated by
    the first date it states; one stating none by its file time."""
    now = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
    when, found_in = _date_of(FRONT_MATTER, now)
    assert (when, found_in) == (datetime(2025, 6, 2, 1, 15, tzinfo=UTC), "front matter")
    stated_later = "Magnet exports\n\nExporters said on Friday, 30 May 2025, that licences stalled."
    assert _date_of(stated_later, now) == (date(2025, 5, 30), "text")
    assert _date_of(UNDATED, now) == (now, "file time")


def test_a_date_after_the_file_time_is_not_the_documents_date() -> None:
    """A deadline the text states (after the file was written) never dates the document."""
    written = datetime(2025, 4, 2, 12, 0, tzinfo=UTC)
    text = "Quota notice\n\nThe new quota rules take effect on January 1, 2026."
    assert _date_of(text, written) == (written, "file time")


async def test_an_old_report_copied_today_is_held_back_by_the_backfill(
    write_config: WriteConfig, tmp_path: Path
) -> None:
    """First poll, default 48 h backfill: the report dated May 31, 2025 (in English) and
    the one dated 2025年6月3日 are stored but do not alert; the undated one alerts, and
    its email says its date is the file time."""
    folder = _folder(tmp_path, {"en.md": ENGLISH, "zh.md": CHINESE, "undated.md": UNDATED})
    path = write_config(sources=[{"name": "reports", "kind": "files", "path": str(folder)}])
    assert await run_once(load_config(path, environ={})) == 0
    mails = _mails(tmp_path)
    assert len(mails) == 1
    line = _published_line(mails[0])
    today = datetime.now(UTC)
    assert line.startswith("Published: ")
    assert line.endswith("(file time: the document states no date)")
    stamp = datetime.strptime(line.split()[1] + " " + line.split()[2], "%Y-%m-%d %H:%M")
    assert abs(stamp.replace(tzinfo=UTC) - today) < timedelta(hours=1)


async def test_the_email_shows_a_stated_day_as_a_day_and_says_where_it_was_read(
    write_config: WriteConfig, tmp_path: Path
) -> None:
    """With a backfill that lets them alert, both datelines' days are shown as days,
    with where they were read; no `00:00`, whatever the subscriber's zone."""
    folder = _folder(tmp_path, {"en.md": ENGLISH, "zh.md": CHINESE})
    old = (datetime(2025, 7, 1, tzinfo=UTC)).timestamp()
    for document in folder.iterdir():
        os.utime(document, (old, old))
    path = write_config(
        sources=[{"name": "reports", "kind": "files", "path": str(folder), "backfill": "3650d"}],
        subscribers=[{"email": "a@example.com", "timezone": "America/New_York"}],
    )
    assert await run_once(load_config(path, environ={})) == 0
    lines = sorted({_published_line(m) for m in _mails(tmp_path)})
    assert lines == [
        "Published: 2025-05-31 (from the document's dateline)",
        "Published: 2025-06-03 (from the document's dateline)",
    ]
    for message in _mails(tmp_path):
        html = message.get_body(("html",))
        assert html is not None
        assert "00:00" not in str(html.get_content())


def test_a_page_date_without_time_is_a_day_in_the_sources_zone() -> None:
    """ "24 Nov 2026" on a listing page of a source in Asia/Shanghai is that day, starting
    at midnight there; a date with a time keeps its time."""
    page = (
        b"<ul><li><a href='/a'>Quota notice</a><span class='d'>24 Nov 2026</span></li>"
        b"<li><a href='/b'>Ban</a><time class='d' datetime='2026-11-24T10:30:00+08:00'>x</time>"
        b"</li></ul>"
    )
    select = PageSelectors(item="li", title="a", date=".d")
    parsed = parse_page(page, "p", "https://x.test/", "text/html", select, "auto", "Asia/Shanghai")
    day, timed = parsed.items
    assert day.published_day == date(2026, 11, 24)
    assert day.published == datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    assert timed.published_day is None
    assert timed.published == datetime(2026, 11, 24, 2, 30, tzinfo=UTC)
