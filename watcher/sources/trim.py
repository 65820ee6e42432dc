"""A very long feed is read in part: its first and last items, so a poll's work stays bounded.

feedparser's cost, and the classification and storing that follow, grow with the
entries: a valid feed of tens of thousands of entries (several MB) takes seconds of
parse alone and can overrun the parse deadline on a slow machine, every poll. So a
feed of more than `MAX_ITEMS` entries is cut *before* feedparser sees it; finding where
to cut is one expat pass, a small part of a parse.

Both ends are kept, half each: most feeds list the newest entry first, some the oldest,
and either way the newest entries are among those read. The entries between are
dropped from the document (they are complete siblings of the kept ones, so what is left
is as well-formed as before) and a warning says how many were taken.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any
from xml.parsers import expat

MAX_ITEMS = 5_000
ENTRY_NAMES = frozenset({"item", "entry"})  # RSS 0.9x/1.0/2.0 and Atom, any prefix


class Unsafe(Exception):
    """Raised by an entry handler: the document cannot be cut safely (a DOCTYPE, left to
    feedparser's own handling of entities; for `sections`, nested entries too)."""


def trim_feed(data: bytes, limit: int = MAX_ITEMS) -> tuple[bytes, str | None]:
    """`data` with only its first and last `limit // 2` entries, and a warning saying so.

    Unchanged, and no warning, when it has no more than `limit` entries or cannot be cut
    safely: not well-formed, a DOCTYPE, an encoding expat cannot read (an undeclared
    GBK feed), or entries that are not siblings of one another.
    """
    if data.count(b"item>") + data.count(b"entry>") <= limit:  # every entry's end tag
        return data, None
    starts = _entry_starts(data)
    if starts is None or len(starts) <= limit:
        return data, None
    head = limit // 2
    tail = limit - head
    cut = data[: starts[head]] + data[starts[len(starts) - tail] :]
    return cut, taken_warning(len(starts), head, tail)


def take_ends(count: int, limit: int = MAX_ITEMS) -> tuple[list[int], str | None]:
    """The positions of the entries to read out of `count`, and the warning if some are not."""
    if count <= limit:
        return list(range(count)), None
    head = limit // 2
    tail = limit - head
    return [*range(head), *range(count - tail, count)], taken_warning(count, head, tail)


def taken_warning(count: int, head: int, tail: int) -> str:
    """What a source's warning says when only part of a long feed was read."""
    return (
        f"the feed lists {count} entries; {head + tail} were taken, the first {head}"
        f" and the last {tail} (at most {head + tail} per poll)"
    )


def _entry_starts(data: bytes) -> list[int] | None:
    """Byte offsets of every entry's start tag, or None when the feed cannot be cut."""
    starts: list[int] = []
    parents: set[int] = set()
    open_elements: list[int] = []
    numbers = itertools.count()
    parser = expat.ParserCreate()

    def start(name: str, attributes: Any) -> None:
        if name.rpartition(":")[2] in ENTRY_NAMES:
            starts.append(parser.CurrentByteIndex)
            parents.add(open_elements[-1] if open_elements else -1)
        open_elements.append(next(numbers))

    def end(name: str) -> None:
        open_elements.pop()

    return starts if scan_entries(parser, data, start, end) and len(parents) == 1 else None


def scan_entries(
    parser: Any, data: bytes, start: Callable[[str, Any], None], end: Callable[[str], None]
) -> bool:
    """Run expat's `parser` over `data` with these element handlers; False when the
    document cannot be cut: malformed, an encoding expat does not know, a DOCTYPE, or a
    handler raising `Unsafe`. The handlers are dropped afterwards (`unhook`) either way."""

    def doctype(*args: Any) -> None:
        raise Unsafe

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = doctype
    try:
        parser.Parse(data, True)
    except (expat.ExpatError, ValueError, LookupError, Unsafe):
        return False
    finally:
        unhook(parser)
    return True


def unhook(parser: Any) -> None:
    """Drop `parser`'s handlers, which hold it (and the document) in a reference cycle.

    Left in place, each document's parser, handlers and bytes would wait for the cyclic
    collector, which the service runs seldom (`watcher.ops.memory`): a first round's
    documents piled up (about 4 MB of PSS) and were then traced at a collection.
    """
    parser.StartElementHandler = None
    parser.EndElementHandler = None
    parser.StartDoctypeDeclHandler = None
