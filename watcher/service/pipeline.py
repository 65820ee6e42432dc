"""One poll of one source, start to end: fetch → identify → classify → route → store.

Parsing, classifying and sketching run in the parse pool (threads first, worker processes
when they fall behind; `watcher.service.analysis`); the event loop fetches, decides what
is new and writes.

This is the readable spine of the service; `watcher.service.rounds` and the daemon only
decide when it runs. Whatever happens, the poll ends by writing the source's row (its
health and when it is due next, `watcher.domain.polling`) together with the admin
notices its health calls for (`watcher.service.health`), in the same transaction as
its items.

What only a poll with a document needs (storing items and their stories, looking up
known items, routing, full text) is imported on first use: a round of 304s never loads
it (issue 20).
"""

from __future__ import annotations

import asyncio
import functools
import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import structlog

from watcher.concurrency.pool import Runs
from watcher.config import Source
from watcher.domain import polling
from watcher.domain.errors import FetchError, PageChangedError, ParseError, SourceError, WorkerError
from watcher.domain.items import Item
from watcher.service import health
from watcher.service.analysis import Analysis, analyse, sketching
from watcher.service.runtime import Runtime
from watcher.sources import entry_marks, fetch_source, wants_full_text
from watcher.sources.result import FetchResult
from watcher.store.source_state import (
    SourceState,
    Success,
    load_state,
    record_failure,
    record_success,
)

if TYPE_CHECKING:
    from watcher.store.db import Database
    from watcher.store.lookup import KnownItem
    from watcher.store.poll import ItemPlan, SaveCounts

log = structlog.get_logger("watcher.pipeline")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PollReport:
    """The counts of one poll; `error` is set when the source failed."""

    source: str
    fetched: int = 0
    new: int = 0
    revised: int = 0
    signals: int = 0
    queued: int = 0
    not_modified: bool = False
    error: str | None = None
    signal_kinds: tuple[tuple[str, str], ...] = ()
    links_refused: int = 0  # article links leading to internal addresses (never fetched)

    @property
    def ok(self) -> bool:
        """True when the source answered and its items were handled."""
        return self.error is None


async def poll_source(rt: Runtime, source: Source) -> PollReport:
    """Poll `source` once; a failure is recorded on its row and reported, never raised.

    Reads the store twice (the source's state before fetching, the known items after)
    and writes once: items, signals, outbox rows, the source's row and the admin notices
    its health calls for, in one transaction. A feed's entries whose items are stored
    unchanged are not parsed again: their marks (`watcher.sources.entry_marks`) come with
    the source's state and go back with its row.
    """
    turn = _Turn(rt.storing)
    try:
        return await _poll(rt, source, turn)
    finally:
        turn.give_back()


class _Turn:
    """A poll's place among the few that parse, classify and store at once (`Runtime.storing`).

    Taken when the poll first hands its document to the parse pool, so a poll waits for
    its place holding the bytes it fetched, not parsed items, analyses and plans: a
    hundred polls fetched at once no longer all parse before the first is stored. Given
    back while a poll fetches its articles' full text (network time), and at its end.
    """

    def __init__(self, places: asyncio.Semaphore) -> None:
        self._places = places
        self._held = False

    async def take(self) -> None:
        if not self._held:
            await self._places.acquire()
            self._held = True

    def give_back(self) -> None:
        if self._held:
            self._held = False
            self._places.release()


@dataclass(frozen=True, slots=True)
class _TakingTurns:
    """The parse pool, entered with the poll's turn."""

    pool: Runs
    turn: _Turn

    async def run(self, what: str, fn: Callable[..., T], *args: Any) -> T:
        await self.turn.take()
        return await self.pool.run(what, fn, *args)


async def _poll(rt: Runtime, source: Source, turn: _Turn) -> PollReport:
    bound = log.bind(source=source.name, kind=source.kind)
    before = await load_state(rt.db, source.name)
    # a feed whose items keep their text as parsed skips the entries its polls stored
    marking = source.kind == "feed" and not wants_full_text(source)

    @functools.cache
    def marks() -> tuple[entry_marks.EntryMark, ...]:  # unpacked once, when first needed
        return entry_marks.unpack(before.entry_marks)

    def offer() -> entry_marks.Seen:  # asked only when the feed sent a document
        return entry_marks.offered(marks(), rt.clock(), rt.config.retention.items)

    try:
        pool = _TakingTurns(rt.parsers, turn)
        result = await fetch_source(
            source, before.validators, rt.fetcher, pool, offer if marking else None
        )
    except SourceError as exc:
        return await record_poll_failure(rt, source, before, exc)
    for warning in result.warnings:
        bound.warning("source_warning", warning=warning)
    if result.not_modified:
        now = rt.clock()
        queued = await record_success(rt.db, _success(rt, source, before, result, now))
        _log_notices(queued)
        bound.info("poll_finished", fetched=0, new=0, signals=0, queued=0, not_modified=True)
        return PollReport(source=source.name, not_modified=True)

    items = _unique(result.items)
    as_parsed = items
    known: Mapping[str, KnownItem] = {}
    if not before.never_succeeded and items:  # items are stored by successful polls only
        items, known = await _known(rt, source, items)
    is_changed = [
        i.identity not in known or known[i.identity].content_hash != i.content_hash for i in items
    ]
    changed = list(itertools.compress(items, is_changed))
    if changed and wants_full_text(source):
        from watcher.sources.fulltext import add_full_text

        turn.give_back()  # articles are fetched (network time) outside the few places
        changed, full = await add_full_text(
            changed, source.name, rt.fetcher, rt.parsers, rt.config.polling.full_text_items
        )
        for note in full.warnings:
            bound.warning("full_text_failed", warning=note)
        for refusal in full.refused:
            bound.warning("article_link_refused", reason=refusal)
        refused = len(full.refused)
    else:
        refused = 0
    await turn.take()  # held since parsing, unless full text was fetched
    try:
        analyses = await _analyse(rt, source, changed)
    except SourceError as exc:
        return await record_poll_failure(rt, source, before, exc)
    now = rt.clock()
    plans = [
        _plan(rt, source, item, analysis, before, now)
        for item, analysis in zip(changed, analyses, strict=True)
    ]
    fresh = any(i.identity not in known for i in changed)
    success = _success(rt, source, before, result, now, new_items=fresh)
    if marking:
        stored = _stored_entries(result, itertools.compress(as_parsed, is_changed))
        kept = entry_marks.next_marks(marks(), result.skipped, stored, now)
        success = replace(success, entry_marks=entry_marks.pack(kept))
    counts = await save_poll(
        rt.db,
        success=success,
        plans=plans,
        story_window=rt.config.polling.story_window,
    )
    _log_notices(counts.notices)
    report = PollReport(
        source=source.name,
        fetched=len(items) + len(result.skipped),
        new=counts.new,
        revised=counts.revised,
        signals=counts.signals,
        queued=counts.queued,
        signal_kinds=tuple((s.type, s.direction.value) for p in plans for s in p.signals),
        links_refused=refused,
    )
    bound.info(
        "poll_finished",
        fetched=report.fetched,
        skipped=len(result.skipped),
        new=report.new,
        revised=report.revised,
        signals=report.signals,
        queued=report.queued,
    )
    return report


async def record_poll_failure(
    rt: Runtime, source: Source, before: SourceState, exc: SourceError | TimeoutError
) -> PollReport:
    """Write a failed poll to the row (backoff included) with the notices it calls for."""
    now = rt.clock()
    error = str(exc) if isinstance(exc, SourceError) else f"poll took longer than {source.timeout}"
    failures = before.consecutive_failures + 1
    retry_after = exc.retry_after if isinstance(exc, FetchError) else None
    retry_at = polling.after_failure(rt.config.polling, now, failures, retry_after)
    notices = health.after_failure(
        rt.config,
        source,
        failures=failures,
        failing_since=before.failing_since or now,
        error=error,
        retry_at=retry_at,
        page_changed=isinstance(exc, PageChangedError),  # only page sources raise it
    )
    queued = await record_failure(
        rt.db,
        source=source.name,
        kind=source.kind,
        error=error,
        now=now,
        backoff_until=retry_at,
        notices=notices,
        domain=rt.config.mail.domain,
    )
    log.warning(
        "poll_failed",
        source=source.name,
        error=error,
        error_type=type(exc).__name__,
        consecutive_failures=failures,
        retry_at=retry_at.isoformat(),
    )
    _log_notices(queued)
    return PollReport(source=source.name, error=error)


def _success(
    rt: Runtime,
    source: Source,
    before: SourceState,
    result: FetchResult,
    now: datetime,
    new_items: bool = False,
) -> Success:
    """The poll's success as the source's row records it, with the notices it calls for."""
    notices = health.after_success(
        rt.config,
        source,
        failures=before.consecutive_failures,
        failing_since=before.failing_since,
        last_new_item_at=now if new_items else before.last_new_item_at,
        added_at=before.added_at or now,
        now=now,
    )
    return Success(
        source=source.name,
        kind=source.kind,
        now=now,
        next_poll_at=polling.after_success(source, rt.config.polling, now, result.min_interval),
        validators=result.validators,
        new_items=new_items,
        notices=tuple(notices),
        domain=rt.config.mail.domain,
    )


def _log_notices(keys: Sequence[str]) -> None:
    for key in keys:
        log.info("admin_notice_queued", key=key)


async def save_poll(
    db: Database, *, success: Success, plans: Sequence[ItemPlan], story_window: timedelta
) -> SaveCounts:
    """`watcher.store.poll.save_poll`, its module (with the story index and story facts)
    imported when a poll first has a document to store, not by a round of 304s."""
    from watcher.store import poll

    return await poll.save_poll(db, success=success, plans=plans, story_window=story_window)


async def _analyse(rt: Runtime, source: Source, items: list[Item]) -> list[Analysis]:
    """Signals and story sketches of `items`, worked out in a worker; `ParseError` if it fails.

    With story clustering off (`polling.story_window` of zero) the items are not sketched.
    """
    if not items:
        return []
    today = rt.clock().date()
    texts = [(i.title, i.body, _day_of(i, today)) for i in items]
    sketches = sketching(rt.config)
    try:
        return await rt.parsers.run("classifying its items", analyse, rt.rules, texts, sketches)
    except WorkerError as exc:
        raise ParseError(source.name, str(exc)) from exc


def _day_of(item: Item, today: date) -> date:
    """The day an item is from, as its source states it (a stated day is not shifted to
    UTC); today when it carries no date."""
    if item.published_day is not None:
        return item.published_day
    return item.published.date() if item.published is not None else today


def _plan(
    rt: Runtime, source: Source, item: Item, analysis: Analysis, before: SourceState, now: datetime
) -> ItemPlan:
    """Route an item's signals; the backfill poll alerts only recent items.

    On a source's first successful poll everything is stored, but only items published
    within `backfill` alert (an undated item counts as published now).
    """
    from watcher.notify.route import route
    from watcher.store.poll import ItemPlan

    old = item.published is not None and now - item.published > source.backfill
    alerts = not (before.never_succeeded and old)
    return ItemPlan(
        item=item,
        signals=analysis.signals,
        fingerprint=analysis.fingerprint,
        keys=analysis.keys,
        recipients={
            s.type: route(rt.config.subscribers, s, rt.channels) for s in analysis.signals if alerts
        },
    )


async def _known(
    rt: Runtime, source: Source, items: list[Item]
) -> tuple[list[Item], dict[str, KnownItem]]:
    """The stored items among `items` (one read), and `items` with churned guids undone.

    Some feeds mint a new guid for the same entry at every fetch: with `identity: auto`
    a known link under a new guid is the known item. Only links that one entry alone
    carries count: feeds that point every entry at the same page are left alone.
    """
    links: Counter[str] = Counter(i.link for i in items if i.link)
    unique = [link for link, count in links.items() if count == 1]
    if source.identity != "auto":
        unique = []
    from watcher.store.lookup import known

    found = await known(rt.db, source.name, [i.identity for i in items], unique)
    stored = dict(found.items)
    out = []
    for item in items:
        match = found.by_link.get(item.link or "") if links[item.link or ""] == 1 else None
        if match is not None and item.identity not in stored and match[0] not in stored:
            identity, known_item = match
            stored[identity] = known_item
            item = replace(item, identity=identity)
        out.append(item)
    return out, stored


def _stored_entries(
    result: FetchResult, stored: Iterable[Item]
) -> dict[bytes, tuple[str, str | None]]:
    """Digest → identity and link (as parsed) of the entries whose items are `stored`.

    The entry of an identity is its first in the document, the one `_unique` kept; none
    when the parse did not report its entries.
    """
    if not result.digests:
        return {}
    first: dict[str, bytes] = {}
    for item, digest in zip(result.items, result.digests, strict=True):
        first.setdefault(item.identity, digest)
    return {first[i.identity]: (i.identity, i.link) for i in stored}


def _unique(items: list[Item]) -> list[Item]:
    """Keep the first item of each identity (a feed may list an entry twice)."""
    seen: dict[str, Item] = {}
    for item in items:
        seen.setdefault(item.identity, item)
    return list(seen.values())
