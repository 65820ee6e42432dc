"""One rule on one sentence: does it fire, which way, and is it only speculative?

The sentence's matches arrive grouped by concept. The rule fires on the first `match`
alternative whose concepts all occur (on distinct words, within `within` words of each
other, and with `scope: clause` in one clause; `anywhere` concepts may stand anywhere in
the sentence) and that no negation cue cancels. Words inside a phrase of a `mask`
concept do not count for the rule ("mining" in "mining quota" is no mine; "lifted" in
"lifted offers" raises no quota). Then:

- **negation**: a cue of a `negation` concept in the trigger's clause, within
  `negation_window` words of a trigger term, cancels that alternative (the next one is
  tried), unless the cue is part of a matched phrase ("not yet" in a "late" concept) or
  of a `negation_exceptions` phrase ("not only"). A cue of a `not_easing` concept up to
  `not_easing_window` words before an easing cue in its clause ("not resumed", "yet to
  reopen", "no notice on when they can reopen", "very few companies supply enough")
  turns that cue into a tightening one and cancels nothing; so does a verb that bars the
  easing ("preventing the company from resuming", 阻止…恢复: `_barred`) or leaves its date
  unknown ("复产时间尚不确定", "the restart date is still uncertain": `_undated`).
- **hedging**: a hedging cue counts when it stands before a trigger term, at most
  `hedging_window` words from it ("may suspend", "is considering closing"), or right
  after one in its clause ("controls could be widened", "the ban is likely to be lifted":
  auxiliaries between do not count), or before every direction cue of the hit ("have the
  potential to cut shipments"), so a forecast tacked onto a fact
  ("…, which could leave plants short") does not make the fact speculative. A question
  is always speculative, and so is a sentence with a `doubt` cue anywhere ("…, but
  Beijing has not confirmed it").
- **direction**: cues that start inside a `frame` phrase are the setting, not the news,
  and count for neither direction ("three weeks after Beijing eased the controls,
  shipments are still stuck"). The cues of each direction are then cleared of those
  inside a longer cue of the other ("suspend exports" is no "suspend" of controls), and the
  easing cues that a supply still held up sets aside as a past promise, a defied order
  or a concession ("still waiting for licences weeks after Beijing promised to speed up
  approvals", "although the border has reopened, imports remain low": `_conceded`). Easing when an
  easing cue stands within `within` words of the trigger, because an easing sentence
  names the tightening it undoes ("mines suspended in May have resumed", "the shortage
  has eased"); else tightening when a tightening cue does; else None, and the rule's
  default direction applies.
- **background**: a `background` cue in the sentence, or a `frame` cue just before a
  trigger term in its clause ("as Beijing tightens its export controls", "amid",
  "since"), marks the hit as background (history, an earlier event, the setting of other
  news): the engine counts it only beside news. So does a match wholly inside a
  past-perfect relative clause ("clearing a backlog that had left smelters short of ore",
  `recounted`, asked by the engine), and a `frame_after` cue just after
  a trigger term ("the controls, announced in October, have intensified the scramble")
  when no direction cue reports the measure's current effect or its end.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

from watcher.classify.matcher import Match, count_cjk
from watcher.classify.text import clause_breaks
from watcher.compiled import mypyc_attr
from watcher.config import SignalRule
from watcher.domain.items import Direction

Found = dict[str, list[Match]]
CUE_WINDOW = 12  # how far a direction cue may stand from the trigger without `within`
HEDGED_CUE_WINDOW = 2  # how far before an easing cue a hedge makes it a possibility


@dataclass(slots=True)
class Hit:
    """One sentence on which a rule fired."""

    sentence: int
    spans: list[Match]
    direction: Direction | None
    hedged: bool
    spread: int = 0
    background: bool = False
    rivals: list[Match] | None = None
    """Cues of the other direction near the trigger that no structure of the sentence
    rules out: the direction was a guess between them (see `_direction`)."""
    cues: int = 0
    """How many of the last `spans` are the direction cues that set `direction`."""
    refuted: bool = False
    """The direction is tightening because an easing cue is negated ("no longer
    approves", 不再批准, "has not resumed"): the sentence denies the easing."""


def distance(text: str, left: int, right: int) -> int:
    """Word gaps between two offsets (two Chinese characters count as one word)."""
    if right <= left:
        return 0
    if text.isascii():  # most texts: no Chinese to count, and no slice to make
        return text.count(" ", left, right)
    gap = text[left:right]
    return gap.count(" ") + count_cjk(gap) // 2


def gap(text: str, a: Match, b: Match) -> int:
    """Words between two matches, whichever comes first; 0 when they overlap."""
    if a.end <= b.start:
        return distance(text, a.end, b.start)
    return distance(text, b.end, a.start)


class Clauses:
    """A sentence's clauses, worked out on first use: `same(a, b)` says whether two
    matches share one; `questions` are the clauses that end with a question mark."""

    __slots__ = ("_breaks", "_lowered", "_questions", "_span", "_text")

    def __init__(
        self,
        text: str,
        start: int,
        end: int,
        *,
        may_ask: bool = True,
        lowered: str | None = None,
    ) -> None:
        self._text = text
        self._lowered = lowered
        self._span = (start, end)
        self._breaks: list[int] | None = None
        # `may_ask` False: the text has no question mark, so no clause is a question
        self._questions: frozenset[int] | None = None if may_ask else frozenset()

    @property
    def breaks(self) -> list[int]:
        """Offsets where the sentence's clauses end."""
        if self._breaks is None:
            self._breaks = clause_breaks(self._text, *self._span, self._lowered)
        return self._breaks

    @property
    def questions(self) -> frozenset[int]:
        """The numbers of the clauses that end with a question mark."""
        if self._questions is None:
            start, end = self._span
            marks = (
                [i for i in range(start, end) if self._text[i] in "?？"]
                if ("?" in self._text[start:end] or "？" in self._text[start:end])
                else []
            )
            self._questions = frozenset(self.of(q) for q in marks)
        return self._questions

    @property
    def span(self) -> tuple[int, int]:
        """Where the sentence starts and ends in the text."""
        return self._span

    def mentions(self, words: re.Pattern[str]) -> bool:
        """True when the sentence may hold one of `words` (a pattern of lower-case
        literals): a quick test before a costlier regex; always True without the
        lower-cased text."""
        lowered = self._lowered
        if lowered is None:
            return True
        return words.search(lowered, *self._span) is not None

    def of(self, offset: int) -> int:
        """The number of the clause that holds `offset`."""
        breaks = self._breaks
        if breaks is None:
            breaks = self.breaks
        return bisect_right(breaks, offset) if breaks else 0

    def end_of(self, offset: int) -> int:
        """The offset where the clause that holds `offset` ends."""
        breaks = self.breaks
        index = bisect_right(breaks, offset) if breaks else 0
        return breaks[index] if index < len(breaks) else self._span[1]

    def same(self, a: Match, b: Match) -> bool:
        """True when no clause break lies between the two matches."""
        return self.of(a.start) == self.of(b.start)

    def asks(self, match: Match) -> bool:
        """True when the match stands in a clause that is a question."""
        return self.of(match.start) in self.questions


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # pickled: watcher.compiled
class CompiledRule:
    """A `SignalRule` with its concept lists as sets, for quick rejection of sentences."""

    def __init__(self, rule: SignalRule) -> None:
        self.rule = rule
        self.groups = [(tuple(g), frozenset(g)) for g in rule.match]
        self.group_sets = [wanted for _, wanted in self.groups]
        anywhere = set(rule.anywhere)
        # per alternative: its concepts, those bound by `within`/`scope`, those free
        self.alternatives = []
        for names, wanted in self.groups:
            bound = tuple(c for c in names if c not in anywhere) or names[:1]
            loose = tuple(c for c in names if c not in bound)
            self.alternatives.append((wanted, bound, loose))
        self.context = frozenset(rule.context)
        self.context_mask = frozenset(rule.context_mask)
        self.exclude = frozenset(rule.exclude)
        self.other_goods = frozenset(rule.other_goods)
        self.mask = frozenset(rule.mask)
        self.background = frozenset(rule.background)
        self.frames = frozenset(rule.frame)
        self.after_frames = frozenset(rule.frame_after)
        self.firsts = frozenset(g[0] for g in rule.match)
        self.tightening = tuple(rule.tightening)
        self.easing = tuple(rule.easing)
        self.tight_set = frozenset(rule.tightening)
        self.cue_set = self.tight_set | frozenset(rule.easing)
        self.events = tuple(rule.easing_events)
        self.lead_easing = frozenset(rule.lead_easing)
        self.not_easing = frozenset(rule.not_easing)
        self.negators = frozenset(rule.negation) | frozenset(rule.denial)
        self.hedges = frozenset(rule.hedging)
        self.doubts = frozenset(rule.doubt)
        self.lead_vetoes = frozenset(rule.not_easing) | frozenset(rule.negation)
        self.within = rule.within
        self.window = rule.within or CUE_WINDOW
        self.by_clause = rule.scope == "clause"

    def lead_eases(
        self,
        keys: set[str],
        found: Callable[[], Found],
        text: str = "",
        clauses: Callable[[], Clauses] | None = None,
    ) -> bool:
        """True when a lead sentence with these concepts reports a measure eased: a
        `lead_easing` cue, no `not_easing` or negation cue, and the cue not inside a
        `frame` phrase ("three weeks after Beijing eased the controls, …" names the
        easing as the setting). `found` gives the sentence's matches, asked for only
        when a frame, a tightening cue or a hedge may rule the cue out.

        Given the item's (folded) `text` and the sentence's `clauses`, the cue must also
        be the sentence's news: not the earlier event of an "after …" phrase that follows
        a tightening cue of the rule ("halted again after it resumed operations", see
        `_prior_dropped`), and not a possibility a hedge just before it makes ("could
        resume operations", see `_unhedged`)."""
        if self.lead_easing.isdisjoint(keys) or not self.lead_vetoes.isdisjoint(keys):
            return False
        held = (
            clauses is not None
            and clauses().mentions(_STILL_WORDS)
            and _STILL_HELD.search(text, *clauses().span) is not None
        )
        guarded = clauses is not None and (
            held or not (self.tight_set.isdisjoint(keys) and self.hedges.isdisjoint(keys))
        )
        if self.frames.isdisjoint(keys) and not guarded:
            return True
        matches = found()
        cues = self._unframed([m for c in self.lead_easing for m in matches.get(c, ())], matches)
        if cues and guarded and clauses is not None:
            sentence = clauses()
            tightening = [m for c in self.tightening for m in matches.get(c, ())]
            if tightening:
                _, cues = _prior_dropped(tightening, cues, text, sentence)
            if cues and not self.hedges.isdisjoint(keys):
                cues = _unhedged(self.rule, matches, cues, text, sentence)
            if cues and held:
                cues = _conceded(cues, text, *sentence.span)
        return bool(cues)

    def body_eases(
        self,
        keys: set[str],
        found: Callable[[], Found],
        text: str = "",
        clauses: Callable[[], Clauses] | None = None,
    ) -> bool:
        """True when a body sentence with these concepts reports a measure eased as news:
        as `lead_eases`, and neither hedged ("could lift the ban") nor background."""
        return (
            self.hedges.isdisjoint(keys)
            and self.doubts.isdisjoint(keys)
            and self.background.isdisjoint(keys)
            and self.lead_eases(keys, found, text, clauses)
        )

    def _unframed(self, cues: list[Match], found: Found) -> list[Match]:
        """The `cues` that do not start inside one of the sentence's `frame` phrases."""
        frames = [m for c in self.frames for m in found.get(c, ())]
        return [m for m in cues if not _within_any(m, frames)]

    def in_context(self, keys: list[set[str]], found: Callable[[int], Found]) -> bool:
        """True when an item whose sentences hold these concepts (`found(i)`: the matches
        of sentence i) names a `context` concept outside every `context_mask` phrase."""
        context, masks = self.context, self.context_mask
        for index, held in enumerate(keys):
            if context.isdisjoint(held):
                continue
            if masks.isdisjoint(held) or not context.isdisjoint(_unmasked(masks, found(index))):
                return True
        return False

    def may_fire(self, keys: set[str]) -> bool:
        """False when a sentence with these concepts cannot fire the rule (a quick test;
        an excluded concept inside a mask phrase is left to `excluded`)."""
        if self.firsts.isdisjoint(keys):
            return False
        if not self.exclude.isdisjoint(keys) and self.mask.isdisjoint(keys):
            return False
        return any(wanted <= keys for _, wanted in self.groups)

    def excluded(self, found: Found, keys: set[str]) -> bool:
        """True when an `exclude` concept stands in the sentence outside every `mask`
        phrase ("steel" is excluded, "stainless steel" masked)."""
        if self.exclude.isdisjoint(keys):
            return False
        if self.mask.isdisjoint(keys):
            return True
        return not self.exclude.isdisjoint(_unmasked(self.mask, found))

    def fire(
        self, index: int, found: Found, keys: set[str], text: str, clauses: Clauses
    ) -> Hit | None:
        """The rule's hit on sentence `index` (its matches `found` by concept), or None.

        `keys` are the concepts of `found`; `clauses` tells the sentence's clauses apart.
        Call it on sentences that pass `may_fire`.
        """
        if not self.mask.isdisjoint(keys):
            found = _unmasked(self.mask, found)
            keys = set(found)
        rule = self.rule
        if self.cue_set.isdisjoint(keys):  # most sentences name no direction cue
            tightening: list[Match] = []
            easing: list[Match] = []
        else:
            tightening = [m for c in self.tightening if c in found for m in found[c]]
            easing = [m for c in self.easing if c in found for m in found[c]]
        if (tightening or easing) and not self.frames.isdisjoint(keys):
            # a cue inside a frame phrase names the setting, not the news ("three weeks
            # after Beijing eased the controls, shipments are still stuck")
            tightening = self._unframed(tightening, found)
            easing = self._unframed(easing, found)
        if tightening and easing:
            tightening, easing = (
                _outside(tightening, easing, easing=False, text=text),
                _outside(easing, tightening, easing=True, text=text),
            )
        if clauses.questions:  # a cue in a question states nothing ("When will it recover?")
            tightening = [m for m in tightening if not clauses.asks(m)]
            easing = [m for m in easing if not clauses.asks(m)]
        if easing and tightening:
            tightening, easing = _prior_dropped(tightening, easing, text, clauses)
        held = bool(easing) and clauses.mentions(_HELD_HINT)
        if held and clauses.mentions(_STILL_WORDS):
            easing = _conceded(easing, text, *clauses.span)
        hedgeable = not self.hedges.isdisjoint(keys)
        if easing and tightening and hedgeable:  # a possible easing cannot outrank a fact
            easing = _unhedged(rule, found, easing, text, clauses)
        flipped = (
            _flipped(rule, found, easing, text, clauses)
            if easing and not self.not_easing.isdisjoint(keys)
            else []
        )
        # "prevent us from resuming", "复产时间尚不确定": an easing held up
        if held and easing and clauses.mentions(_HELD_UP_WORDS):
            flipped += [
                cue
                for cue in easing
                if cue not in flipped
                and (_barred(text, cue) or _undated(text, cue) or _delayed(text, cue))
            ]
        negatable = not self.negators.isdisjoint(keys)
        # a hit whose trigger a frame sets as background: kept while another trigger may
        # hold the sentence's news outside the frame ("India told a state miner to suspend
        # rare earth exports to Japan, amid tightening Chinese export controls")
        framed: Hit | None = None
        for wanted, bound, loose in self.alternatives:
            if not wanted <= keys:
                continue
            groups = [found[c] for c in bound]
            retried = False
            while True:
                trigger, spread = _closest(groups, text, clauses if self.by_clause else None)
                if trigger is None or (self.within is not None and spread > self.within):
                    break
                free = [_free(found[c], trigger) for c in loose] if loose else []
                if None in free:
                    break
                if negatable and _negated(
                    rule, found, trigger, tightening + easing, flipped, text, clauses
                ):
                    break
                picked = trigger + [m for m in free if m is not None] if free else trigger
                rivals = None
                if tightening or easing:
                    direction, cues, rivals = self._direction(
                        found, picked, tightening, easing, flipped, text, clauses
                    )
                    if direction is None and bool(tightening) != bool(easing):
                        # no cue near the trigger, one direction in the whole sentence
                        # ("Codelco resumed operations at the mine, a week after a collapse
                        # halted all mining": the halt is the earlier event)
                        direction = Direction.TIGHTENING if tightening else Direction.EASING
                else:
                    direction, cues = None, []
                hedged = (
                    (
                        hedgeable
                        and (
                            _hedged(rule, found, trigger, text, clauses)
                            # the cue that gives the event is a possibility ("has the
                            # potential to disrupt", "could halt"): so is the event
                            or (
                                bool(cues)
                                and all(_hedged(rule, found, [c], text, clauses) for c in cues)
                            )
                        )
                    )
                    or bool(clauses.questions and all(clauses.asks(t) for t in trigger))
                    or not self.doubts.isdisjoint(keys)
                )
                background = not self.background.isdisjoint(keys)
                if not background and not (
                    self.frames.isdisjoint(keys) and self.after_frames.isdisjoint(keys)
                ):
                    effects = (
                        [m for c in rule.effects for m in found.get(c, ())]
                        if rule.effects
                        else cues
                    )
                    background = (
                        not self.frames.isdisjoint(keys)
                        and _framed(rule, found, trigger, effects, text, clauses)
                    ) or (
                        not self.after_frames.isdisjoint(keys)
                        and _framed_after(rule, found, trigger, effects, text)
                    )
                    if background:
                        if framed is None:
                            framed = Hit(
                                index, picked + cues, direction, hedged, spread, True, rivals,
                                len(cues),
                            )  # fmt: skip
                        # once more without the framed trigger's words
                        groups = [[m for m in group if m not in trigger] for group in groups]
                        if retried or not all(groups):
                            break
                        retried = True
                        continue
                return Hit(
                    index, picked + cues, direction, hedged, spread, background, rivals,
                    len(cues),
                    bool(flipped) and direction is Direction.TIGHTENING
                    and any(c in flipped for c in cues),
                )  # fmt: skip
        return framed

    def _direction(
        self,
        found: Found,
        trigger: list[Match],
        tightening: list[Match],
        easing: list[Match],
        flipped: list[Match],
        text: str,
        clauses: Clauses,
    ) -> tuple[Direction | None, list[Match], list[Match] | None]:
        """The sentence's direction, the cues that set it, and the rival cues (see
        `_rivals`) when cues of both directions stand near the trigger.

        An easing event near the trigger (resumed, lifted, eased) outranks any tightening
        cue: an easing report names what it undoes. Otherwise the cue nearest the trigger
        decides (cues in the trigger's clauses first), a tie going to easing.
        """
        window = self.window
        near_easing = [e for e in easing if e not in flipped and _near(text, e, trigger, window)]
        near_tight = [t for t in tightening + flipped if _near(text, t, trigger, window)]
        if not near_easing and not near_tight:
            return None, [], None
        if near_easing:
            events = [m for c in self.events if c in found for m in found[c]]
            strong = [e for e in near_easing if e in events]
            if strong:
                rivals = (
                    _rivals(strong, near_tight, trigger, text, clauses, event=True)
                    if near_tight
                    else None
                )
                return Direction.EASING, strong, rivals
        if not near_easing or not near_tight:
            direction = Direction.EASING if near_easing else Direction.TIGHTENING
            return direction, near_easing or near_tight, None
        own = {clauses.of(t.start) for t in trigger}
        local = [m for m in near_easing + near_tight if clauses.of(m.start) in own]
        if local:
            near_easing = [m for m in near_easing if m in local]
            near_tight = [m for m in near_tight if m in local]
            if not near_easing or not near_tight:
                direction = Direction.EASING if near_easing else Direction.TIGHTENING
                return direction, near_easing or near_tight, None
        ease = min(_reach(text, m, trigger) for m in near_easing)
        tight = min(_reach(text, m, trigger) for m in near_tight)
        if ease <= tight:
            cues = [m for m in near_easing if _reach(text, m, trigger) == ease]
            return Direction.EASING, cues, _rivals(cues, near_tight, trigger, text, clauses)
        cues = [m for m in near_tight if _reach(text, m, trigger) == tight]
        return Direction.TIGHTENING, cues, _rivals(cues, near_easing, trigger, text, clauses)


GOVERNS = 3  # words an easing event may stand from the measure it undoes


def _rivals(
    chosen: list[Match],
    others: list[Match],
    trigger: list[Match],
    text: str,
    clauses: Clauses,
    *,
    event: bool = False,
) -> list[Match] | None:
    """The cues of `others` (the other direction) that the sentence leaves in conflict
    with the `chosen` ones, or None. A cue is ruled out when, in one clause, a chosen
    cue acts on it or on the trigger at most `GOVERNS` words apart ("lifted the ban",
    "the controls were suspended", "暂停实施出口管制"); when a chosen easing `event`
    stands before it with no `_CONTRAST` word between (what the event undoes and when:
    "suspended its prohibition on exports ..., with immediate effect", but not "mines
    resumed, but transport is still halted"); or when an `_EARLIER` word sets it in an
    earlier event ("approves licences since controls were introduced")."""
    rivals = [
        other
        for other in others
        if not any(
            (
                clauses.same(cue, other)
                and (gap(text, cue, other) <= GOVERNS or _reach(text, cue, trigger) <= GOVERNS)
            )
            or (
                event
                and cue.end <= other.start
                and _CONTRAST.search(text, cue.end, other.start) is None
            )
            or _earlier(text, cue, other)
            for cue in chosen
        )
    ]
    return rivals or None


# words that set a clause against the one before: "resumed, but transport is still halted"
_CONTRAST = re.compile(
    r"\b(?:but|while|although|though|however|yet|whereas|still)\b"
    r"|但|不过|不過|然而|尽管|盡管|仍|依然|依旧|依舊",
    re.IGNORECASE,
)


# words that set a cue in an earlier event than the sentence's news: "since controls
# were introduced", "a mine which halted last month", "mines that were suspended in
# May", "following an export ban", 此前
_EARLIER = re.compile(
    r"\b(?:since|after|following|which|that (?:was|were|had|has|have)|earlier|previously"
    r"|(?:last|a) (?:week|month|year))\b"
    r"|此前|之前|先前|早前|以来|以來",
    re.IGNORECASE,
)
EARLIER_REACH = 24  # characters before a cue where an `_EARLIER` word sets it in the past


def _earlier(text: str, cue: Match, other: Match) -> bool:
    """True when an `_EARLIER` word stands between the two cues or just before `other`:
    `other` names an earlier event, not one that rivals `cue`."""
    start, end = (cue.end, other.start) if cue.end <= other.start else (other.end, cue.start)
    if _EARLIER.search(text, start, end) is not None:
        return True
    return _EARLIER.search(text, max(other.start - EARLIER_REACH, 0), other.start) is not None


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


def _within_any(cue: Match, spans: list[Match]) -> bool:
    """True when `cue` starts inside one of `spans` (its verb is the span's: "eased the
    controls" in "after Beijing eased the controls")."""
    return any(span.start <= cue.start < span.end for span in spans)


def _outside(cues: list[Match], others: list[Match], *, easing: bool, text: str) -> list[Match]:
    """The cues that no cue of the other direction overrides: a longer cue around them
    ("suspend exports" around "suspend"). Two cues from one verb ("suspended its
    prohibition" and "suspended its prohibition on exports") leave the easing one: an
    easing event outranks the tightening it names. A bare easing word is no such event:
    the tightening phrase it opens names what it does ("extending" in "extending the
    export embargo")."""
    return [c for c in cues if not any(_overrides(o, c, easing, text) for o in others)]


def _overrides(other: Match, cue: Match, easing: bool, text: str) -> bool:
    if other.start == cue.start and other.end != cue.end:
        word = text[cue.start : cue.end]
        if easing and cue.end < other.end and word.isascii() and " " not in word:
            return True  # a bare easing word opening a longer tightening phrase
        return not easing
    return other.start <= cue.start and cue.end <= other.end and other != cue


def _closest(
    groups: list[list[Match]], text: str, clauses: Clauses | None
) -> tuple[list[Match] | None, int]:
    """One match per concept, on distinct spans, as close together as possible; and the spread.

    For each match of the first concept, every other concept contributes its match
    nearest to it (the first of equals), from the anchor's clause when `clauses` is
    given; the set with the smallest spread wins.
    """
    first = groups[0]
    if len(groups) == 1:
        return [first[0]], 0
    rest = groups[1:]
    best: list[Match] | None = None
    best_spread = 0
    # `Clauses.of`, `_taken`, `min` and `max` inlined, and matches read as plain tuples
    # (start, end, label): this runs per option per anchor on every firing sentence
    breaks = clauses.breaks if clauses is not None else None
    for anchor in first:
        anchor_start, anchor_end = anchor[0], anchor[1]
        chosen = [anchor]
        clause = bisect_right(breaks, anchor_start) if breaks else 0
        first_end, last_start = anchor_end, anchor_start
        for options in rest:
            pick: Match | None = None
            pick_gap = 0
            for option in options:
                option_start = option[0]
                option_gap = abs(option_start - anchor_start)
                if pick is not None and option_gap >= pick_gap:
                    continue
                option_end = option[1]
                for match in chosen:  # one word cannot stand for two concepts
                    if match[0] == option_start and match[1] == option_end:
                        break
                else:
                    if breaks and bisect_right(breaks, option_start) != clause:
                        continue
                    pick, pick_gap = option, option_gap
            if pick is None:
                break
            chosen.append(pick)
            if pick[1] < first_end:
                first_end = pick[1]
            if pick[0] > last_start:
                last_start = pick[0]
        else:
            spread = distance(text, first_end, last_start)
            if best is None or spread < best_spread:
                best, best_spread = chosen, spread
    return best, best_spread


def _free(options: list[Match], chosen: list[Match]) -> Match | None:
    """The first of `options` that is not one of the `chosen` spans."""
    return next((m for m in options if not _taken(m, chosen)), None)


def _taken(option: Match, chosen: list[Match]) -> bool:
    # a plain loop: a generator for one to three items costs more than the test
    for match in chosen:  # noqa: SIM110
        if match.start == option.start and match.end == option.end:
            return True
    return False


def _near(text: str, cue: Match, trigger: list[Match], window: int) -> bool:
    # a plain loop: a generator for one to three terms costs more than the test; `gap`
    # inlined, the matches read as plain tuples (start, end, label)
    cue_start, cue_end = cue[0], cue[1]
    for term in trigger:
        if cue_end <= term[0]:
            if distance(text, cue_end, term[0]) <= window:
                return True
        elif distance(text, term[1], cue_start) <= window:
            return True
    return False


def _reach(text: str, cue: Match, trigger: list[Match]) -> int:
    """Words from the cue to the nearest trigger term (0 when it is one or inside one)."""
    return min(gap(text, cue, t) for t in trigger)


def _flipped(
    rule: SignalRule, found: Found, easing: list[Match], text: str, clauses: Clauses
) -> list[Match]:
    """Easing cues that a `not_easing` cue before them, in their clause, makes tightening,
    or that stand inside a `not_easing` phrase ("the date of the restart is unclear") or
    start inside one ("stopped issuing" before "issuing … export licences")."""
    nots = [m for c in rule.not_easing for m in found.get(c, ())]
    if not nots:
        return []
    window = rule.not_easing_window
    return [
        cue
        for cue in easing
        if any(
            (
                n.end <= cue.start
                and distance(text, n.end, cue.start) <= window
                and clauses.same(n, cue)
            )
            or (n.start <= cue.start and cue.end <= n.end and n.label != cue.label)
            or n.start < cue.start < n.end
            for n in nots
        )
    ]


# a verb that bars what follows "from": "prevent us from resuming", "kept the mines from
# reopening", "blocked from restarting"; 阻止/阻碍 … 恢复
_BARRED = re.compile(
    r"(?:\b(?i:prevent\w*|stop(?:s|ped|ping)?|keep(?:s|ing)?|kept|bar(?:s|red|ring)?|block\w*"
    r"|hinder\w*|preclud\w*|prohibit\w*)\b[^.;:!?]{0,40}\b(?i:from)\s+"
    r"|(?:阻止|阻碍|阻礙|妨碍|妨礙)[^。；，,]{0,12})\Z"
)
# words one of which every `_BARRED` or `_UNDATED` phrase holds (a quick test)
_HELD_UP_WORDS = re.compile(
    "from|阻|妨|unclear|uncertain|unknown|undecided|确定|確定|未定|不明|不清楚|未知"
    "|delay|postpon|no time|no date|no schedule"
)
# an easing put off or left without a date, right before its cue: "further delays to the
# restart", "postponed the reopening", "no time frame has been given for the restart"
_DELAYED = re.compile(
    r"(?:\b(?i:delay(?:s|ed|ing)?|postpone[sd]?|postponing)\s+(?:(?i:to|in|of|for)\s+)?"
    r"|\b(?i:no)\s+(?i:time\s*frame|timeline|timetable|date|schedule)\s+"
    r"(?:(?i:has|have|had)\s+been\s+|(?i:was|is)\s+)?(?i:given|set|announced|fixed)?\s*(?i:for)\s+)"
    r"(?:(?i:the|its|their|a)\s+)?(?:(?i:planned|expected|proposed)\s+)?\Z"
)
DELAYED_REACH = 80  # characters before an easing cue searched for a `_DELAYED` phrase
BARRED_REACH = 60  # characters before an easing cue searched for a `_BARRED` verb


def _barred(text: str, cue: Match) -> bool:
    """True when a `_BARRED` verb stands right before the easing cue ("the blockade
    prevents the mine from resuming"): the easing is held up, which is tightening."""
    return _BARRED.search(text[max(cue.start - BARRED_REACH, 0) : cue.start]) is not None


def _delayed(text: str, cue: Match) -> bool:
    """True when a `_DELAYED` phrase stands right before the easing cue ("delays to the
    restart"): the easing is put off, which is tightening."""
    return _DELAYED.search(text[max(cue.start - DELAYED_REACH, 0) : cue.start]) is not None


_AFTER = re.compile(r"\b(?:after|following)\b", re.IGNORECASE)


def _prior_dropped(
    tightening: list[Match], easing: list[Match], text: str, clauses: Clauses
) -> tuple[list[Match], list[Match]]:
    """The cues less those inside an "after …" phrase, in their clause, that follows a
    cue of the other direction: the earlier event named as the cause ("resumed
    operations, a week after a collapse halted mining"; "halted again after resuming")."""

    def prior(cue: Match, others: list[Match]) -> bool:
        for other in others:
            if other.end <= cue.start:
                after = _AFTER.search(text, other.end, cue.start)
                if after is not None and clauses.of(after.start()) == clauses.of(cue.start):
                    return True
        return False

    return (
        [t for t in tightening if not prior(t, easing)],
        [e for e in easing if not prior(e, tightening)],
    )


# a supply still held up ("are still waiting", "remain closed", 仍在等待, 尚未), and the
# phrases that set an easing against it as a past promise or a defied order ("weeks after
# Beijing promised to speed up approvals", "despite an order to reopen them")
_STILL_HELD = re.compile(
    r"\b(?i:(?:still|remains?|remained) (?:waiting|awaiting|pending|stuck|held up|blocked"
    r"|closed|halted|suspended|shut|idle|on hold|without|unable|low|weak|scarce|tight"
    r"|sluggish|subdued|depressed)|yet to)\b"
    r"|(?:仍|依然|依旧|依舊)(?:在|然)?(?:等待|未|没有|沒有|关闭|關閉|暂停|暫停|停产|停產|低迷|疲软"
    r"|疲軟|紧张|緊張|短缺)|尚未",
)
# words one of which every `_STILL_HELD` phrase holds (a quick test before the regex)
_STILL_WORDS = re.compile("still|remain|yet to|仍|依|尚未")
# the words of `_STILL_WORDS` and `_HELD_UP_WORDS`: one quick test for the sentences (most)
# that hold none
_HELD_HINT = re.compile(f"{_STILL_WORDS.pattern}|{_HELD_UP_WORDS.pattern}")
_SINCE = re.compile(
    r"\b(?i:after|since|despite|following)\b|之后|之後|以来|以來|此前|早前|先前|尽管|儘管"
)
# a concession before the news: "although the border has reopened, imports remain low"
_ALTHOUGH = re.compile(r"\b(?i:although|though|even though|despite)\b|尽管|儘管|虽然|雖然")


def _conceded(easing: list[Match], text: str, start: int, end: int) -> list[Match]:
    """The easing cues less those that a supply still held up sets aside as a past
    promise, a defied order or a concession: after a `_STILL_HELD` phrase and an
    "after/since/despite" word ("are still waiting for licences weeks after Beijing
    promised to speed up approvals", "remain closed despite an order to reopen them"), or
    after an "although" word with the `_STILL_HELD` phrase later ("尽管口岸已重新开放，
    但…进口量仍然低迷"). The sentence's news is the supply still held up (SIGNALS.md:
    direction of the news, not of its words)."""
    still = _STILL_HELD.search(text, start, end)
    if still is None:
        return easing
    kept = []
    for cue in easing:
        if still.end() <= cue.start:
            if _SINCE.search(text, still.end(), cue.start) is not None:
                continue
        elif _ALTHOUGH.search(text, start, cue.start) is not None and cue.end <= still.start():
            continue
        kept.append(cue)
    return kept


# an easing whose date or timing is unknown ("复产时间尚不确定", "the restart date remains
# unclear"): no easing yet, so tightening
_UNDATED = re.compile(
    r"\A\s*(?:(?:[A-Za-z-]+\s+){0,2}(?i:date|timing|timeline|schedule)\s+"
    r"(?i:is|remains|remained|was|still)\s+(?:still\s+)?(?i:unclear|uncertain|unknown|undecided)"
    r"|(?:的)?(?:时间|時間|日期|时间表|時間表)(?:仍|尚|还|還)?(?:不确定|不確定|未定|未确定|未確定|不明|不清楚|未知))"
)
UNDATED_REACH = 50  # characters after an easing cue searched for an `_UNDATED` phrase


def _undated(text: str, cue: Match) -> bool:
    """True when an `_UNDATED` phrase follows the easing cue: its date is unknown."""
    return _UNDATED.search(text[cue.end : cue.end + UNDATED_REACH]) is not None


# a relative clause in the past perfect: what it says had happened before the news ("a
# backlog that had left smelters short of ore", "the floods, which had halted mining")
_HAD_CLAUSE = re.compile(r"\b(?i:that|which)\s+had\b")


def recounted(hit: Hit, text: str, clauses: Clauses) -> bool:
    """True when every trigger term and direction cue of the hit stands in a past-perfect
    relative clause (after "that had" / "which had", no clause break between): the match
    recounts the earlier state the sentence's news undoes or follows ("clearing a backlog
    that had left smelters short of ore"), background by SIGNALS.md. A cue before the
    clause acts on what it recounts, which is news ("released shipments that had been
    held"). The engine asks only for items that hold "had"."""
    cues = hit.spans[len(hit.spans) - hit.cues :] if hit.cues else []
    first = min(span.start for span in hit.spans)
    start = clauses.span[0]
    if text.find("had", start, first) < 0:
        return False
    for relative in _HAD_CLAUSE.finditer(text, start, first):
        if clauses.of(relative.start()) == clauses.of(first) and all(
            cue.start > relative.start() for cue in cues
        ):
            return True
    return False


def _unhedged(
    rule: SignalRule, found: Found, easing: list[Match], text: str, clauses: Clauses
) -> list[Match]:
    """The easing cues less those a hedging cue just before them, in their clause, makes
    a possibility ("the ban, which could be lifted next year, took effect"): an easing
    that may come is no easing event."""
    hedges = [m for c in rule.hedging for m in found.get(c, ())]
    return [
        cue
        for cue in easing
        if not any(
            h.end <= cue.start
            and distance(text, h.end, cue.start) <= HEDGED_CUE_WINDOW
            and clauses.same(h, cue)
            for h in hedges
        )
    ]


def _negated(
    rule: SignalRule,
    found: Found,
    trigger: list[Match],
    cues: list[Match],
    flipped: list[Match],
    text: str,
    clauses: Clauses,
) -> bool:
    """True when a negation cue stands near the trigger, in its clause, outside a phrase."""
    negations = [m for c in rule.negation for m in found.get(c, ())]
    denials = [m for c in rule.denial for m in found.get(c, ())]
    if not negations and not denials:
        return False
    protected = trigger + cues + [m for c in rule.negation_exceptions for m in found.get(c, ())]
    window = rule.not_easing_window
    for denial in denials:
        if any(
            denial.end <= f.start and distance(text, denial.end, f.start) <= window for f in flipped
        ):
            continue  # an easing ruled out ("no plans to lift the ban"): not eased
        if not any(p.start <= denial.start and denial.end <= p.end for p in protected) and any(
            denial.end <= t.start and clauses.same(denial, t) for t in trigger
        ):
            return True  # "denied reports that ... plans export cuts"
    for neg in negations:
        if any(p.start <= neg.start and neg.end <= p.end for p in protected):
            continue  # part of a matched phrase ("not yet issued", "not only")
        if any(neg.end <= f.start and distance(text, neg.end, f.start) <= window for f in flipped):
            continue  # already read as "not eased" = tightening
        if _modifies_a_noun(text, neg, trigger):
            continue
        if any(gap(text, neg, t) <= rule.negation_window and clauses.same(neg, t) for t in trigger):
            return True
    return False


def _modifies_a_noun(text: str, neg: Match, trigger: list[Match]) -> bool:
    """True when a Chinese negation ends in a modifier of a noun that stands before a
    trigger term: "没有指令性计划的16户已经停产" (the 16 without a plan have halted)
    negates the plan, not the halt; "没有大规模的停产" (no large halt) still negates."""
    if text[neg.start : neg.end].isascii():
        return False
    for term in trigger:
        if neg.end <= term.start:
            between = text[neg.end : term.start]
            mark = between.rfind("的")
            if mark >= 0 and len(between) - mark > 2:  # a head noun between 的 and the term
                return True
    return False


def _framed(
    rule: SignalRule,
    found: Found,
    trigger: list[Match],
    cues: list[Match],
    text: str,
    clauses: Clauses,
) -> bool:
    """True when a frame cue stands up to `frame_window` words before a trigger term, in
    its clause, or around it (受出口管制影响), and no direction cue reports an effect: the
    match is the setting of other news ("as Beijing tightens its export controls, buyers
    ...", "prices have tripled since the controls took effect").

    An effect cue (the rule's `effects`, else its direction cues) outside the frame
    (from the frame cue to the end of the trigger's clause) and outside the trigger
    reports the measure's current effect, which is news
    ("exports fell 60% after the controls took effect", "since the ban, shipments have
    halted")."""
    regions = []
    for name in rule.frame:
        for cue in found.get(name, ()):
            for term in trigger:
                if (cue.start <= term.start and term.end <= cue.end) or (
                    cue.end <= term.start
                    and distance(text, cue.end, term.start) <= rule.frame_window
                    and clauses.same(cue, term)
                ):
                    regions.append((cue.start, max(cue.end, clauses.end_of(term.start))))
    if not regions:
        return False
    return not _reports_effect(cues, trigger, regions)


def _reports_effect(
    cues: list[Match], trigger: list[Match], regions: list[tuple[int, int]]
) -> bool:
    """True when an effect cue stands outside the trigger terms and the `regions` (the
    frame and what it governs): the sentence reports what the measure does now."""
    for cue in cues:
        if any(t.start <= cue.start and cue.end <= t.end for t in trigger):
            continue  # the "ban" of "export ban" names the measure
        if any(start <= cue.start and cue.end <= end for start, end in regions):
            continue
        return True
    return False


def _framed_after(
    rule: SignalRule, found: Found, trigger: list[Match], cues: list[Match], text: str
) -> bool:
    """True when a `frame_after` cue stands up to `frame_after_window` words after a
    trigger term ("export controls, announced in October 2025, …": a measure dated to
    before the item) and no effect cue outside the trigger and that cue reports an
    effect or the measure's end ("…, imposed in April, have cut shipments by half",
    "agreed to roll back the controls announced in October" are news)."""
    window = rule.frame_after_window
    regions = [
        (cue.start, cue.end)
        for name in rule.frame_after
        for cue in found.get(name, ())
        if any(
            term.end <= cue.start and distance(text, term.end, cue.start) <= window
            for term in trigger
        )
    ]
    return bool(regions) and not _reports_effect(cues, trigger, regions)


def _hedged(
    rule: SignalRule, found: Found, trigger: list[Match], text: str, clauses: Clauses
) -> bool:
    """True when a hedging cue stands before a trigger term (within `hedging_window`
    words) or right after one in its clause (within `hedging_after` words)."""
    for name in rule.hedging:
        for cue in found.get(name, ()):
            for term in trigger:
                if cue.end <= term.start:
                    if distance(text, cue.end, term.start) <= rule.hedging_window:
                        return True
                elif cue.start < term.end:
                    return True  # the cue is part of the trigger ("export ban proposal")
                elif _words_after(text, term.end, cue.start, rule.hedging_after) and clauses.same(
                    term, cue
                ):
                    return True  # "controls could be widened", "the ban is likely to"
    return False


# a verb's auxiliaries between a term and a hedge after it: "the ban is likely to be
# lifted" hedges as "the ban likely to be lifted" does
_AUXILIARY = frozenset({"is", "are", "was", "were", "be", "been", "also"})


def _words_after(text: str, left: int, right: int, most: int) -> bool:
    """True when at most `most` words stand between two offsets, auxiliaries
    (`_AUXILIARY`) aside."""
    gap = distance(text, left, right)
    if gap <= most:
        return True
    if gap > most + 3 or not text.isascii():
        return False  # more words than auxiliaries can make up for
    return sum(word.lower() not in _AUXILIARY for word in text[left:right].split()) <= most
