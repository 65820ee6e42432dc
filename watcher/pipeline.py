"""One poll of one source, start to end: fetch → identify → classify → store + queue.

This is the readable spine of the service; `service.py` only decides when it runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from watcher.config import Source
from watcher.dedup import with_identity
from watcher.errors import SourceError
from watcher.items import Item
from watcher.notify.route import recipients
from watcher.runtime import Runtime
from watcher.sources import fetch_source
from watcher.store.poll import ItemPlan, known_items, save_poll
from watcher.store.source_state import load_validators, record_failure, record_success

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
    validators = await load_validators(rt.db, source.name)
    try:
        result = await fetch_source(source, validators, rt.http, rt.config.http)
    except SourceError as exc:
        failures = await record_failure(
            rt.db, source=source.name, kind=source.kind, error=str(exc), now=rt.clock()
        )
        bound.warning("poll_failed", error=str(exc), consecutive_failures=failures)
        return PollReport(source=source.name, error=str(exc))
    for warning in result.warnings:
        bound.warning("source_warning", warning=warning)
    if result.not_modified:
        await record_success(rt.db, source=source.name, kind=source.kind, now=rt.clock())
        bound.info("poll_finished", fetched=0, new=0, signals=0, queued=0, not_modified=True)
        return PollReport(source=source.name, not_modified=True)

    items = _unique([with_identity(item) for item in result.items])
    known = await known_items(rt.db, source.name, [i.identity for i in items])
    changed = [
        i
        for i in items
        if i.identity not in known or known[i.identity].content_hash != i.content_hash
    ]
    plans = []
    for item in changed:
        signals = rt.classifier.classify(item.title, item.body)
        plans.append(
            ItemPlan(
                item=item,
                signals=signals,
                recipients={
                    s.type: [sub.email for sub in recipients(rt.config.subscribers, s)]
                    for s in signals
                },
            )
        )
    counts = await save_poll(
        rt.db,
        source=source.name,
        kind=source.kind,
        validators=result.validators,
        plans=plans,
        domain=rt.config.mail.domain,
        now=rt.clock(),
    )
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


def _unique(items: list[Item]) -> list[Item]:
    """Keep the first item of each identity (a feed may list an entry twice)."""
    seen: dict[str, Item] = {}
    for item in items:
        seen.setdefault(item.identity, item)
    return list(seen.values())
