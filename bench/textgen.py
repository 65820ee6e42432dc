"""Synthetic rare-earth trade-press items, deterministic from (seed, feed, index).

`make_item(seed, feed, index, signal=...)` always returns the same title and body for
the same arguments, so the farm, the parse floor and the classification scenario see
the same text on every machine. Signal items carry one plain, unhedged statement of a
supply shock (export controls, a quota delay, an NdFeB scrap shortage, a halted mine)
written so the default rules in `config/rules.yaml` fire on it; the rest of every body,
and the other items, are market colour from `bench.prose` that fires no rule.

Names of companies, mines and publications are invented from syllables, so thousands
of items stay distinct (story clustering must not merge different feeds' items).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from bench.prose import cast, colour_sentence, colour_title, house_style
from bench.signals import KINDS, event_details, signal_statement

SIGNAL_KINDS = KINDS


def _names(text: str) -> tuple[str, ...]:
    """A word list written as one '|'-separated string (keeps the tables compact)."""
    return tuple(text.split("|"))


_HEADS = _names(
    "Kestrel|Marrow|Halden|Brightwater|Corran|Tarvik|Osprey|Vantor|Greyfell|Lindqvist|"
    "Mereth|Rookwood|Saltmarsh|Tallis|Ardent|Beacon|Calder|Dunmore|Eskdale|Falkirk|"
    "Garnet|Hollins|Iverson|Jarrow|Kinross|Larchmont|Moray|Northam|Oakridge|Penrose|"
    "Quarry|Redfern|Stanway|Thornbury|Ulverston|Wexford|Yarrow|Zephyr|Ashgrove|Bramley"
)
_TAILS = _names(
    "Minerals|Rare Earths|Resources|Metals|Magnetics|Materials|Mining|Advanced Alloys|"
    "Critical Metals|Elements|Magnet Works|Refining|Strategic Metals|Oxides|Separation"
)
_SITES = _names(
    "Mount Carrow|Eagle Flats|Red Hill|Stony Creek|Blackwater|Lone Pine|Copperhead|"
    "Iron Knob|Silver Lake|Kingfisher|Ridgeback|Wolf Gully|Cedar Bend|Granite Peak|"
    "Long Reach|Hollow Tree|Bald Eagle|Sandstone|Emerald Point|Crow's Nest"
)
_PROVINCES = _names(
    "Jiangxi|Guangdong|Fujian|Inner Mongolia|Sichuan|Guangxi|Hunan|Yunnan|"
    "Western Australia|Queensland|Kachin State|Shan State|Quebec|Greenland|Wyoming|"
    "Minas Gerais|Kvanefjeld|Lao Cai|Northern Territory|Ontario"
)
_HUBS = _names(
    "Ganzhou|Baotou|Rotterdam|Shanghai|Tianjin|Xiamen|Ningbo|Hamburg|Antwerp|Busan|Osaka|"
    "Detroit|Stuttgart|Lyon|Chennai"
)
_ELEMENTS = _names(
    "neodymium|praseodymium|dysprosium|terbium|samarium|yttrium|gadolinium|lutetium|holmium|erbium"
)
_PRODUCTS = _names(
    "rare earth magnets|NdFeB magnets|PrNd oxide|dysprosium oxide|terbium metal|"
    "samarium-cobalt magnets|rare earth alloys|magnet powders|gallium metal|"
    "germanium ingots|antimony trioxide|spherical graphite|tungsten carbide powder|"
    "yttrium oxide"
)
_MAGNET_PRODUCTS = _PRODUCTS[:8]
_BUYERS = _names(
    "automakers|wind turbine makers|motor makers|electronics assemblers|"
    "defence contractors|robotics firms|appliance makers|drone makers"
)
_MONTH_NAMES = _names(
    "January|February|March|April|May|June|July|August|September|October|November|December"
)
_DESKS = _names(
    "Metals Desk|Critical Minerals Wire|Magnet Monitor|Oxide Report|Rare Earth Brief|Asia Metals"
)


@dataclass(frozen=True, slots=True)
class SyntheticItem:
    """One generated item; `signal` names the rule its text is written to fire, or None."""

    title: str
    body: str
    signal: str | None
    company: str


def company_name(rng: random.Random) -> str:
    """An invented company name, e.g. 'Greyfell Magnetics'."""
    return f"{rng.choice(_HEADS)} {rng.choice(_TAILS)}"


def publication_name(seed: int, feed: int) -> str:
    """The feed's invented publication name, stable per (seed, feed)."""
    rng = random.Random(f"pub/{seed}/{feed}")
    return f"{rng.choice(_HEADS)} {rng.choice(_DESKS)} #{feed}"


def _fields(rng: random.Random) -> dict[str, str]:
    price = rng.randrange(380, 9200) * 100
    buyers = rng.choice(_BUYERS)
    return {
        "company": company_name(rng),
        "site": rng.choice(_SITES),
        "province": rng.choice(_PROVINCES),
        "hub": rng.choice(_HUBS),
        "element": rng.choice(_ELEMENTS),
        "product": rng.choice(_MAGNET_PRODUCTS if rng.random() < 0.7 else _PRODUCTS),
        "buyers": buyers,
        "buyers_title": buyers[0].upper() + buyers[1:],
        "authority": rng.choice(("China", "Beijing", "MOFCOM")),
        "authority_long": rng.choice(
            ("China's Ministry of Commerce", "Beijing", "The Chinese government")
        ),
        "n": f"{rng.randrange(12, 4800):,}",
        "pct": str(rng.randrange(2, 38)),
        "small": f"{rng.randrange(500, 9000):,}",
        "small2": str(rng.randrange(2, 19)),
        "price": f"{price:,}",
        "price2": f"{price + rng.randrange(5, 60) * 100:,}",
        "year": str(rng.choice((2026, 2027))),
        "month": rng.choice(_MONTH_NAMES),
        "day": str(rng.randrange(1, 29)),
        "weekday": rng.choice(("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")),
    }


def make_item(
    seed: int,
    feed: int,
    index: int,
    *,
    signal: bool | None = None,
    signal_fraction: float = 0.25,
    words: tuple[int, int] = (60, 200),
    when: date | None = None,
) -> SyntheticItem:
    """The item at `index` of `feed`: the same arguments always give the same text.

    `signal=True` forces a signal item, `False` a quiet one, `None` draws with
    probability `signal_fraction`. The body has between `words[0]` and `words[1]` words
    (the first sentence states the signal, when there is one). `when`: the day the item
    is published, which its text then names as the day of its news (as news does; a
    random day months away would read as an earlier event, background, to the
    classifier); without it the day is drawn.
    """
    rng = random.Random(f"item/{seed}/{feed}/{index}")
    fields = _fields(rng)
    if when is not None:
        fields["month"], fields["day"] = _MONTH_NAMES[when.month - 1], str(when.day)
    style = house_style(seed, feed)
    names = cast(rng, style)
    fields["company"], fields["city"] = names["firms"][0], names["cities"][0]
    is_signal = rng.random() < signal_fraction if signal is None else signal
    sentences: list[str] = []
    kind: str | None = None
    if is_signal:
        kind = rng.choice(SIGNAL_KINDS)
        title, lead = signal_statement(rng, kind, fields, house=feed)
        sentences.append(lead)
        sentences += event_details(rng, fields, 3 if words[0] >= 150 else 1)
    else:
        title = colour_title(rng, style, fields, names)
    target = rng.randrange(words[0], words[1] + 1)
    count = sum(len(s.split()) for s in sentences)
    while count < target:
        sentence = colour_sentence(rng, style, fields, names)
        sentences.append(sentence)
        count += len(sentence.split())
    body = " ".join(sentences)
    if len(body.split()) > words[1]:
        body = " ".join(body.split()[: words[1]]).rstrip(",;") + "."
    return SyntheticItem(
        title=title[0].upper() + title[1:], body=body, signal=kind, company=fields["company"]
    )
