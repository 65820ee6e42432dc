"""The update decision: what a joined item tells the reader that its story did not.

An item that joins a story (`watcher.domain.stories.best_story`) is swallowed only when
it is, by evidence, a copy or a rewrite of what the story's items already said, and names
no fact they lack. Anything else is sent as an update of the story, and the update names
what is new (`watcher.domain.story_facts.described`):

- a fact of a `NEWS` kind that no compared item of the story carries: a material, a
  country, a figure, a number, a day, a month, a batch or announcement number (and the
  year of its batch), a place, a signal type or direction, a proper name (a company, a
  mine, an agency). A name is not news when an item of the story writes the same word
  in any case ("the catalogue" beside "Catalogue of Prohibited ..."): a word the story
  has is no new actor. An approximate figure that rounds a known one is not news;
- when there is no such fact, the item's wording itself (`REWORDED`): it joined on weaker
  evidence than a copy (most of its 3-shingles found in an item of the story) or a
  rewrite (a word Jaccard of `REWRITE` with one), say on a shared day or figure and some
  shared words. Such a join is where two events are most often taken for one, so the
  reader gets the item rather than nothing.

A year is not news: a year alone holds every event of it, and background years
("since 2022") are common in every report. Pure functions over fact sets.
"""

from __future__ import annotations

from collections.abc import Iterable

from watcher.domain.story_facts import (
    COUNT,
    COUNTRY,
    DAY,
    FIGURE,
    MATERIAL,
    MONTH,
    NAME,
    NAME_BITS,
    ORDINAL,
    ORDINAL_YEAR,
    PLACE,
    REWORDED,
    ROUNDED,
    SIGNAL,
    approximated,
    kind_of,
)

# Kinds of facts that make a joined item news: it is sent as an update of its story.
NEWS = (MATERIAL, COUNTRY, FIGURE, COUNT, SIGNAL, DAY, MONTH, ORDINAL, ORDINAL_YEAR, PLACE, NAME)
_NAME_MASK = (1 << NAME_BITS) - 1


def written_words(word_hashes: Iterable[int]) -> frozenset[int]:
    """The story's content-word hashes cut to a name fact's hash bits: a name whose
    hash is among them is a word the story writes (`news`)."""
    return frozenset(h & _NAME_MASK for h in word_hashes)


def news(
    facts: Iterable[int], known: frozenset[int], written: frozenset[int] = frozenset()
) -> frozenset[int]:
    """The facts among `facts` of a `NEWS` kind that `known` (its story's facts) lacks.

    An approximate figure that rounds a known one is not news, nor a name whose word is
    in `written` (`written_words` of the story's items)."""
    found = set()
    figures = []
    for f in facts:
        kind = kind_of(f)
        if kind not in NEWS or f in known:
            continue
        if kind == NAME and (f & _NAME_MASK) in written:
            continue
        found.add(f)
        if kind == FIGURE:
            figures.append(f)
    if figures:
        found -= approximated(figures, (f for f in known if kind_of(f) == ROUNDED))
    return frozenset(found)


def update(
    facts: Iterable[int], known: frozenset[int], written: frozenset[int], copied: bool
) -> frozenset[int]:
    """What a joined item adds to its story: its `news`, else `REWORDED` when it is no
    copy or rewrite of an item of the story (`copied` false), else nothing (swallowed)."""
    found = news(facts, known, written)
    if found or copied:
        return found
    return frozenset({REWORDED})
