"""Which subscribers want a signal, and where it goes: pure filters from the config."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from watcher.config import SignalFilter, Subscriber
from watcher.domain.items import Recipient, Signal
from watcher.notify.channel import Channel, recipients_of


def wants(subscriber: SignalFilter, signal: Signal) -> bool:
    """True when the signal passes every filter the subscriber set."""
    if subscriber.signals is not None and signal.type not in subscriber.signals:
        return False
    if signal.severity.rank < subscriber.min_severity.rank:
        return False
    if signal.direction not in subscriber.directions:
        return False
    if signal.speculative and not subscriber.include_speculative:
        return False
    if subscriber.elements and not _overlaps(subscriber.elements, signal.entities.elements):
        return False
    return not (
        subscriber.countries and not _overlaps(subscriber.countries, signal.entities.countries)
    )


def recipients(subscribers: Iterable[Subscriber], signal: Signal) -> list[Subscriber]:
    """The subscribers that want `signal`, in config order."""
    return [s for s in subscribers if wants(s, signal)]


def route(
    subscribers: Iterable[Subscriber], signal: Signal, channels: Mapping[str, Channel]
) -> list[Recipient]:
    """Every channel target of every subscriber that wants `signal`."""
    return [r for s in recipients(subscribers, signal) for r in recipients_of(s, channels)]


def _overlaps(wanted: Iterable[str], found: Iterable[str]) -> bool:
    wanted_lower = {w.lower() for w in wanted}
    for name in found:
        parts = {p.lower() for p in name.replace("+", " ").split()}
        if name.lower() in wanted_lower or parts & wanted_lower:
            return True
    return False
