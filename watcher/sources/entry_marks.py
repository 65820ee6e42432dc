"""The feed entries whose items a source's polls stored, carried on its row between polls.

A *mark* is one entry's section digest (`watcher.sources.sections`), the day (UTC) its
item was stored, and short hashes of the identity and link that item was parsed with.
The marks of a feed's entries are packed into one small blob on the source's row
(`sources.entry_marks`, 34 bytes an entry), read with the row's state before a poll and
written with it in the poll's own transaction, so skipping costs no query of its own.

A poll offers its parser the marks still *valid* (`offered`): an entry with such a mark
is not parsed again (its item is stored unchanged). A mark is made only when the poll
stores the entry's item (new or revised) and is dropped when the entry leaves the
document; a mark older than the items' retention window (less two days) is not offered,
since retention may have purged its item, which the poll must then see as new again.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

_RECORD = struct.Struct(">16sH8s8s")
_MARGIN_DAYS = 2  # a purge runs at any hour: never offer a mark this close to its window
NO_HASH = bytes(8)  # the short hash of no text (an entry without a link)
# what a parser is offered: digest → (identity hash, link hash) of the entries to skip
Seen = Mapping[bytes, tuple[bytes, bytes]]


@dataclass(frozen=True, slots=True)
class EntryMark:
    """One entry whose item was stored: its digest, the day, its identity's and link's hashes."""

    digest: bytes
    day: int  # days since 1970-01-01, UTC
    identity: bytes
    link: bytes


def short_hash(text: str | None) -> bytes:
    """8 bytes standing for `text` (`NO_HASH` for None or ""): equal texts, equal hashes."""
    if not text:
        return NO_HASH
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()


def day_of(moment: datetime) -> int:
    """The UTC day number of an aware `moment` (days since 1970-01-01)."""
    return int(moment.timestamp() // 86_400)


def pack(marks: Iterable[EntryMark]) -> bytes:
    """The marks as the row stores them (empty bytes for none)."""
    return b"".join(_RECORD.pack(m.digest, m.day, m.identity, m.link) for m in marks)


def unpack(blob: bytes | None) -> tuple[EntryMark, ...]:
    """The marks of a stored blob; none when there is none or it is not whole records."""
    if not blob or len(blob) % _RECORD.size:
        return ()
    return tuple(EntryMark(*fields) for fields in _RECORD.iter_unpack(blob))


def offered(marks: Iterable[EntryMark], now: datetime, retention: timedelta) -> Seen:
    """Digest → (identity hash, link hash) of the marks a parser may skip at `now`.

    A mark whose day lies further back than `retention` less two days, or ahead of
    `now` (a clock set back), is left out: its entry is parsed, as without marks.
    """
    today = day_of(now)
    window = retention.days - _MARGIN_DAYS
    return {m.digest: (m.identity, m.link) for m in marks if 0 <= today - m.day < window}


def next_marks(
    marks: Iterable[EntryMark],
    skipped: Iterable[bytes],
    stored: Mapping[bytes, tuple[str, str | None]],
    now: datetime,
) -> tuple[EntryMark, ...]:
    """The marks to keep after a poll: those of the entries it skipped, as they were, then
    one made `now` for each entry whose item it stored (digest → identity and link as
    parsed). Entries no longer in the document, or read and found unchanged, have none.
    """
    by_digest = {m.digest: m for m in marks}
    kept = [by_digest[d] for d in dict.fromkeys(skipped) if d in by_digest]
    taken = {m.digest for m in kept}
    today = day_of(now)
    made = [
        EntryMark(digest, today, short_hash(identity), short_hash(link))
        for digest, (identity, link) in stored.items()
        if digest not in taken
    ]
    return (*kept, *made)
