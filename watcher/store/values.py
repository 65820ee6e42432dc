"""Rows back into the frozen values the other stages use (no ORM row leaves `store/`)."""

from __future__ import annotations

from watcher.domain.items import Direction, Entities, Evidence, Item, Severity, Signal, Span
from watcher.store.tables import ItemRow, SignalRow


def item_value(row: ItemRow) -> Item:
    """The `Item` an item row stores."""
    return Item(
        source=row.source,
        title=row.title,
        body=row.body,
        link=row.link,
        guid=row.guid,
        published=row.published,
        identity=row.identity,
        content_hash=row.content_hash,
    )


def signal_value(row: SignalRow) -> Signal:
    """The `Signal` a signal row stores, evidence spans included."""
    evidence = tuple(
        Evidence(
            sentence=e["sentence"],
            spans=tuple(Span(int(a), int(b), str(c)) for a, b, c in e.get("spans", [])),
            in_title=bool(e.get("in_title")),
        )
        for e in row.evidence
    )
    entities = Entities(
        elements=tuple(row.entities.get("elements", [])),
        products=tuple(row.entities.get("products", [])),
        countries=tuple(row.entities.get("countries", [])),
    )
    return Signal(
        type=row.type,
        direction=Direction(row.direction),
        severity=Severity(row.severity),
        score=row.score,
        rule=row.rule,
        evidence=evidence,
        entities=entities,
        speculative=row.speculative,
    )
