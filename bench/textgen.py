"""Synthetic rare-earth trade-press items, deterministic from (seed, feed, index).

`make_item(seed, feed, index, signal=...)` always returns the same title and body for
the same arguments, so the farm, the parse floor and the classification scenario see
the same text on every machine. Signal items carry one plain, unhedged statement of a
supply shock (export controls, a quota delay, an NdFeB scrap shortage, a halted mine)
written so the default rules in `config/rules.yaml` fire on it; the other items are
market colour (prices, demand, corporate news) that should not fire.

Names of companies, mines and publications are invented from syllables, so thousands
of items stay distinct (story clustering must not merge different feeds' items).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

SIGNAL_KINDS = ("export_control", "quota_delay", "scrap_shortage", "ore_supply_disruption")


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
    "germanium ingots|antimony trioxide|spherical graphite|tungsten concentrates|"
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

# --- signal statements: each fires exactly the rule it is named after ---------------------

_EXPORT_CONTROL = (
    (
        "{authority} adds {product} to export control list; {company} cargoes held",
        "{authority_long} added {product} to its export control list this week, and exporters"
        " must now apply for a licence for every shipment of {element} products.",
    ),
    (
        "{company}: export licences now required for {product} from {hub}",
        "China's Ministry of Commerce introduced export licence requirements for {product},"
        " and {n} exporters in {hub} said their first {element} cargoes are held at customs.",
    ),
    (
        "Beijing tightens export controls on {element} technology, {company} says",
        "Beijing tightened export controls on {element} separation and {product} technology,"
        " a move that {company} said took effect on {day} {month}.",
    ),
    (
        "Customs halts {element} exports at {hub}; {n} {company} containers wait",
        "Chinese customs halted exports of {product} at {hub} pending licence checks, and"
        " {buyers} in Europe reported {n} delayed containers of {element} material.",
    ),
)
_QUOTA_DELAY = (
    (
        "{company}: second batch of {year} {province} mining quotas delayed",
        "The second batch of {year} rare earth mining quotas has been delayed, according to"
        " {n} producers in {province} who still await their {element} allocations.",
    ),
    (
        "{province} smelters await late {element} quota; {company} defers {n} t",
        "Smelters in {province} said the {year} production quota for {element} is overdue,"
        " and {company} has postponed {n} tonnes of planned separation work.",
    ),
    (
        "{province} rare earth quota postponed again, {company} says",
        "The rare earth mining quota for {province} has been postponed again, {company} said,"
        " leaving {element} feedstock for {month} deliveries in question.",
    ),
    (
        "Smelting quota cut of {pct}% hits {company} {element} output in {province}",
        "Authorities cut the {year} smelting quota for {element} in {province} by {pct}%,"
        " according to {company}, which supplies {product} to {buyers}.",
    ),
)
_SCRAP_SHORTAGE = (
    (
        "NdFeB scrap shortage squeezes {hub} recyclers such as {company}",
        "NdFeB scrap is in short supply in {hub}, and recyclers said the shortage forced"
        " {n} plants to run below capacity while {element} prices firmed.",
    ),
    (
        "Magnet scrap tight in {province} as {company} struggles to source swarf",
        "Magnet scrap supply is tight across {province}, where {company} struggled to source"
        " swarf for its {element} recycling line in {month}.",
    ),
    (
        "{company} reports NdFeB scrap shortfall of {n} tonnes at {hub}",
        "NdFeB scrap volumes fell to a {n}-tonne shortfall at {hub} recyclers, {company} said,"
        " as {buyers} kept end-of-life magnets for their own lines.",
    ),
)
_ORE_DISRUPTION = (
    (
        "{company} halts {site} mine in {province} after flooding",
        "{company} halted operations at its {site} mine in {province} after flooding, cutting"
        " {element} concentrate deliveries to separation plants by {n} tonnes.",
    ),
    (
        "{company} ore shipments from {province} disrupted by border closure",
        "Rare earth ore shipments from {province} were disrupted after a border crossing"
        " closed on {day} {month}, and {company} reported {n} tonnes of {element} ore stranded.",
    ),
    (
        "Strike stops concentrate output at {company}'s {site} mine",
        "A strike stopped concentrate output at the {site} mine in {province}, {company} said,"
        " and {element} feedstock for {hub} refiners is now stranded.",
    ),
    (
        "Mine halted at {site} in {province} after landslide, {company} says",
        "The {site} mine in {province} was halted by a landslide, {company} said, suspending"
        " {n} tonnes of monthly {element} ore supply.",
    ),
)
_SIGNAL_TEMPLATES = {
    "export_control": _EXPORT_CONTROL,
    "quota_delay": _QUOTA_DELAY,
    "scrap_shortage": _SCRAP_SHORTAGE,
    "ore_supply_disruption": _ORE_DISRUPTION,
}

# --- market colour: no rule should fire on these ---------------------------------------

_QUIET_TITLES = (
    "{product} edges higher in thin trading",
    "{company} signs offtake agreement with {buyers_title}",
    "{element} oxide prices steady at {hub}",
    "{company} reports quarterly revenue of ${n} million",
    "{buyers_title} lift orders for {product}",
    "{company} opens new office in {hub}",
    "{element} metal assessed at {price} yuan per tonne",
    "Conference in {hub} draws {n} delegates from the magnet trade",
    "{company} appoints new chief executive",
    "Weekly review: {element} and {product} in {month}",
)
_QUIET_SENTENCES = (
    "{element} oxide was assessed at {price} yuan per tonne on {weekday}, up {small} yuan"
    " on the week.",
    "Traders in {hub} said buying interest for {product} was steady as {buyers} kept to"
    " contract volumes.",
    "{company} said its order book for {product} covers the next {small2} months.",
    "Spot offers for {element} metal were heard between {price} and {price2} yuan per tonne.",
    "Demand from {buyers} rose about {pct}% in {month} compared with the previous month.",
    "{company} shipped {n} tonnes of {product} to customers in {hub} during the quarter.",
    "Market participants in {hub} described trading as orderly ahead of the {month} holidays.",
    "The price spread between {element} oxide and metal widened to {small} yuan per tonne.",
    "{company} reported revenue of ${n} million for the quarter, in line with guidance.",
    "Inventories held by {buyers} in {hub} were described as comfortable by two traders.",
    "Freight rates for containers from {hub} to Europe eased slightly over the week.",
    "{company} opened a sales office in {hub} to serve {buyers} in the region.",
    "The {hub} exchange listed {small2} new contracts for {element} products this year.",
    "Analysts at {company} kept their full-year demand outlook for {product} unchanged.",
    "Consumers of {product} in {hub} continued to buy on a hand-to-mouth basis.",
    "Average selling prices for {product} were {pct}% higher than a year earlier.",
    "{company} completed commissioning of a new furnace line for {element} alloys.",
    "Participants at the {hub} meeting discussed qualification of new {product} suppliers.",
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
) -> SyntheticItem:
    """The item at `index` of `feed`: the same arguments always give the same text.

    `signal=True` forces a signal item, `False` a quiet one, `None` draws with
    probability `signal_fraction`. The body has between `words[0]` and `words[1]` words
    (the first sentence states the signal, when there is one).
    """
    rng = random.Random(f"item/{seed}/{feed}/{index}")
    fields = _fields(rng)
    is_signal = rng.random() < signal_fraction if signal is None else signal
    sentences: list[str] = []
    kind: str | None = None
    if is_signal:
        kind = rng.choice(SIGNAL_KINDS)
        title_t, lead_t = rng.choice(_SIGNAL_TEMPLATES[kind])
        title = title_t.format(**fields)
        sentences.append(lead_t.format(**fields))
    else:
        title = rng.choice(_QUIET_TITLES).format(**fields)
    target = rng.randrange(words[0], words[1] + 1)
    count = sum(len(s.split()) for s in sentences)
    quiet = list(_QUIET_SENTENCES)
    rng.shuffle(quiet)
    position = 0
    while count < target:
        if position == len(quiet):
            rng.shuffle(quiet)
            position = 0
            fields = _fields(rng) | {"company": fields["company"]}
        sentence = quiet[position].format(**fields)
        sentence = sentence[0].upper() + sentence[1:]
        position += 1
        sentences.append(sentence)
        count += len(sentence.split())
    body = " ".join(sentences)
    if len(body.split()) > words[1]:
        body = " ".join(body.split()[: words[1]]).rstrip(",;") + "."
    return SyntheticItem(
        title=title[0].upper() + title[1:], body=body, signal=kind, company=fields["company"]
    )
