"""Supply-shock statements for synthetic items, composed so that no two read alike.

`signal_statement(rng, kind, fields)` gives a headline and a lead sentence that the
default watch rule of `kind` fires on: plain, unhedged, not negated, about rare earths.
Each is put together from interchangeable parts (who, what, where, the consequence), so
two statements of one kind share a few words, as two reports of different events do,
and story clustering does not mistake them for one story.
"""

from __future__ import annotations

import random
import zlib

from bench.prose import invented_word

KINDS = ("export_control", "quota_delay", "scrap_shortage", "ore_supply_disruption")


_HOUSE: list[int] = [0]  # the feed whose house style `_pick` follows (set per statement)


def _pick(rng: random.Random, options: str) -> str:
    """One of the '|'-separated options, from the third of them this feed's house uses."""
    choices = options.split("|")
    house = [c for c in choices if zlib.crc32(f"{_HOUSE[0]}/{c}".encode()) % 3 == 0]
    return rng.choice(house or choices)


def _export_control(rng: random.Random, f: dict[str, str]) -> tuple[str, str]:
    who = _pick(rng, "China's Ministry of Commerce|Beijing|The Chinese government|MOFCOM")
    did = _pick(rng, "introduced|imposed|tightened|expanded|announced|added")
    what = _pick(
        rng,
        "export controls|export licence requirements|export restrictions|"
        "an export licensing regime|export permit rules|dual use export controls",
    )
    then = _pick(
        rng,
        "leaving {n} containers at {hub} customs|and {company} said its {city} customers face"
        " waits of {n2} weeks|with {buyers} in {city} told to file end user certificates|"
        "and {company} stopped quoting {element} to {city} buyers|as {n} tonnes of"
        " {element} material sat in bonded stores at {hub}",
    )
    title = _pick(
        rng,
        "{who_short} widens export controls to {product}|Export licences now needed for"
        " {product}, {company} says|{product} shipments held as Beijing tightens export"
        " rules|{company} cargoes of {product} stuck under new export controls|"
        "New export curbs on {element} products hit {city} buyers|{n} t of {product} wait"
        " for export licences at {hub}|{company} reroutes {product} orders after export"
        " controls|Export rule change strands {company} {element} deliveries|{city} importers"
        " scramble as China restricts {product} exports",
    )
    slots = f | {"who_short": who.split("'")[0].replace("The ", "")}
    sentence = f"{who} {did} {what} on {f['product']} on {f['day']} {f['month']}, {then}."
    return title.format(**slots), sentence.format(**slots)


def _quota_delay(rng: random.Random, f: dict[str, str]) -> tuple[str, str]:
    which = _pick(
        rng,
        "The {year} rare earth mining quota|The second batch of {year} rare earth quotas|"
        "The {year} smelting quota for {element}|The {province} rare earth quota|"
        "The first {year} {element} production quota",
    )
    late = _pick(
        rng,
        "has been delayed|is overdue|has been postponed|is still awaited|arrived late",
    )
    then = _pick(
        rng,
        "{company} told {buyers} in {city}|producers in {province} said|according to"
        " {n2} separators in {province}|a {company} manager in {city} said|and {company}"
        " trimmed its {month} sales plan by {n} tonnes",
    )
    title = _pick(
        rng,
        "{province} {element} quota delayed, {company} says|Late {year} quota leaves"
        " {company} short of plans|{company} waits on overdue {element} quota|"
        "Postponed quota weighs on {province} separators|{year} mining quota still awaited"
        " in {province}|{company} cuts {month} plan by {n} t on overdue quota|{element}"
        " separators in {city} wait for delayed allocation|No {year} allocation yet, {n2}"
        " {province} producers say",
    )
    return title.format(**f), f"{which.format(**f)} {late}, {then.format(**f)}."


def _scrap_shortage(rng: random.Random, f: dict[str, str]) -> tuple[str, str]:
    what = _pick(
        rng,
        "NdFeB scrap|Magnet swarf|End of life magnet scrap|Scrap from magnet makers|"
        "Recycled NdFeB feed",
    )
    short = _pick(
        rng,
        "is in short supply|has become scarce|ran short|is hard to find|is tight",
    )
    then = _pick(
        rng,
        "and {company} ran its {city} line at {pct}% of capacity|forcing {company} to pay"
        " {pct}% more|as {buyers} kept offcuts in house|so {company} idled {n2} of its"
        " furnaces|leaving recyclers in {city} with {n2} days of feed",
    )
    title = _pick(
        rng,
        "{city} recyclers short of NdFeB scrap|{company} pays up for scarce magnet swarf|"
        "Magnet scrap runs short at {company}|Scrap squeeze hits {element} recyclers in"
        " {city}|Recycled magnet feed tight in {province}|{company} idles {n2} furnaces as"
        " swarf dries up|{city} swarf buyers pay {pct}% more|Offcut supply thins for"
        " {company} recyclers",
    )
    sentence = f"{what} {short} in {f['city']}, {then.format(**f)}."
    return title.format(**f), sentence


def _ore_disruption(rng: random.Random, f: dict[str, str]) -> tuple[str, str]:
    where, plural = rng.choice(
        (
            ("Operations at {company}'s {site} rare earth mine", True),
            ("Rare earth ore output at the {site} pit", False),
            ("{element} concentrate production at {site}", False),
            ("Trucks carrying {element} ore from {province}", True),
            ("The {site} rare earth mine in {province}", False),
        )
    )
    what = _pick(
        rng,
        "were halted|were suspended|stopped"
        if plural
        else "was halted|was suspended|stopped|ceased",
    )
    cause = _pick(
        rng,
        "after flooding|after a landslide|during a strike|after a safety inspection|"
        "following heavy rain|after clashes nearby",
    )
    then = _pick(
        rng,
        "{company} said|cutting {n} tonnes of {element} feed|and {company} warned {buyers}"
        " in {city}|according to {n2} traders in {city}|stranding {n} tonnes at {hub}",
    )
    title = _pick(
        rng,
        "{company} halts {site} mine in {province}|Ore supply from {province} disrupted,"
        " {company} says|{site} pit stopped after {event}|{element} feed cut as {site}"
        " mine halts|Trucks from {province} stopped, {company} says|{event} idles {site},"
        " {n} t of {element} ore lost|{company} declares force majeure at {site}|"
        "{province} {element} pit shut, {n2} traders say",
    )
    slots = f | {"event": cause.split()[-1]}
    sentence = f"{where} {what} {cause}, {then}.".format(**slots)
    sentence = sentence[0].upper() + sentence[1:]
    return title.format(**slots), sentence


_DETAILS = (
    "{person}, who runs the {place} depot for {company}, counted {n} tonnes on hand on {day}"
    " {month}.",
    "Invoices {code} and {code2} covered {n3} tonnes bound for {place}.",
    "{person} of {place} put the value of the material involved at ${n} thousand.",
    "Lot {code} from {place} assayed at {pct}.{d}% purity, {person} said.",
    "Contracts {code} to {code2} with {place} customers run to {day} {month}.",
    "{person} and {person2} of {company} travelled to {place} on {day} {month}.",
)


def event_details(rng: random.Random, fields: dict[str, str], count: int) -> list[str]:
    """Particulars of the event: people, places, lots and figures of this report alone."""
    out = []
    for template in rng.sample(_DETAILS, count):
        slots = fields | {
            "person": f"{invented_word(rng).capitalize()} {invented_word(rng, 3)}",
            "person2": f"{invented_word(rng).capitalize()} {invented_word(rng, 3)}",
            "place": f"{invented_word(rng)} {invented_word(rng)}",
            "code": str(rng.randrange(10_000, 99_999)),
            "code2": str(rng.randrange(10_000, 99_999)),
            "n": f"{rng.randrange(12, 9800):,}",
            "n3": str(rng.randrange(91, 990)),
            "pct": str(rng.randrange(90, 100)),
            "d": str(rng.randrange(10)),
        }
        out.append(template.format(**slots))
    return out


_MAKERS = {
    "export_control": _export_control,
    "quota_delay": _quota_delay,
    "scrap_shortage": _scrap_shortage,
    "ore_supply_disruption": _ore_disruption,
}


def signal_statement(
    rng: random.Random, kind: str, fields: dict[str, str], house: int = 0
) -> tuple[str, str]:
    """(headline, lead sentence) stating a supply shock the rule `kind` fires on.

    The headline carries a dateline (an invented town) and the lead names the metal, so
    the rule's rare-earth context is always in the item. `house` (the feed) picks the
    third of the phrasings that publication uses.
    """
    _HOUSE[0] = house
    slots = fields | {"n2": str(rng.randrange(3, 60))}
    slots.setdefault("city", invented_word(rng, 3))
    title, lead = _MAKERS[kind](rng, slots)
    if slots["company"] not in title and not title.endswith("say"):  # name a source
        title = f"{title}, {slots['company']} says"
    dateline = f"{invented_word(rng)} {invented_word(rng, 3)}".upper()  # a town, two words
    return f"{dateline}, {slots['day']} {slots['month']}: {title}", lead
