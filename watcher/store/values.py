"""Rows back into the frozen values the other stages use (no row object leaves `store/`).

Queries that join several tables label their columns `<table>_<column>`
(`LABEL_STYLE_TABLENAME_PLUS_COL`); pass the table's prefix to read its part of a row.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sqlalchemy import RowMapping, Select
from sqlalchemy.sql import LABEL_STYLE_TABLENAME_PLUS_COL

from watcher.domain.items import Direction, Entities, Evidence, Item, Severity, Signal, Span

ITEM_PREFIX, SIGNAL_PREFIX = "items_", "signals_"


def labelled(query: Select[Any]) -> Select[Any]:
    """`query` with its columns named `<table>_<column>`, so joined tables never clash."""
    return query.set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL)


# the item row's columns `item_value` reads: one for each field of `Item`
ITEM_COLUMNS = tuple(field.name for field in dataclasses.fields(Item))


def item_value(row: RowMapping, prefix: str = "") -> Item:
    """The `Item` an item row stores (`row` a row's mapping; `prefix` as in `labelled`)."""
    return Item(
        source=row[f"{prefix}source"],
        title=row[f"{prefix}title"],
        body=row[f"{prefix}body"],
        link=row[f"{prefix}link"],
        guid=row[f"{prefix}guid"],
        published=row[f"{prefix}published"],
        identity=row[f"{prefix}identity"],
        content_hash=row[f"{prefix}content_hash"],
        published_day=row[f"{prefix}published_day"],
        date_from=row[f"{prefix}date_from"] or "",
    )


# the signal row's columns `signal_value` reads: one for each field of `Signal`
SIGNAL_COLUMNS = tuple(field.name for field in dataclasses.fields(Signal))


def _spans(evidence: Mapping[str, Any]) -> tuple[Span, ...]:
    """A stored evidence sentence's spans with their glosses: one per span where the row
    has them ("span_glosses"), else by concept (rows stored before 2026-12-07)."""
    spans = evidence.get("spans", [])
    glosses = evidence.get("span_glosses")
    if not isinstance(glosses, list) or len(glosses) != len(spans):
        by_concept = evidence.get("glosses", {})
        glosses = [by_concept.get(concept, "") for _, _, concept in spans]
    return tuple(
        Span(int(a), int(b), str(c), str(gloss))
        for (a, b, c), gloss in zip(spans, glosses, strict=True)
    )


def signal_value(row: RowMapping, prefix: str = "") -> Signal:
    """The `Signal` a signal row stores, evidence spans included."""
    evidence = tuple(
        Evidence(sentence=e["sentence"], spans=_spans(e), in_title=bool(e.get("in_title")))
        for e in row[f"{prefix}evidence"]
    )
    found = row[f"{prefix}entities"]
    entities = Entities(
        elements=tuple(found.get("elements", [])),
        products=tuple(found.get("products", [])),
        countries=tuple(found.get("countries", [])),
    )
    return Signal(
        type=row[f"{prefix}type"],
        direction=Direction(row[f"{prefix}direction"]),
        severity=Severity(row[f"{prefix}severity"]),
        score=row[f"{prefix}score"],
        rule=row[f"{prefix}rule"],
        evidence=evidence,
        entities=entities,
        speculative=row[f"{prefix}speculative"],
        direction_uncertain=row[f"{prefix}direction_uncertain"],
        direction_doubt=row[f"{prefix}direction_doubt"] or "",
    )
