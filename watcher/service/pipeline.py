"""One poll of one source, start to end: fetch → identify → classify → store + queue.

Parsing, classifying and sketching run in the parser workers (`watcher.service.analysis`); the
event loop fetches, decides what is new and writes.

This is the readable spine of the service; `service.py` only decides when it runs.
Whatever happens, the poll ends by writing the source's row: its health and when it
is due next (`watcher.domain.polling`), and the admin notices its health calls for
(`watcher.service.health`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

import structlog

from watcher.config import FilesSource, PageSource, Source
from watcher.domain import polling
from watcher.domain.errors import FetchError, PageChangedError, SourceError
from watcher.domain.items import Item
from watcher.notify.route import recipients
from watcher.service import health
from watcher.service.analysis import Analysis, analyse
from watcher.service.runtime import Runtime
from watcher.sources import fetch_source
from watcher.sources.fulltext import add_full_text
from watcher.store.lookup import KnownItem, known_items, known_links
from watcher.store.poll import ItemPlan, save_poll
from watcher.store.source_state import SourceState, load_state, record_failure, record_success

log = structlog.get_logger("watcher.pipeline")


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

    @property
    def ok(self) -> bool:
        """True when the source answered and its items were handled."""
        return self.error is None


async def poll_source(rt: Runtime, source: Source) -> PollReport:
    """Poll `source` once; a failure is recorded on its row and reported, never raised."""
    bound = log.bind(source=source.name, kind=source.kind)
    before = await load_state(rt.db, source.name)
    try:
        result = await fetch_source(source, before.validators, rt.fetcher, rt.parsers)
    except SourceError as exc:
        return await record_poll_failure(rt, source, before, exc)
    for warning in result.warnings:
        bound.warning("source_warning", warning=warning)
    if result.not_modified:
        now = rt.clock()
        await record_success(
            rt.db,
            source=source.name,
            kind=source.kind,
            now=now,
            next_poll_at=polling.after_success(source, rt.config.polling, now, result.min_interval),
            validators=result.validators,
        )
        await _after_success(rt, source, before, now)
        bound.info("poll_finished", fetched=0, new=0, signals=0, queued=0, not_modified=True)
        return PollReport(source=source.name, not_modified=True)

    items = _unique(result.items)
    known: Mapping[str, KnownItem] = {}
    if not before.never_succeeded:  # items are stored by successful polls only
        known = await _known(rt, source.name, items)
        if source.identity == "auto":
            kept = await _keep_identities(rt, source.name, items, known)
            if kept != items:
                items, known = kept, await _known(rt, source.name, kept)
    changed = [
        i
        for i in items
        if i.identity not in known or known[i.identity].content_hash != i.content_hash
    ]
    if changed and not isinstance(source, FilesSource) and source.full_text:
        changed, notes = await add_full_text(
            changed, source.name, rt.fetcher, rt.parsers, rt.config.polling.full_text_items
        )
        for note in notes:
            bound.warning("full_text_failed", warning=note)
    try:
        analyses = await _analyse(rt, source, changed)
    except SourceError as exc:
        return await record_poll_failure(rt, source, before, exc)
    now = rt.clock()
    plans = [
        _plan(rt, source, item, analysis, before, now)
        for item, analysis in zip(changed, analyses, strict=True)
    ]
    counts = await save_poll(
        rt.db,
        source=source.name,
        kind=source.kind,
        validators=result.validators,
        plans=plans,
        domain=rt.config.mail.domain,
        now=now,
        next_poll_at=polling.after_success(source, rt.config.polling, now, result.min_interval),
        story_window=rt.config.polling.story_window,
    )
    await _after_success(rt, source, before, now, new_items=counts.new)
    report = PollReport(
        source=source.name,
        fetched=len(items),
        new=counts.new,
        revised=counts.revised,
        signals=counts.signals,
        queued=counts.queued,
        signal_kinds=tuple((s.type, s.direction.value) for p in plans for s in p.signals),
    )
    bound.info(
        "poll_finished",
        fetched=report.fetched,
        new=report.new,
        revised=report.revised,
        signals=report.signals,
        queued=report.queued,
    )
    return report


async def record_poll_failure(
    rt: Runtime, source: Source, before: SourceState, exc: SourceError | TimeoutError
) -> PollReport:
    """Write a failed poll to the row (backoff included) and tell the admins if it is time."""
    now = rt.clock()
    error = str(exc) if isinstance(exc, SourceError) else f"poll took longer than {source.timeout}"
    failures = before.consecutive_failures + 1
    retry_after = exc.retry_after if isinstance(exc, FetchError) else None
    retry_at = polling.after_failure(rt.config.polling, now, failures, retry_after)
    failures = await record_failure(
        rt.db, source=source.name, kind=source.kind, error=error, now=now, backoff_until=retry_at
    )
    log.warning(
        "poll_failed",
        source=source.name,
        error=error,
        error_type=type(exc).__name__,
        consecutive_failures=failures,
        retry_at=retry_at.isoformat(),
    )
    since = before.failing_since or now
    if isinstance(exc, PageChangedError) and isinstance(source, PageSource):
        await health.page_changed(
            rt.db, rt.config, source, error=error, failing_since=since, now=now
        )
    await health.source_failed(
        rt.db,
        rt.config,
        source,
        failures=failures,
        failing_since=since,
        error=error,
        retry_at=retry_at,
        now=now,
    )
    return PollReport(source=source.name, error=error)


async def _after_success(
    rt: Runtime, source: Source, before: SourceState, now: datetime, new_items: int = 0
) -> None:
    await health.source_recovered(
        rt.db,
        rt.config,
        source,
        failures=before.consecutive_failures,
        failing_since=before.failing_since,
        now=now,
    )
    await health.check_silence(
        rt.db,
        rt.config,
        source,
        last_new_item_at=now if new_items else before.last_new_item_at,
        added_at=before.added_at or now,
        now=now,
    )


async def _analyse(rt: Runtime, source: Source, items: list[Item]) -> list[Analysis]:
    """Signals and story sketches of `items`, worked out in a parser worker."""
    if not items:
        return []
    texts = [(item.title, item.body) for item in items]
    return await rt.parsers.run(source.name, "classifying its items", analyse, rt.rules, texts)


def _plan(
    rt: Runtime, source: Source, item: Item, analysis: Analysis, before: SourceState, now: datetime
) -> ItemPlan:
    """Route an item's signals; the backfill poll alerts only recent items.

    On a source's first successful poll everything is stored, but only items published
    within `backfill` alert (an undated item counts as published now).
    """
    old = item.published is not None and now - item.published > source.backfill
    alerts = not (before.never_succeeded and old)
    subscribers = rt.config.subscribers
    return ItemPlan(
        item=item,
        signals=analysis.signals,
        fingerprint=analysis.fingerprint,
        keys=analysis.keys,
        recipients={
            s.type: [sub.address for sub in recipients(subscribers, s)]
            for s in analysis.signals
            if alerts
        },
        modes={sub.address: sub.mode for sub in subscribers},
    )


async def _known(rt: Runtime, source: str, items: list[Item]) -> dict[str, KnownItem]:
    return await known_items(rt.db, source, [i.identity for i in items])


async def _keep_identities(
    rt: Runtime, source: str, items: list[Item], known: Mapping[str, KnownItem]
) -> list[Item]:
    """A known link under a new guid is the known item: some feeds mint guids per fetch.

    Only links that one entry alone carries count: feeds that point every entry at
    the same page are left alone. `known` are the stored items among `items`.
    """
    links: Counter[str | None] = Counter(i.link for i in items if i.link)
    unknown = [i.link for i in items if i.identity not in known and i.link and links[i.link] == 1]
    if not unknown:
        return items
    by_link = await known_links(rt.db, source, unknown)
    out = []
    for item in items:
        stored = by_link.get(item.link or "") if links[item.link] == 1 else None
        churned = item.identity not in known and stored is not None and stored not in known
        out.append(replace(item, identity=stored) if churned and stored else item)
    return out


def _unique(items: list[Item]) -> list[Item]:
    """Keep the first item of each identity (a feed may list an entry twice)."""
    seen: dict[str, Item] = {}
    for item in items:
        seen.setdefault(item.identity, item)
    return list(seen.values())
