"""Documents named on the command line: files, standard input (`-`), URLs, JSON lines.

Used by `watcher classify`. A URL is fetched once by the sources' own fetcher
(`watcher.sources.http.Fetcher`, with the config's `http:` limits: timeouts, size cap,
bounded decompression, redirects); HTML, fetched or read from a `.html` file, becomes
text with the same converter the sources use: the page's `<title>` (or first `<h1>`) is
the title and the visible text of `<article>`, `<main>` or `<body>` the body. Plain
text gives its short first line as title (as the files source does).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from selectolax.lexbor import LexborHTMLParser

from watcher.config import HttpConfig
from watcher.domain.errors import ParseError
from watcher.sources.charset import decode_html
from watcher.sources.files import split_title
from watcher.sources.html import html_to_text, one_line
from watcher.sources.http import Fetcher, HttpResult

HTML_SUFFIXES = {".html", ".htm", ".xhtml"}


@dataclass(frozen=True, slots=True)
class Document:
    """One document to classify: where it came from, its title and its body."""

    name: str
    title: str
    body: str


def is_url(name: str) -> bool:
    """True for an http(s) URL, as opposed to a path or `-`."""
    return name.startswith(("http://", "https://"))


def read_document(name: str, http: HttpConfig, stdin: IO[str] | None = None) -> Document:
    """The document behind `name`: `-` (standard input), an http(s) URL or a file path.

    Raises `FetchError` when a URL cannot be fetched and `OSError` when a file cannot be read.
    """
    if name == "-":
        if stdin is None:
            raise ValueError("no standard input given")
        return _from_text(name, stdin.read())
    if is_url(name):
        markup, content_type = fetch_url(name, http)
        if "html" in content_type or markup.lstrip()[:1] == "<":
            return from_html(name, markup)
        return _from_text(name, markup)
    path = Path(name)
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix.lower() in HTML_SUFFIXES:
        return from_html(name, text)
    return _from_text(name, text)


def fetch_url(url: str, http: HttpConfig) -> tuple[str, str]:
    """The body as text and the content type of a GET of `url`; `FetchError` on any failure.

    The body is decoded as the sources decode pages (`watcher.sources.charset.decode_html`:
    BOM, HTTP charset, a meta or XML declaration, UTF-8, then a guess).
    """
    answer = asyncio.run(_get(url, http))
    content_type = answer.headers.get("content-type", "")
    return decode_html(answer.body, content_type), content_type


async def _get(url: str, http: HttpConfig) -> HttpResult:
    fetcher = Fetcher(http, http.user_agent)
    try:
        return await fetcher.get(url, url)
    finally:
        await fetcher.aclose()


def from_html(name: str, markup: str) -> Document:
    """Title and visible text of an HTML page (the article or main part when it has one)."""
    tree = LexborHTMLParser(markup)
    title = ""
    for selector in ("title", "h1"):
        node = tree.css_first(selector)
        if node is not None and node.text(strip=True):
            title = one_line(node.text())
            break
    main = tree.css_first("article") or tree.css_first("main") or tree.body
    body = html_to_text(main.html or "") if main is not None else html_to_text(markup)
    if title and body.startswith(title):
        body = body[len(title) :].lstrip()
    return Document(name, title, body)


def _from_text(name: str, text: str) -> Document:
    title, body = split_title(text.replace("\r\n", "\n").lstrip("\ufeff"))
    return Document(name, title, body)


def read_records(stream: IO[str], name: str) -> Iterator[tuple[Any, str, str]]:
    """`(id, title, body)` of each non-blank JSON line `{"id", "title", "body"}`, in order.

    Raises `ParseError` naming the file and line when a line is not such an object.
    """
    for number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ParseError(name, f"line {number}: not JSON: {exc}") from None
        if not isinstance(record, dict):
            raise ParseError(name, f"line {number}: expected an object with id, title, body")
        yield record.get("id"), str(record.get("title") or ""), str(record.get("body") or "")
