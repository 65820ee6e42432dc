"""Backtest a rule change: classify stored items again and compare with what was stored.

`run_backtest` reads the items fetched within the window from the database, classifies
each with the configuration's rules, and reports per signal type which signals would
appear (the rules find one the stored run did not), disappear (stored, no longer
found) or change (same type, other direction or speculative flag), with examples.
Nothing is written: a user sees the effect of a rule edit before deploying it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from watcher.classify.engine import Classifier
from watcher.config import WatcherConfig
from watcher.domain.durations import format_duration
from watcher.domain.items import Signal
from watcher.store.db import Database
from watcher.store.history import StoredItem, items_fetched_since

APPEARS, DISAPPEARS, CHANGES = "appears", "disappears", "changes"
_MARK = {APPEARS: "+", DISAPPEARS: "-", CHANGES: "~"}


@dataclass(frozen=True, slots=True)
class Change:
    """One item whose signal of one type differs between the stored run and the rules."""

    kind: str
    item: StoredItem
    before: Signal | None
    after: Signal | None


@dataclass(slots=True)
class TypeDiff:
    """How one signal type fares: counts before and after, and the items that differ."""

    type: str
    stored: int = 0
    now: int = 0
    changes: list[Change] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Change]:
        """The changes of one kind (`appears`, `disappears`, `changes`)."""
        return [c for c in self.changes if c.kind == kind]


@dataclass(frozen=True, slots=True)
class Backtest:
    """The outcome of a backtest over the items fetched since `since`."""

    since: datetime
    window: timedelta
    items: int
    types: list[TypeDiff]


def compare(
    items: Iterable[StoredItem],
    classifier: Classifier,
    advance: Callable[[int], None] | None = None,
) -> list[TypeDiff]:
    """Per signal type, the stored signals against the classifier's, item by item.

    Types come in rule order, then types only the stored run knows, by name.
    `advance(1)` is called per item (for a progress bar).
    """
    diffs = {name: TypeDiff(name) for name in classifier.rules}
    for stored in items:
        if advance is not None:
            advance(1)
        before = {s.type: s for s in stored.signals}
        item = stored.item
        when = item.published_day or (item.published or stored.fetched_at).date()
        after = {s.type: s for s in classifier.classify(item.title, item.body, when)}
        for name in sorted(before.keys() | after.keys()):
            diff = diffs.setdefault(name, TypeDiff(name))
            old, new = before.get(name), after.get(name)
            diff.stored += old is not None
            diff.now += new is not None
            kind = _kind(old, new)
            if kind:
                diff.changes.append(Change(kind, stored, old, new))
    known = [diffs.pop(name) for name in classifier.rules]
    return known + sorted(diffs.values(), key=lambda d: d.type)


def _kind(old: Signal | None, new: Signal | None) -> str | None:
    if old is None:
        return APPEARS if new is not None else None
    if new is None:
        return DISAPPEARS
    if (old.direction, old.speculative) != (new.direction, new.speculative):
        return CHANGES
    return None


async def run_backtest(
    db: Database,
    config: WatcherConfig,
    window: timedelta,
    now: datetime,
    progress: Callable[[int], Callable[[int], None]] | None = None,
) -> Backtest:
    """Backtest `config`'s rules on the items `db` holds from the last `window`.

    `progress(total)`, if given, returns the `advance` callback used per item.
    """
    since = now - window
    items = await items_fetched_since(db, since)
    advance = progress(len(items)) if progress is not None else None
    types = compare(items, Classifier.from_config(config), advance)
    return Backtest(since=since, window=window, items=len(items), types=types)


def format_backtest(result: Backtest, examples: int = 3) -> str:
    """A report: per type the counts, then up to `examples` items per kind of change."""
    lines = [
        f"Backtest on {result.items} stored items fetched since"
        f" {result.since:%Y-%m-%d %H:%M} UTC (last {format_duration(result.window)})"
    ]
    for diff in result.types:
        counts = ", ".join(
            f"{len(diff.of_kind(kind))} {kind}"
            for kind in (APPEARS, DISAPPEARS, CHANGES)
            if diff.of_kind(kind)
        )
        lines.append(
            f"{diff.type}: {diff.stored} stored, {diff.now} with these rules"
            f" — {counts or 'no change'}"
        )
        for kind in (APPEARS, DISAPPEARS, CHANGES):
            lines.extend(_examples(diff.of_kind(kind), examples))
    return "\n".join(lines)


def _examples(changes: Sequence[Change], limit: int) -> list[str]:
    lines = []
    for change in changes[:limit]:
        title = change.item.item.title or "(untitled)"
        shown = change.after or change.before
        assert shown is not None
        how = f"{shown.direction.value}{' speculative' if shown.speculative else ''}"
        if change.kind == CHANGES and change.before is not None and change.after is not None:
            was = change.before
            how = f"{was.direction.value}{' speculative' if was.speculative else ''} → {how}"
        lines.append(f"  {_MARK[change.kind]} {title} [{how}]")
        lines.extend(f"      > {e.marked()}" for e in shown.evidence[:2])
    if len(changes) > limit:
        lines.append(f"  … and {len(changes) - limit} more {changes[0].kind}")
    return lines
