"""One rule on one sentence: does it fire, which way, and is it only speculative?

The sentence's matches arrive grouped by concept. The rule fires on the first `match`
alternative whose concepts all occur (on distinct words, within `within` words of each
other) and that no negation cue cancels. Words inside a phrase of a `mask` concept do
not count for the rule ("mining" in "mining quota" is no mine; "lifted" in "lifted
offers" raises no quota). Then:

- **negation**: a cue of a `negation` concept within `negation_window` words of a
  trigger term cancels that alternative (the next one is tried), unless the cue is part
  of a matched phrase ("not yet" in a "late" concept) or of a `negation_exceptions`
  phrase ("not only"). A cue of a `not_easing` concept standing just before an easing
  cue ("not resumed", "yet to reopen", "no licences approved") turns that cue into a
  tightening one and cancels nothing.
- **hedging**: a hedging cue counts when it stands before a trigger term, at most
  `hedging_window` words from it ("may suspend", "is considering closing"), so a
  forecast tacked onto a fact ("…, which could leave plants short") does not make the
  fact speculative. A question is always speculative.
- **direction**: easing when an easing cue stands within `within` words of the
  trigger, because an easing sentence usually names the tightening it undoes ("mines
  suspended in May have resumed", "the shortage has eased"); else tightening when a
  tightening cue does; else None, and the rule's default direction applies.
"""

from __future__ import annotations

from dataclasses import dataclass

from watcher.classify.matcher import Match, count_cjk
from watcher.config import SignalRule
from watcher.domain.items import Direction

Found = dict[str, list[Match]]
FLIP_WINDOW = 3  # "not been approved", "have still not been approved", "yet to reopen"
CUE_WINDOW = 12  # how far a direction cue may stand from the trigger without `within`


@dataclass(slots=True)
class Hit:
    """One sentence on which a rule fired."""

    sentence: int
    spans: list[Match]
    direction: Direction | None
    hedged: bool
    spread: int = 0


def distance(text: str, left: int, right: int) -> int:
    """Word gaps between two offsets (two Chinese characters count as one word)."""
    if right <= left:
        return 0
    gap = text[left:right]
    return gap.count(" ") + count_cjk(gap) // 2


def gap(text: str, a: Match, b: Match) -> int:
    """Words between two matches, whichever comes first; 0 when they overlap."""
    if a.end <= b.start:
        return distance(text, a.end, b.start)
    return distance(text, b.end, a.start)


class CompiledRule:
    """A `SignalRule` with its concept lists as sets, for quick rejection of sentences."""

    def __init__(self, rule: SignalRule) -> None:
        self.rule = rule
        self.groups = [(tuple(g), frozenset(g)) for g in rule.match]
        self.group_sets = [wanted for _, wanted in self.groups]
        self.context = frozenset(rule.context)
        self.exclude = frozenset(rule.exclude)
        self.mask = frozenset(rule.mask)
        self.firsts = frozenset(g[0] for g in rule.match)
        self.tightening = tuple(rule.tightening)
        self.easing = tuple(rule.easing)
        self.within = rule.within
        self.window = rule.within or CUE_WINDOW

    def may_fire(self, keys: set[str]) -> bool:
        """False when a sentence with these concepts cannot fire the rule (a quick test)."""
        if self.firsts.isdisjoint(keys) or not self.exclude.isdisjoint(keys):
            return False
        return any(wanted <= keys for _, wanted in self.groups)

    def fire(self, index: int, found: Found, keys: set[str], text: str) -> Hit | None:
        """The rule's hit on sentence `index` (its matches `found` by concept), or None.

        `keys` are the concepts of `found`. Call it on sentences that pass `may_fire`.
        """
        if not self.mask.isdisjoint(keys):
            found = _unmasked(self.mask, found)
            keys = set(found)
        rule = self.rule
        tightening = [m for c in self.tightening if c in found for m in found[c]]
        easing = [m for c in self.easing if c in found for m in found[c]]
        flipped = _flipped(rule, found, easing, text) if easing and rule.not_easing else []
        for names, wanted in self.groups:
            if not wanted <= keys:
                continue
            trigger, spread = _closest([found[c] for c in names], text)
            if trigger is None or (self.within is not None and spread > self.within):
                continue
            if _negated(rule, found, trigger, tightening + easing, flipped, text):
                continue
            window = self.window
            near_easing = [
                e for e in easing if e not in flipped and _near(text, e, trigger, window)
            ]
            near_tight = [t for t in tightening + flipped if _near(text, t, trigger, window)]
            direction = (
                Direction.EASING if near_easing else Direction.TIGHTENING if near_tight else None
            )
            cues = near_easing if direction is Direction.EASING else near_tight
            hedged = _hedged(rule, found, trigger, text)
            return Hit(index, trigger + cues, direction, hedged, spread)
        return None


def _unmasked(mask: frozenset[str], found: Found) -> Found:
    """`found` without the matches that lie inside a match of a mask concept."""
    masks = [m for c in mask for m in found.get(c, ())]
    out: Found = {}
    for concept, matches in found.items():
        if concept not in mask:
            matches = [
                m for m in matches if not any(k.start <= m.start <= m.end <= k.end for k in masks)
            ]
        if matches:
            out[concept] = matches
    return out


def _closest(groups: list[list[Match]], text: str) -> tuple[list[Match] | None, int]:
    """One match per concept, on distinct spans, as close together as possible; and the spread.

    For each match of the first concept, every other concept contributes its match
    nearest to it (the first of equals); the set with the smallest spread wins.
    """
    first = groups[0]
    if len(groups) == 1:
        return [first[0]], 0
    rest = groups[1:]
    best: list[Match] | None = None
    best_spread = 0
    for anchor in first:
        chosen = [anchor]
        first_end, last_start = anchor.end, anchor.start
        for options in rest:
            pick: Match | None = None
            pick_gap = 0
            for option in options:
                option_gap = abs(option.start - anchor.start)
                if pick is not None and option_gap >= pick_gap:
                    continue
                if _taken(option, chosen):
                    continue  # one word cannot stand for two concepts
                pick, pick_gap = option, option_gap
            if pick is None:
                break
            chosen.append(pick)
            first_end = min(first_end, pick.end)
            last_start = max(last_start, pick.start)
        else:
            spread = distance(text, first_end, last_start)
            if best is None or spread < best_spread:
                best, best_spread = chosen, spread
    return best, best_spread


def _taken(option: Match, chosen: list[Match]) -> bool:
    # a plain loop: a generator for one to three items costs more than the test
    for match in chosen:  # noqa: SIM110
        if match.start == option.start and match.end == option.end:
            return True
    return False


def _near(text: str, cue: Match, trigger: list[Match], window: int) -> bool:
    return any(gap(text, cue, t) <= window for t in trigger)


def _flipped(rule: SignalRule, found: Found, easing: list[Match], text: str) -> list[Match]:
    """Easing cues that a `not_easing` cue just before them turns into tightening ones."""
    nots = [m for c in rule.not_easing for m in found.get(c, ())]
    return [
        cue
        for cue in easing
        if any(n.end <= cue.start and distance(text, n.end, cue.start) <= FLIP_WINDOW for n in nots)
    ]


def _negated(
    rule: SignalRule,
    found: Found,
    trigger: list[Match],
    cues: list[Match],
    flipped: list[Match],
    text: str,
) -> bool:
    """True when a negation cue stands near the trigger and is not part of a matched phrase."""
    negations = [m for c in rule.negation for m in found.get(c, ())]
    if not negations:
        return False
    protected = trigger + cues + [m for c in rule.negation_exceptions for m in found.get(c, ())]
    for neg in negations:
        if any(p.start <= neg.start and neg.end <= p.end for p in protected):
            continue  # part of a matched phrase ("not yet issued", "not only")
        if any(
            neg.end <= f.start and distance(text, neg.end, f.start) <= FLIP_WINDOW for f in flipped
        ):
            continue  # already read as "not eased" = tightening
        if any(gap(text, neg, t) <= rule.negation_window for t in trigger):
            return True
    return False


def _hedged(rule: SignalRule, found: Found, trigger: list[Match], text: str) -> bool:
    """True when a hedging cue stands before a trigger term, within `hedging_window` words."""
    for name in rule.hedging:
        for cue in found.get(name, ()):
            for term in trigger:
                if cue.end <= term.start:
                    if distance(text, cue.end, term.start) <= rule.hedging_window:
                        return True
                elif cue.start < term.end:
                    return True  # the cue is part of the trigger ("export ban proposal")
    return False
