"""Which way an item's news moves supply: from the event, not a vote of its sentences.

SIGNALS.md: "direction is the direction of the item's news, not of its words". An item
announcing that controls are suspended names the controls, their history and their
effects, so most of its sentences read as tightening; an item on mines "still
suspended" says "reopen". So:

1. The **lead** states the news: the headline and the first `LEAD_SENTENCES` body
   sentences. When a lead sentence gives a direction, the lead decides, and an easing
   event there (suspended, lifted, exempted, approved, resumed, reopened, issued after
   a wait) outranks the tightening it names; so does a measure reported eased in the
   lead (the rule's `lead_easing` cues, not negated, not inside a `frame` phrase such as
   "after Beijing eased the controls") when the rule fires only later.
   A negated easing ("not yet reopened", "still no notice on when they can reopen")
   reached the rules as tightening already; a lead hit that is one (`Hit.refuted`:
   "商务部不再批准…出口许可", "stops approving licences") denies the easing, so no later
   lead sentence's easing (the approvals it ends) and no `lead_easing` outranks it.
2. Without a direction in the lead, the body decides when its sentences agree.
3. When they disagree, the earliest directed sentence decides, and the signal says its
   direction is **uncertain** (alerts show it and why; severity is capped as for easing).
   So it does when the evidence conflicts and nothing settles it: a lead sentence holds
   cues of both directions that no structure of the sentence rules out ("resumed
   shipments, but the main mine is still halted"; see `rules._rivals`), or a lead easing
   meets a body sentence reporting the tightening as still going on (`ONGOING`: "will
   suspend the controls. Customs is still restricting shipments"). The direction stays
   the best reading; `doubt_text` quotes the words that read the other way.
4. When no hit of a rule names a direction, its default (tightening) is a guess; when
   the lead reports an easing event of another rule, the signal says it is uncertain
   (`default_doubt`), and so it does when no sentence of the signal reports a new
   measure either (`undirected.undirected_doubt`).

Across rules: when the lead reports an easing event (a firm easing hit of some rule in
the lead, or its `lead_easing`), a tightening signal of *another* rule whose every hit
lies after the lead is the measure or disruption that event undoes ("Zambia lifts ban
on metal exports. All exports were halted earlier this week and mining permits
suspended ...": no ore disruption), not news of its own; it is dropped
(`undone_dropped`). A rule that also fires in the lead keeps its signal, and so does one
with a hit in a sentence that opens another story ("Separately, floods halted two
mines", 另外, 与此同时: `NEW_STORY`). Wherever the easing stands, a firm tightening of
another rule whose every hit comes after it in the past perfect ("CMOC had resumed
exports. The exports had been blocked by authorities") recounts the state before it and
is dropped too (`pluperfect_dropped`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import NamedTuple

from watcher.classify.matcher import Match
from watcher.classify.rules import Hit
from watcher.config import SignalRule
from watcher.domain.items import Direction

LEAD_SENTENCES = 1
# one rule's outcome on an item: its name, the rule, its news hits, and whether its
# `lead_easing` cue stands in the lead
Fired = tuple[str, SignalRule, list[Hit], bool]
# a sentence holding one of these reports a state as still going on
ONGOING = re.compile(
    r"\b(?:still|remains?|remained|continues? to|continued to|(?:has|have) yet to)\b"
    r"|仍|依然|依旧|依舊|继续|繼續|持续|持續",
    re.IGNORECASE,
)
# a sentence opening with one of these reports another story than the lead's
NEW_STORY = re.compile(
    r"\s*[\"'“‘]?(?:(?i:separately|meanwhile|elsewhere|in other news|in a separate)\b"
    r"|另外|此外|另据|另一方面|与此同时|與此同時|同时|同時)"
)


def lead_end(has_title: bool) -> int:
    """The index of the first sentence after the lead."""
    return int(has_title) + LEAD_SENTENCES


class Doubt(NamedTuple):
    """Why a signal's direction is uncertain: where the evidence conflicts (`SENTENCE`,
    `LEAD_BODY` or `BODY`) and the matches that read the other way."""

    kind: str
    rivals: list[Match]


SENTENCE = "sentence"  # cues of both directions in the sentence that decides
LEAD_BODY = "lead_body"  # a lead easing, a body sentence on a tightening still going on
BODY = "body"  # no lead direction, and the body's sentences disagree
DEFAULT = "default"  # no cue of the rule's own: its default direction against a lead easing
UNDIRECTED = "undirected"  # no cue of the rule's own, and no new measure (see `undirected`)
EASING = "easing"  # the item reports an easing of what the signal names (see `easing`)


def item_direction(
    hits: Sequence[Hit],
    lead: int,
    *,
    lead_eased: bool = False,
    ongoing: Callable[[int], bool] | None = None,
) -> tuple[Direction | None, Doubt | None]:
    """The direction of the news the `hits` carry (None: no cue decides), and why it is
    uncertain (None: it is not). `lead` is `lead_end(...)`; hits are in sentence order.
    `lead_eased`: a lead sentence reports a measure eased (the rule's `lead_easing`),
    whether or not the rule fired on it ("… suspends Article 2 of Announcement No. 46").
    `ongoing(i)`: sentence i reports a state as still going on (`ONGOING`).

    The direction is uncertain when a lead hit (or, without a lead direction, the hit
    that decides) has `rivals` (cues of both directions in its sentence that no
    structure settles, see `rules._rivals`), when a
    lead easing meets a body sentence that reports the tightening as still going on
    ("… will suspend the controls. Beijing is still restricting exports"), or, without a
    lead direction, when the body's sentences disagree."""
    first: Hit | None = None
    lead_hit: Hit | None = None
    disputed: Hit | None = None  # the first lead hit with rivals
    mixed: Hit | None = None
    for hit in hits:  # one pass: most items have one or two hits, all one way
        direction = hit.direction
        if direction is None:
            continue
        if hit.sentence < lead:
            if lead_hit is None or (
                lead_hit.direction is not Direction.EASING and not lead_hit.refuted
            ):
                lead_hit = hit
            if disputed is None and hit.rivals:
                disputed = hit
        if first is None:
            first = hit
        elif mixed is None and direction is not first.direction:
            mixed = hit
    # a lead hit denying an easing ("商务部不再批准…出口许可") is the news: a later lead
    # sentence's easing (the approvals it ends) does not outrank it
    if lead_hit is not None and lead_hit.refuted:
        lead_eased = False
    if disputed is not None and disputed.rivals is not None and lead_hit is not None:
        # the direction stays the lead's; the doubt quotes what reads against it
        found = Direction.EASING if lead_eased else lead_hit.direction
        if disputed.direction is found:
            return found, Doubt(SENTENCE, disputed.rivals)
        return found, Doubt(SENTENCE, _cues(disputed))
    if lead_eased or (lead_hit is not None and lead_hit.direction is Direction.EASING):
        if ongoing is not None:
            for hit in hits:
                if (
                    hit.sentence >= lead
                    and hit.direction is Direction.TIGHTENING
                    and not hit.hedged
                    and ongoing(hit.sentence)
                ):
                    return Direction.EASING, Doubt(LEAD_BODY, _cues(hit))
        return Direction.EASING, None
    if lead_hit is not None:
        return lead_hit.direction, None
    if first is None:
        return None, None
    if mixed is not None:
        return first.direction, Doubt(BODY, _cues(mixed))
    return first.direction, Doubt(SENTENCE, first.rivals) if first.rivals else None


def _cues(hit: Hit) -> list[Match]:
    """The direction cues of a hit (its trigger terms when it has none)."""
    return hit.spans[len(hit.spans) - hit.cues :] if hit.cues else hit.spans


MAX_RIVALS = 3  # words quoted in a doubt


def doubt_text(doubt: Doubt, direction: Direction, text: str) -> str:
    """Why a signal read as `direction` is uncertain, for a reader: the words of the item
    `text` that read the other way, and where they stand."""
    other = Direction.EASING if direction is Direction.TIGHTENING else Direction.TIGHTENING
    rivals = sorted(set(doubt.rivals))[:MAX_RIVALS]
    words = ", ".join(f"'{text[start:end]}'" for start, end, _ in rivals)
    if doubt.kind == SENTENCE:
        verb = "reads" if len(rivals) == 1 else "read"
        return f"{words} in the same sentence {verb} {other.value}"
    if doubt.kind == DEFAULT:
        return (
            f"no word of this signal gives its direction ({direction.value} is the rule's"
            f" default), and the lead reports an easing ({words})"
        )
    if doubt.kind == UNDIRECTED:
        return (
            f"no word of this signal gives its direction nor reports a new measure ({words}):"
            f" {direction.value} is the rule's default"
        )
    if doubt.kind == EASING:
        return (
            f"the item also reports an easing of what this signal names ({words}), and no new"
            f" measure in its headline or lead makes the {direction.value} its news"
        )
    if doubt.kind == LEAD_BODY:
        return f"the lead reports easing, a later sentence a tightening still going on ({words})"
    return f"the item's sentences disagree: a later one reads {other.value} ({words})"


def lead_easing_cues(fired: list[Fired], lead: int) -> list[Match]:
    """The direction cues of the firm easing hits that the rules in `fired` have in the
    lead (`lead` is `lead_end(...)`): the easing events the item's news states."""
    return [
        cue
        for _, _, hits, _ in fired
        for h in hits
        if h.sentence < lead and h.direction is Direction.EASING and not h.hedged
        for cue in _cues(h)
    ]


def default_doubt(found: Direction | None, default: Direction, easing: list[Match]) -> Doubt | None:
    """Why a signal none of whose hits names a direction (`found` None) is uncertain: its
    rule's `default` is tightening while the lead reports an easing event (`easing`,
    from `lead_easing_cues`) of another type. Which way this signal's news moves supply is
    then a guess, said as such (SIGNALS.md: an uncertain direction says so) rather than
    sent as a firm tightening ("Zambia lifts ban on cobalt exports … exporters need an
    export permit"); else None."""
    if found is not None or default is not Direction.TIGHTENING or not easing:
        return None
    return Doubt(DEFAULT, easing)


def undone_dropped(fired: list[Fired], lead: int, new_story: Callable[[int], bool]) -> list[Fired]:
    """`fired` less the tightening of other rules that a lead easing event undoes (see
    the module's docstring). `lead` is `lead_end(...)`; `new_story(i)` says whether
    sentence i opens another story."""
    easing_lead = [
        eased
        or any(h.sentence < lead and h.direction is Direction.EASING and not h.hedged for h in hits)
        for _, _, hits, eased in fired
    ]
    if not any(easing_lead):
        return fired
    kept = []
    for (name, rule, hits, eased), easing in zip(fired, easing_lead, strict=True):
        if (
            not easing
            and _body_tightening(hits, lead, rule)
            and not any(new_story(h.sentence) for h in hits)
        ):
            continue
        kept.append((name, rule, hits, eased))
    return kept


def _body_tightening(hits: Sequence[Hit], lead: int, rule: SignalRule) -> bool:
    """True when the hits all lie after the lead and make a firm tightening signal."""
    if any(h.sentence < lead for h in hits):
        return False
    firm = [h for h in hits if not h.hedged]
    if not firm:
        return False  # speculative: no tightening is sent
    found, _ = item_direction(firm, lead)
    return (found or rule.direction) is Direction.TIGHTENING


# a past-perfect verb group ending just before a word: "had been blocked", "had halted",
# "had earlier been suspended"
_PLUPERFECT = re.compile(
    r"\bhad\s+(?:(?:been|already|earlier|previously|also|long|temporarily)\s+){0,2}$",
    re.IGNORECASE,
)


def is_pluperfect(hit: Hit, text: str) -> bool:
    """True when a span of the hit is the participle of a past-perfect verb group
    ("The exports had been blocked by authorities"): the sentence recounts a state
    before the time of the item's news."""
    return any(
        _PLUPERFECT.search(text, max(0, span.start - 40), span.start) is not None
        for span in hit.spans
    )


def pluperfect_dropped(fired: list[Fired], pluperfect: Callable[[Hit], bool]) -> list[Fired]:
    """`fired` less the firm tightening of a rule whose every hit recounts in the past
    perfect ("had been blocked") what another rule's firm easing hit in an earlier
    sentence reports undone ("had resumed exports"): the state before the news, its
    background by SIGNALS.md, not news of its own."""
    easing_at = [
        min(
            (h.sentence for h in hits if h.direction is Direction.EASING and not h.hedged),
            default=None,
        )
        for _, _, hits, _ in fired
    ]
    if all(at is None for at in easing_at):
        return fired
    kept = []
    for index, (name, rule, hits, eased) in enumerate(fired):
        others = [at for i, at in enumerate(easing_at) if i != index and at is not None]
        if (
            not eased
            and others
            and all(
                not h.hedged
                and (h.direction or rule.direction) is Direction.TIGHTENING
                and h.sentence > min(others)
                and pluperfect(h)
                for h in hits
            )
        ):
            continue
        kept.append((name, rule, hits, eased))
    return kept


# "after" / "following" opening the phrase that names an earlier event
_AFTER_WORD = re.compile(r"\b(?:after|following)\b", re.IGNORECASE)
AFTER_REACH = 8  # words from an easing event to the "after" that follows it


def after_easing(hit: Hit, events: list[Match], text: str, gap: Callable[[int, int], int]) -> bool:
    """True when every direction cue of the tightening `hit` stands in an "after …"
    phrase that follows, within `AFTER_REACH` words, an easing event of any rule in the
    sentence ("will restart some exports after it halted sales last year"): the
    tightening is the earlier event the news undoes, its background by SIGNALS.md.
    `events` are the sentence's easing-event matches; `gap(a, b)` the words between two
    offsets."""
    if not hit.cues:
        return False
    cues = hit.spans[len(hit.spans) - hit.cues :]
    first = min(cue.start for cue in cues)
    for event in events:
        if event.end > first:
            continue
        after = _AFTER_WORD.search(text, event.end, first)
        if after is not None and gap(event.end, after.start()) <= AFTER_REACH:
            return True
    return False
