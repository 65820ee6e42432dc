"""Commas inside a list of minerals: no clause break.

A comma followed by white space ends a clause ("crossings it controls on the border,
cutting off exports"), but headlines and leads also join the goods of one measure with
commas: "China bans gallium, germanium exports to the US", "DRC bans cobalt, copper
concentrate exports", "mines halt rare earth, tin output". Read as a clause break, such a
comma cuts the verb off from its goods, and the measure is lost or given to the wrong
type. `is_list_comma` says when a comma joins two list items: the word right before it
and the word right after it both name a mineral or a form of one (ore, concentrate,
oxide, magnets, scrap). Only English: Chinese lists use the enumeration comma 、, which
is no clause mark.
"""

from __future__ import annotations

# Minerals and their forms, lower case, as single words ("rare earth" ends in "earth";
# "rare" may open the next item). Not "lead" (a verb) nor "iron" (iron ore is another
# good): a word here only keeps two list items in one clause, it names no mineral.
GOODS_WORDS = frozenset(
    {
        *("lanthanum", "cerium", "praseodymium", "neodymium", "promethium", "samarium"),
        *("europium", "gadolinium", "terbium", "dysprosium", "holmium", "erbium"),
        *("thulium", "ytterbium", "lutetium", "scandium", "yttrium", "earth", "earths"),
        *("rare", "gallium", "germanium", "antimony", "tungsten", "graphite", "lithium"),
        *("cobalt", "nickel", "copper", "tin", "bauxite", "alumina", "aluminium"),
        *("aluminum", "manganese", "chrome", "chromium", "chromite", "ferrochrome"),
        *("zinc", "molybdenum", "indium", "bismuth", "tantalum", "niobium", "vanadium"),
        *("magnesium", "silicon", "platinum", "palladium", "uranium", "zircon"),
        *("zirconium", "titanium", "tellurium", "beryllium", "hafnium", "rhenium"),
        *("spodumene", "coltan", "cassiterite", "wolframite", "ore", "ores"),
        *("concentrate", "concentrates", "oxide", "oxides", "magnet", "magnets", "scrap"),
    }
)
_LONGEST = max(len(word) for word in GOODS_WORDS)


def _word_before(text: str, at: int, start: int) -> str:
    """The run of letters that ends right before offset `at` (not before `start`)."""
    begin = at
    while begin > start and at - begin <= _LONGEST and text[begin - 1].isalpha():
        begin -= 1
    return text[begin:at]


def _word_after(text: str, at: int, end: int) -> str:
    """The run of letters that starts after the white space following offset `at`."""
    begin = at
    while begin < end and text[begin] in " \t":
        begin += 1
    stop = begin
    while stop < end and stop - begin <= _LONGEST and text[stop].isalpha():
        stop += 1
    return text[begin:stop]


def is_list_comma(text: str, at: int, start: int, end: int) -> bool:
    """True when the comma at offset `at` of the text (inside the sentence [start, end))
    joins two list items: the words right before and right after it both name a mineral
    or a form of one (`GOODS_WORDS`, in any case)."""
    if text[at] != ",":
        return False
    return (
        _word_before(text, at, start).lower() in GOODS_WORDS
        and _word_after(text, at + 1, end).lower() in GOODS_WORDS
    )
