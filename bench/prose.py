"""Market colour for synthetic items: sentences composed from slots, so items differ.

A body built from a few fixed sentences would make every pair of items look alike to
story clustering (their content words would overlap), which real reports about
different events do not. Here each sentence is a subject, a predicate and a tail drawn
from word pools, with invented people and firms and fresh figures, so two items share
about as many content words as two unrelated trade-press notes do.

The pools avoid the vocabulary of the watch rules (no export, quota, scrap, mine,
halt, shortage, ...): market colour never fires a rule (`pytest bench` checks it).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass


def _pool(text: str, sep: str = "|") -> tuple[str, ...]:
    """A word pool written as one separated string (keeps the pools compact)."""
    return tuple(text.split(sep))


_SYLLABLES = _pool(
    "al bar cor dan el fen gar hal ist jor kel lan mar nor or pel quin ros sal tor ul ven "
    "wyn yar zel bri cas dra esk fal gil hob ivo jun kra lom mav nes ost pra riv sto tam",
    " ",
)
_FIRST_NAMES = _pool(
    "Anna Boris Chen Dmitri Elena Farah Gustav Hana Ivan Jia Kenji Lucia Marco Nadia Omar "
    "Priya Quentin Rosa Sven Tomas Ulla Viktor Wei Xenia Yusuf Zofia Amara Bjorn Carmen Dev",
    " ",
)
_ROLES = _pool(
    "a trader|a buyer|an analyst|a sales manager|a purchasing director|a broker|a consultant|"
    "a distributor|a fund manager|a logistics manager|a metallurgist|a product manager|"
    "an economist|a chief executive|a credit officer|a warehouse operator"
)
_BANKS = _pool(
    "Harrowgate Capital|Lindqvist Research|Meridian Securities|Orland Advisory|Tessel Partners|"
    "Brackwater Bank|Quillon Asset Management|Sable Point Analytics|Veranth Insurance"
)
_MARKET_NOUNS = _pool(
    "offers|bids|spot prices|premiums|spreads|tender results|forward prices|contract talks|"
    "order books|delivery schedules|freight quotes|settlement prices|swap curves|basis levels"
)
_MOVES = _pool(
    "firmed|steadied|edged higher|edged lower|moved sideways|held firm|softened|"
    "traded flat|widened|narrowed|climbed|slipped|wobbled|levelled off|ticked up"
)
_DEMAND = _pool(
    "wind turbine builders|motor makers|carmakers|robotics firms|appliance brands|"
    "drone manufacturers|audio equipment suppliers|medical device groups|elevator companies|"
    "railway suppliers|shipyards|defence contractors|compressor producers|pump vendors|"
    "hard disk assemblers|sensor designers|scooter brands|hearing aid companies|"
    "catalyst plants|e-bike assemblers|servo specialists|speaker factories"
)
_GOODS = _pool(
    "warehouse space|insurance cover|container slots|trade finance|hedging lines|"
    "laboratory assays|packaging drums|pallet racking|customs brokerage|rail wagons|"
    "furnace linings|argon gas|crucibles|grinding media|quality certificates"
)
_TAILS = _pool(
    ", according to {person}, {role} at {firm}| on {weekday}, {person} of {firm} said|"
    " as buyers in {city} waited for {month} settlements| ahead of the {month} holidays in {city}|"
    ", with {n} tonnes changing hands in {city}|, {person} told clients of {firm}|"
    " in a session {person} described as orderly|, a note from {bank} said|"
    " after {firm} reported revenue of ${n} million| while {demand} in {city} kept to their plans|"
    ", two dealers in {city} said| despite a holiday in {city}|"
    " as {firm} rebalanced its {goods} contracts| during a visit by {person} to {city}|"
    ", {person} wrote in a weekly letter| before the {month} board meeting of {firm}|"
    " while the yuan moved against the dollar| as {bank} updated its models|"
    ", figures from {firm} showed| after a conference call hosted by {person}|"
    " amid brisk demand for {goods} in {city}| as {demand} renegotiated annual terms|"
    ", {role} in {city} noted| once {firm} published its price list|"
    ", a filing by {firm} showed| according to minutes seen by {person}|"
    " as {firm} balanced its books for {month}| in trading that {role} called patchy|"
    ", {person} said by telephone from {city}| as pricing agencies in {city} reported|"
    " in what {person} called a routine quarter| following a site visit by {bank}|"
    ", with {firm2} acting as agent| as the {month} invoice cycle began"
)
_DETAILS = _pool(
    ", with {n} tonnes booked for {day} {month}|, {pct}.{d}% above the {day} {month} level|"
    ", against {price2} yuan a week earlier| in lots of {n2} to {n3} tonnes|"
    ", up {pct}.{d}% from {n} tonnes in {month}|, {n3} tonnes of it for prompt delivery|"
    " under contract {code}-{n2}|, after {n3} tonnes were invoiced on {day} {month}"
)
_SUBJECT_PREDICATES = _pool(
    "{element} oxide {market} in {city} {move} at {price} yuan per tonne|"
    "{firm} signed a supply agreement with {demand} in {city}|"
    "Demand from {demand} for {product} rose {pct}% on the year|"
    "{product} {market} {move} by {small} yuan per tonne|"
    "{person}, {role} at {firm}, expects {product} orders to grow {pct}% next quarter|"
    "{firm} shipped {n} tonnes of {product} to {demand} in {city}|"
    "The spread between {element} oxide and metal {move} to {small} yuan|"
    "{bank} raised its price forecast for {product} to {price} yuan|"
    "Stocks of {product} held by {demand} in {city} were described as comfortable|"
    "{firm} booked {n} tonnes of {product} for delivery in {month}|"
    "Participants at a meeting in {city} discussed standards for {product}|"
    "{firm} appointed {person} to lead its {city} office|"
    "Interest in {element} alloys from {demand} {move} during {month}|"
    "{person} of {firm} said customers in {city} paid {pct}% more than in {month}|"
    "{firm} commissioned a second line for {product} in {city}|"
    "{firm} paid a dividend of {small} cents a share|"
    "{firm} hired {n2} engineers for its laboratory in {city}|"
    "{person} joined {firm} as head of procurement|"
    "Rents for {goods} in {city} climbed {pct}% this season|"
    "{firm} renewed its contract for {goods} with {firm2}|"
    "Auditors signed off the accounts of {firm} without comment|"
    "{bank} published a survey of {n2} buyers of {product}|"
    "Freight from {city} to {city2} cost ${small} per container|"
    "{firm} and {firm2} agreed to share {goods} in {city}|"
    "A delegation from {city} toured the {firm} works|"
    "{person} presented a paper on {element} coatings in {city}|"
    "{firm} won a tender from {demand} worth ${n} million|"
    "The {city} exchange listed {n2} new {element} contracts|"
    "Grades of {product} with low oxygen content sold at a premium of {pct}%|"
    "{firm} moved its treasury team from {city} to {city2}|"
    "Buyers asked {firm} for longer payment terms on {product}|"
    "{firm} launched a magnet design service for {demand}|"
    "A research group in {city} reported a {element}-lean motor design|"
    "{demand} in {city2} cut inventories of {goods} to {n2} days|"
    "{person} said {demand} were testing {product} from {firm}|"
    "{firm} introduced a traceability label for {product}|"
    "Premiums for prompt {product} over {month} material were {small} yuan|"
    "{firm} opened a warehouse near {city} with room for {n} tonnes|"
    "Average selling prices at {firm} were {pct}% above a year earlier|"
    "The {month} edition of the {city} price index showed {product} at {price} yuan|"
    "{firm} settled a patent dispute with {firm2} over {product}|"
    "{bank} lowered its rating outlook for {firm} to neutral|"
    "A {role} at {firm} said the {product} order book covers {n2} months|"
    "{firm} installed solar panels on its {city} workshop|"
    "Sales of {element} sputtering targets to {demand} grew {pct}%|"
    "{firm} published a sustainability report covering its {city} site|"
    "{person} was elected chair of the {city} chamber of commerce metals group|"
    "{firm} refinanced a ${n} million credit line with {bank}|"
    "Lead times for {product} from {firm} stretched to {n2} weeks|"
    "A customs broker in {city} handled {n} declarations for {product} in {month}|"
    "{firm} agreed a three-year price formula with {demand}|"
    "{demand} in {city} asked for samples of {product} coated with nickel|"
    "{firm} reported a working capital outflow of ${n} million|"
    "Insurers raised premiums for cargoes of {product} sailing from {city}|"
    "{bank} hosted a webinar on {element} pricing for {n2} subscribers|"
    "{firm} listed {n2} job openings for chemists in {city}|"
    "A university in {city} licensed a {element} recovery patent to {firm}|"
    "{firm} sponsored a student prize for magnet research in {city}|"
    "Warehouse receipts for {product} in {city} totalled {n} tonnes|"
    "{person} moved from {firm2} to {firm} as commercial director|"
    "{firm} cancelled a planned roadshow in {city}|"
    "Quarterly deliveries of {product} by {firm} matched guidance|"
    "{demand} in {city2} switched part of their orders to {firm}|"
    "{firm} built a pilot line for grain boundary diffusion in {city}|"
    "The {city} port handled {n} tonnes of magnet materials in {month}"
)
_TITLES = _pool(
    "{product} {move} in {city} trade|{firm} signs supply deal with {demand}|"
    "{element} oxide {move} at {price} yuan|{firm} posts revenue of ${n} million|"
    "{demand} lift orders for {product}, {person} says|{firm} names {person} to run {city} office|"
    "{city} meeting weighs {product} standards|Weekly review: {element} and {product} in {month}|"
    "{bank} sees {product} at {price} yuan|{firm} wins ${n} million tender from {demand}|"
    "{firm} and {firm2} pool {goods} in {city}|{city} index puts {product} at {price} yuan|"
    "{person} joins {firm} procurement team|{firm} opens {n}-tonne warehouse near {city}|"
    "Survey by {bank}: {demand} plan more {product} purchases|"
    "{firm} settles {product} patent dispute with {firm2}|"
    "{element} sputtering target sales up {pct}% at {firm}|"
    "Freight from {city} to {city2} at ${small} a box"
)


# beginnings of watch-rule terms ("halt*", "ban", "rees", ...): no invented name starts so
_RULE_PREFIXES = re.compile(
    r"^(?:halt|stop|ban|curb|block|limit|shut|ceas|idl|flood|strik|seiz|captur|disrupt|"
    r"suspend|restrict|tight|short|lack|scarc|delay|late|await|pend|cut|reduc|lower|slash|"
    r"rais|increas|boost|expand|export|quota|scrap|swarf|recycl|min|ore|clay|border|lift|"
    r"eas|relax|remov|grant|resum|reopen|restor|paus|fir|fight|ree|nd|pr|rare|oil|coal|"
    r"steel|rice|corn|sugar|copper|gas|grain|crude|no|den|never|may|if|could|might|plan|"
    r"draft|risk|fear|rumo|specul|threat|possib|potent|hist|back|past|preced|tungst|gall|"
    r"germ|antim|graph|indi|bism|molyb|lynas|iluka|sc|yt|dy|tb|la|ce|sm|eu|gd|ho|er|tm|"
    r"yb|lu|squeez|struggl|fall|fell|drop|declin|shrink|shrank|thin|dwindl|ampl|surplus|"
    r"glut|improv|recover|rebound|deficit|insuffic|conflict|unrest|clash|inspect|withh|"
    r"outag|closur|clos|stranded|force|sanction|licen|permit|approv|dual|control|tariff)"
)


def invented_word(rng: random.Random, syllables: int = 2) -> str:
    """A pronounceable invented name, e.g. 'Kelmar', that starts no watch-rule term."""
    while True:
        word = "".join(rng.choice(_SYLLABLES) for _ in range(syllables))
        if not _RULE_PREFIXES.match(word):
            return word.capitalize()


_FIRM_KINDS = _pool(
    "Metals|Trading|Alloys|Magnetics|Holdings|Group|Industries|Materials|Technologies|"
    "Resources|Ventures|Partners|Chemicals|Components|Works|International|Sourcing|AG|SA|Ltd"
)


@dataclass(frozen=True, slots=True)
class HouseStyle:
    """The part of the word pools one publication uses: its beat and its habits.

    Publications cover different niches in different words; items of different feeds
    then share few content words, as reports of different events do, which keeps story
    clustering from merging them. Items of one feed share more (clustering never
    compares items of the same source).
    """

    predicates: tuple[str, ...]
    tails: tuple[str, ...]
    details: tuple[str, ...]
    titles: tuple[str, ...]
    roles: tuple[str, ...]
    markets: tuple[str, ...]
    moves: tuple[str, ...]
    demand: tuple[str, ...]
    goods: tuple[str, ...]
    banks: tuple[str, ...]
    firm_kinds: tuple[str, ...]
    first_names: tuple[str, ...]


def house_style(seed: int, feed: int) -> HouseStyle:
    """Feed `feed`'s share of every pool, the same for every item of that feed."""
    rng = random.Random(f"style/{seed}/{feed}")

    def share(pool: tuple[str, ...], fraction: float) -> tuple[str, ...]:
        return tuple(rng.sample(pool, max(2, round(len(pool) * fraction))))

    return HouseStyle(
        predicates=share(_SUBJECT_PREDICATES, 0.15),
        tails=share(_TAILS, 0.15),
        details=share(_DETAILS, 0.2),
        titles=share(_TITLES, 0.35),
        roles=share(_ROLES, 0.3),
        markets=share(_MARKET_NOUNS, 0.3),
        moves=share(_MOVES, 0.3),
        demand=share(_DEMAND, 0.3),
        goods=share(_GOODS, 0.3),
        banks=share(_BANKS, 0.4),
        firm_kinds=share(_FIRM_KINDS, 0.2),
        first_names=share(_FIRST_NAMES, 0.3),
    )


def cast(rng: random.Random, style: HouseStyle) -> dict[str, list[str]]:
    """The firms, people and places one item talks about (a report names few, often)."""
    return {
        "firms": [
            f"{invented_word(rng)} {rng.choice(style.firm_kinds)}"
            for _ in range(rng.randrange(2, 5))
        ],
        "people": [
            f"{rng.choice(style.first_names)} {invented_word(rng, 3)}"
            for _ in range(rng.randrange(1, 4))
        ],
        "cities": [invented_word(rng, rng.choice((2, 3))) for _ in range(2)],
    }


def _slots(
    rng: random.Random, style: HouseStyle, base: dict[str, str], names: dict[str, list[str]]
) -> dict[str, str]:
    price = rng.randrange(380, 9200) * 100
    firm, firm2 = rng.sample(names["firms"], 2)
    city, city2 = rng.sample([*names["cities"], base["hub"]], 2)
    return base | {
        "person": rng.choice(names["people"]),
        "role": rng.choice(style.roles),
        "firm": firm,
        "bank": rng.choice(style.banks),
        "city": city,
        "market": rng.choice(style.markets),
        "move": rng.choice(style.moves),
        "demand": rng.choice(style.demand),
        "goods": rng.choice(style.goods),
        "firm2": firm2,
        "city2": city2,
        "n2": str(rng.randrange(3, 90)),
        "price": f"{price:,}",
        "n": f"{rng.randrange(12, 9800):,}",
        "small": f"{rng.randrange(200, 9000):,}",
        "pct": str(rng.randrange(2, 41)),
        "d": str(rng.randrange(10)),
        "n3": str(rng.randrange(91, 990)),
        "price2": f"{price + rng.randrange(-60, 60) * 100:,}",
        "code": f"{rng.randrange(1000, 99999)}",
    }


def colour_sentence(
    rng: random.Random, style: HouseStyle, base: dict[str, str], names: dict[str, list[str]]
) -> str:
    """One sentence of market colour about the item's `base` fields and `names` (`cast`)."""
    slots = _slots(rng, style, base, names)
    text = _fresh(rng, style.predicates, names).format(**slots)
    if rng.random() < 0.7:  # figures: every report carries its own
        text += rng.choice(style.details).format(**slots)
    if rng.random() < 0.5:
        text += rng.choice(style.tails).format(**_slots(rng, style, base, names))
    return text[0].upper() + text[1:] + "."


def _fresh(rng: random.Random, options: tuple[str, ...], names: dict[str, list[str]]) -> str:
    """An option this item has not used yet, while there are any (a report repeats little)."""
    used = names.setdefault("used", [])
    unused = [o for o in options if o not in used] or list(options)
    choice = rng.choice(unused)
    used.append(choice)
    return choice


def colour_title(
    rng: random.Random, style: HouseStyle, base: dict[str, str], names: dict[str, list[str]]
) -> str:
    """A headline for an item of market colour."""
    title = rng.choice(style.titles).format(**_slots(rng, style, base, names))
    return title[0].upper() + title[1:]
