"""Which way an item's news moves supply: from the event, not a vote of its sentences.

SIGNALS.md: "direction is the direction of the item's news, not of its words". An item
announcing that controls are suspended names the controls, their history and their
effects, so most of its sentences read as tightening; an item on mines "still
suspended" says "reopen". So:

1. The **lead** states the news: the headline and the first `LEAD_SENTENCES` body
   sentences. When a lead sentence gives a direction, the lead decides, and an easing
   event there (suspended, lifted, exempted, approved, resumed, reopened, issued after
   a wait) outranks the tightening it names; so does a measure reported eased in the
   lead (the rule's `lead_easing` cues, not negated) when the rule fires only later.
   A negated easing ("not yet reopened", "still no notice on when they can reopen")
   reached the rules as tightening already.
2. Without a direction in the lead, the body decides when its sentences agree.
3. When they disagree, the earliest directed sentence decides, and the signal says its
   direction is **uncertain** (alerts show it; severity is capped as for easing).
"""

from __future__ import annotations

from collections.abc import Sequence

from watcher.classify.rules import Hit
from watcher.domain.items import Direction

LEAD_SENTENCES = 1


def lead_end(has_title: bool) -> int:
    """The index of the first sentence after the lead."""
    return int(has_title) + LEAD_SENTENCES


def item_direction(
    hits: Sequence[Hit], lead: int, *, lead_eased: bool = False
) -> tuple[Direction | None, bool]:
    """The direction of the news the `hits` carry (None: no cue decides), and whether it
    is uncertain. `lead` is `lead_end(...)`; hits are in sentence order. `lead_eased`: a
    lead sentence reports a measure eased (the rule's `lead_easing`), whether or not the
    rule fired on it ("… suspends Article 2 of Announcement No. 46")."""
    if lead_eased:
        return Direction.EASING, False
    first: Direction | None = None
    lead_found: Direction | None = None
    mixed = False
    for hit in hits:  # one pass: most items have one or two hits, all one way
        direction = hit.direction
        if direction is None:
            continue
        if hit.sentence < lead and lead_found is not Direction.EASING:
            lead_found = direction
        if first is None:
            first = direction
        elif direction is not first:
            mixed = True
    if lead_found is not None:
        return lead_found, False
    return first, mixed
