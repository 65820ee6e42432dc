"""Templated commodity-market notes: the farm shape that stresses story clustering.

Trade-press daily and weekly notes are written in one frame every time, with other
numbers, dates and places. In this farm every feed writes in the same few frames (one
hot template for the whole farm), and every item is a different event: its own day
(item `index` of a feed is the note of `index` days before the epoch), port or
region, tonnages, prices and percentages. A correct clusterer joins none of them
across feeds; a cost that grows with the stories or the items of the window shows
here first. Deterministic from `(seed, feed, index)`, like `bench.textgen`.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from bench.textgen import SyntheticItem

ELEMENTS = ("dysprosium", "terbium", "gallium", "germanium", "antimony", "tungsten")
PLACES = (
    "Tianjin",
    "Qingdao",
    "Shanghai",
    "Ningbo",
    "Xiamen",
    "Guangzhou",
    "Dalian",
    "Lianyungang",
    "Baotou",
    "Ganzhou",
)
# (title, body, fires a default rule): the body's fields are filled per item
FRAMES = (
    (
        "{Element} daily: exports held at {place} port",
        "Chinese customs held {tonnes:,} tonnes of {element} exports at {place} port on"
        " {day:%B} {day.day}, traders said, as the export licence backlog grew. {Element}"
        " prices rose {rise}% to {price:,} yuan per kg in Shanghai on the day, the highest"
        " since the export controls began.",
        True,
    ),
    (
        "{Element} market close: {place} spot steady",
        "{Element} spot prices in {place} closed at {price:,} yuan per kg on {day:%B}"
        " {day.day}, {rise}% above the previous session, with {tonnes:,} tonnes changing"
        " hands. Buyers said demand from magnet makers was steady and offers were thin.",
        False,
    ),
    (
        "Weekly {element} wrap: {place} stocks at {tonnes:,} tonnes",
        "Warehouse stocks of {element} in {place} stood at {tonnes:,} tonnes in the week to"
        " {day:%B} {day.day}, traders said, while the weekly average price moved {rise}% to"
        " {price:,} yuan per kg. Consumers bought only for prompt needs.",
        False,
    ),
)


def templated_item(seed: int, feed: int, index: int, epoch: int) -> SyntheticItem:
    """The note at `index` of `feed`: the day `index` days before `epoch`, its own figures."""
    rng = random.Random(f"templated/{seed}/{feed}/{index}")
    title, body, fires = FRAMES[(feed + index) % len(FRAMES)]
    element = rng.choice(ELEMENTS)
    fields = {
        "element": element,
        "Element": element.capitalize(),
        "place": rng.choice(PLACES),
        "day": datetime.fromtimestamp(epoch, UTC).date() - timedelta(days=index),
        "tonnes": rng.randrange(20, 5000),
        "rise": f"{rng.randrange(1, 90) / 10:g}",
        "price": rng.randrange(800, 9000) * 10,
    }
    return SyntheticItem(
        title=title.format(**fields),
        body=body.format(**fields),
        signal="export_control" if fires else None,
        company=fields["place"],
    )
