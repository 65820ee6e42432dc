"""A feed document cut into its entries' byte sections, so entries seen before skip parsing.

An entry (`<item>`, `<entry>`, any prefix) is a byte range of the document. Its digest
covers its bytes and the document's *context*: everything outside the entries that can
change how feedparser reads an entry (the markup before the first entry, where the
ancestors' namespace declarations, `xml:base` and `xml:lang` are; the URL the document
came from; the content type it is read with; the source's identity mode; this code's
version). Text outside the entries (a channel's `lastBuildDate`) is not context: it
changes at every publication and reads into no entry.

An entry whose digest a poll recorded on its source's row (`watcher.sources.entry_marks`)
when it stored the entry's item is cut out of the document before feedparser sees it:
parsed again, it would give the same item, which the poll would find known and
unchanged. An entry edited by one byte has another digest, so it is parsed and seen as
revised as before.

Only documents that expat reads as well-formed XML, with no DOCTYPE (whose entities an
entry may name), whose entries are siblings and never nested, are cut; any other
document is parsed whole, every time.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from xml.parsers import expat

import watcher
from watcher.sources.trim import ENTRY_NAMES, Unsafe, scan_entries

# raise when the way a section becomes an item changes without the package version doing so
SECTION_FORMAT = b"1"


@dataclass(frozen=True, slots=True)
class Sections:
    """A document's entries as `(start, end)` byte ranges in order, and their digests."""

    spans: tuple[tuple[int, int], ...]
    digests: tuple[bytes, ...]


def find_sections(data: bytes, context: bytes) -> Sections | None:
    """The entries of `data` and their digests under `context`; None when it cannot be cut."""
    spans = _entry_spans(data)
    if not spans:
        return None
    head = hashlib.blake2b(digest_size=16)
    head.update(SECTION_FORMAT + b"\0" + watcher.__version__.encode() + b"\0" + context + b"\0")
    head.update(_markup(data[: spans[0][0]]))
    digests = []
    for start, end in spans:
        digest = head.copy()
        digest.update(data[start:end])
        digests.append(digest.digest())
    return Sections(spans=tuple(spans), digests=tuple(digests))


def context_of(*parts: str) -> bytes:
    """The context bytes of a document read with `parts` (URL, content type, identity mode)."""
    return "\0".join(parts).encode("utf-8", "surrogatepass")


def without(data: bytes, sections: Sections, skip: Collection[bytes]) -> bytes:
    """`data` with the entries whose digest is in `skip` cut out (the rest byte for byte)."""
    kept = []
    position = 0
    for (start, end), digest in zip(sections.spans, sections.digests, strict=True):
        if digest in skip:
            kept.append(data[position:start])
            position = end
    kept.append(data[position:])
    return b"".join(kept)


def _markup(prologue: bytes) -> bytes:
    """The markup of the document before its first entry (its tags, not its text)."""
    out = []
    position = 0
    while (start := prologue.find(b"<", position)) != -1:
        end = prologue.find(b">", start)
        if end == -1:
            out.append(prologue[start:])
            break
        out.append(prologue[start : end + 1])
        position = end + 1
    return b"".join(out)


def _entry_spans(data: bytes) -> list[tuple[int, int]] | None:
    """Byte ranges of the top-level entries, or None when the document cannot be cut."""
    spans: list[tuple[int, int]] = []
    parents: set[int] = set()
    open_elements: list[int] = []  # the numbers of the elements open, outermost first
    numbers = itertools.count()
    inside = 0  # how many elements are open while an entry is read; 0 outside any entry
    open_at = 0
    parser = expat.ParserCreate()

    def start(name: str, attributes: Any) -> None:
        nonlocal inside, open_at
        if name.rpartition(":")[2] in ENTRY_NAMES:
            if inside:
                raise Unsafe
            parents.add(open_elements[-1] if open_elements else -1)
            inside, open_at = len(open_elements) + 1, parser.CurrentByteIndex
        open_elements.append(next(numbers))

    def end(name: str) -> None:
        nonlocal inside
        if len(open_elements) == inside:
            at = parser.CurrentByteIndex
            tag = b"</" + name.encode()
            close = data.find(b">", at)
            # not this entry's end tag (an empty-element tag ends where the next tag starts)
            own = data[at : at + len(tag)] == tag and not data[at + len(tag) : close].strip()
            if close == -1 or not own:
                raise Unsafe
            spans.append((open_at, close + 1))
            inside = 0
        open_elements.pop()

    return spans if scan_entries(parser, data, start, end) and len(parents) == 1 else None
