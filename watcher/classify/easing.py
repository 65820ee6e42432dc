"""Evidence of easing anywhere in an item: a safeguard on a signal read as tightening.

SIGNALS.md: "an easing item is never sent at a tightening severity". The rules decide a
signal's direction from their own cues near the match and from the lead
(`direction`); an item whose news is easing but whose rules' words were not written for
it ("CATL is expected to soon resume production at the mine. CATL suspended operations
after a licence expired …") reads as tightening. This module looks for the easing
**event** itself, in words of any rule or none, written from SIGNALS.md's definition of
easing (controls lifted, suspended or relaxed; exemptions, general licences, licences
approved or granted; a late quota issued or raised; mines restarting, borders reopening,
held-back ore released; a strike over; a deadline extended) rather than from any rule:

- `easing_events(text, start, end)`: the easing events a (folded, lowercased) sentence
  states (label `EASING`: something that undoes a measure or a disruption) and its signs
  of easing (label `SIGN`: a quota issued or raised, licences obtained, flows rising,
  feedstock ample), less those it negates or defers ("not yet lifted", "has yet to
  resume", "no date to reopen", 尚未恢复: SIGNALS.md, negated easing is tightening),
  those a wish, request, plan, condition or possibility makes no news ("requested the
  government relax", "could lift", 须经批准), and grants of a restriction, a policy or a
  part of the requests ("approved a moratorium", 批准部分);
- `easing_guard(...)`: what that evidence does to a firm signal read as tightening.
  1. A lead hit denying an easing ("stops approving licences"), or a new measure in a
     lead hit's sentence (`undirected.reports_new_measure`) with no easing event or sign
     anywhere in the lead, is the rules' strongest evidence: the tightening stands.
  2. When the lead states an easing event in a sentence naming a concept the signal's
     hits matched on, and every hit lies after the lead, dates its event earlier
     (`dates_earlier`: "after", "had", "since", "on August 9", 此前) and opens no other
     story, the tightening is what that event undoes: the direction is easing (uncertain
     when a hit's sentence reports the tightening still going on, as `direction` does).
  3. Otherwise an easing event or sign in any sentence naming a concept of the rule
     makes the direction **uncertain**: capped at the easing severity, and the alert
     quotes the words (`direction.doubt_text`).
A word the rule itself read as a negated easing cue (`not_easing`: "no time frame for
the reopening") is no evidence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from watcher.classify.direction import EASING, LEAD_BODY, Doubt
from watcher.classify.matcher import Match
from watcher.classify.rules import Hit
from watcher.domain.items import Direction

# a measure, as the object of a verb that ends or pauses it ("suspends the export ban")
_MEASURE = (
    r"(?:bans?|controls?|restrictions?|curbs?|measures?|tariffs?|dut(?:y|ies)|levy|levies"
    r"|tax(?:es)?|quotas?|requirements?|moratori(?:um|a)|embargo(?:es)?|rules?|policy"
    r"|policies|announcement|prohibitions?|suspension|blockade|strike|halt|freeze|limits?)"
)
_DEFINITE = r"(?:(?:the|its|their|a|an|this|that|these|those)\s+)?"
_EN_EVENTS = (
    # the measure ended, paused or loosened
    r"lift(?:s|ed|ing)?|relax(?:es|ed|ing|ation)?|loosen(?:s|ed|ing)?",
    r"exempt(?:s|ed|ing|ions?)?|waiv(?:e|es|ed|ing|ers?)|unblock(?:s|ed|ing)?",
    r"(?:suspend(?:s|ed|ing)?|paus(?:e|es|ed|ing)|scrap(?:ped|ping)"
    r"|withdr(?:aw|aws|ew|awn|awing)|remov(?:e|es|ed|ing)|rescind(?:s|ed|ing)?"
    r"|repeal(?:s|ed|ing)?|abolish(?:es|ed|ing)?|end(?:s|ed|ing)"
    r")\s+" + _DEFINITE + r"(?:\S+\s+){0,3}?" + _MEASURE,
    r"(?:suspend|paus|defer|postpon)\w*\s+(?:the\s+)?(?:implementation|enforcement)",
    r"(?:suspension|removal|lifting|repeal|abolition|end)\s+of\s+"
    + _DEFINITE
    + r"(?:\S+\s+){0,3}?"
    + _MEASURE,
    r"(?:strike|blockade|protest|dispute)s?\s+(?:is\s+|was\s+|has\s+)?(?:\w+ly\s+)?"
    r"(?:over|ended|ends|lifted)",
    # a labour or community dispute settled
    r"(?:reach(?:es|ed|ing)?|sign(?:s|ed|ing)?|accept\w*|ratif\w*)\s+(?:\S+\s+){0,4}?"
    r"(?:agreement|deal|settlement"
    r"|accord|contract)",
    r"call(?:s|ed)?\s+off",
    # licences and permits coming through
    r"general\s+licen[cs]es?",
    r"extend(?:s|ed|ing)?\s+" + _DEFINITE + r"(?:\S+\s+){0,3}?(?:deadline|grace\s+period"
    r"|exemptions?|waivers?|permits?|licen[cs]es?)",
    r"clear(?:s|ed|ing)?\s+customs",
    # supply coming back
    r"resum(?:e|es|ed|ing|ption)|reopen(?:s|ed|ing)?|re-?start(?:s|ed|ing)?",
    # (not "reinstated": a measure put back is a tightening, as the rules read it)
    r"restor(?:e|es|ed|ing)",
    r"releas(?:e|es|ed|ing)\s+(?:\S+\s+){0,3}?(?:stocks?|stockpiles?|reserves?|ore|ores"
    r"|shipments?|cargo(?:e?s)?|concentrates?|inventor(?:y|ies)|containers?|trucks?)",
    r"(?:ore|shipments?|cargo(?:e?s)?|concentrates?|containers?|trucks?)\s+(?:were|was|have"
    r"\s+been|has\s+been)\s+released",
    r"(?:flow\w*|ship\w*|export\w*|deliver\w*|mov(?:e|es|ed|ing)|cross\w*)\s+(?:\S+\s+){0,2}?"
    r"again",
    r"ramp(?:s|ed|ing)?\s+(?:back\s+)?up|(?:back|return(?:s|ed|ing)?)\s+to\s+(?:normal|full"
    r"|production|operations?|work)",
)
# signs of easing rather than events that undo a tightening: a quota issued or raised,
# licences obtained, flows rising, feedstock ample (SIGNALS.md's easing column)
_EN_SIGNS = (
    r"eas(?:e|es|ed|ing)",
    r"(?:secur|obtain|receiv|gain|win|won)\w*\s+(?:\S+\s+){0,3}?(?:licen[cs]es?"
    r"|permits?|approvals?|authori[sz]ations?|quotas?|clearance)",
    r"(?:issu|allocat|grant|hik|boost)\w*\s+(?:\S+\s+){0,6}?(?:licen[cs]es|permits|quotas?)",
    r"quotas?\s+(?:\S+\s+){0,3}?(?:ris(?:e|es|ing)|rose|rais\w+|increas\w+|boost\w*|hike\w*"
    r")",
    r"(?:licen[cs]es?|permits?|quotas?)\s+(?:were\s+|was\s+|have\s+been\s+|has\s+been\s+)?"
    r"(?:issued|renewed|raised|increased)",
    r"rais(?:e|es|ed|ing)\s+" + _DEFINITE + r"(?:\S+\s+){0,4}?quotas?",
    r"(?:exports?|imports?|shipments?|supply|supplies|output|production|deliveries|flows?)"
    r"\s+(?:(?!(?:bans?|controls?|restrictions?|curbs?|dut(?:y|ies)|tax\w*|tariffs?|licen\w*"
    r"|permits?|quotas?)\b)\S+\s+){0,3}?(?:recover\w*|rebound\w*|ris(?:e|es|ing)|rose|jump\w*|surg\w*"
    r"|climb\w*|increas\w*|pick\w*\s+up)",
    r"recover(?:s|ed|ing)?|rebound(?:s|ed|ing)?",
    r"(?:begin|began|begun|start)\w*\s+(?:to\s+)?(?:flow\w*|export\w*|ship\w*|deliver\w*)",
    # scrap and feedstock ample (scrap_shortage easing)
    r"(?:ample|abundant|plentiful|ampler)\s+(?:\S+\s+){0,2}?(?:supply"
    r"|supplies|material|availability|flows?)|oversuppl\w*|supply\s+(?:\S+\s+)?outpac\w*",
    r"(?:supply|supplies|availability|material|feed(?:stock)?)\s+(?:is|are|was|were|remains?"
    r"|looks?|seems?)\s+(?:\w+\s+)?(?:ample|abundant|plentiful)",
)
_EN = re.compile(r"\b(?:" + "|".join(_EN_EVENTS) + r")\b")
_EN_SIGN = re.compile(r"\b(?:" + "|".join(_EN_SIGNS) + r")\b")
# events that ease only when what they grant is no restriction: "approved export
# licences", not "approved a moratorium on exporting"
_EN_GRANTS = re.compile(
    r"\b(?:approv(?:e|es|ed|ing)|grant(?:s|ed|ing)?|allow(?:s|ed|ing)?|permitted)\b"
)
_RESTRICTION_AFTER = re.compile(
    r"^\s*(?:\S+\s+){0,4}?\W*(?:bans?|moratori(?:um|a)|controls?|restrictions?|curbs?"
    r"|embargo(?:es)?|prohibitions?|tariffs?|dut(?:y|ies)|levy|levies|tax(?:es)?|limits?"
    # a policy, plan or law approved says nothing of supply by itself
    r"|polic(?:y|ies)|plans?|laws?|regulations?|rules?|bills?|decrees?|measures?"
    r"|amendments?)\b"
)
# a grant in part: "approved the requests of about 120 companies out of 723"
# (SIGNALS.md: controls at work, not licences approved in volume), "approved some", 批准部分
_PARTIAL_AFTER = re.compile(
    r"^\s*(?:(?:\S+\s+){0,10}?out\s+of\b|(?:\S+\s+)?(?:some|a\s+few|a\s+handful|part"
    r"|a\s+fraction|a\s+small\s+number|a\s+limited\s+number|several)\b)"
)
_ZH_PARTIAL_AFTER = re.compile(r"[了的]?(?:部分|少量|个别|少数|一些|小部分|其中)")
# a sentence dating its event before the news: the tightening a lead easing undoes
# ("CATL suspended operations … after a licence expired on August 9", 此前…停产)
_EARLIER = re.compile(
    r"\b(?:had|since|after|earlier|previously|ago|last\s+(?:week|month|year)"
    r"|(?:in|on|from|since|until)\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*)\b"
    r"|此前|之前|早前|先前|曾|去年|上月|上周|年初|\d+月"
)
_ZH = re.compile(
    r"暂停实施|停止实施|暂缓实施|取消|放宽|放松|松绑|豁免|批准|获批|核准|恢复|复产|复工"
    r"|解除|解禁|放开|重启|重新开放|重新开通|放行|通关|宽限|结束罢工|罢工结束"
    r"|(?:撤销|废止|废除)[^，。；,;]{0,6}(?:禁令|限制|管制|措施|规定|公告)"
    r"|延长[^，。；,;]{0,6}(?:期限|宽限期|豁免)"
)
_ZH_SIGN = re.compile(
    r"发放|颁发|回升|反弹|获准|充足|充裕|宽松|过剩"
    r"|获得[^，。；,;]{0,10}(?:许可|配额|批准|牌照|执照)"
    r"|(?:下发|下达|上调|提高|增加)[^，。；,;]{0,16}(?:指标|配额|限额)"
    r"|(?:指标|配额|限额)[^。；;]{0,30}(?:下达|增长|增加|上调|提高)"
)
SIGN = "easing_sign"  # the label of a sign of easing (`_EN_SIGNS`), not an event

# Every event or sign above holds one of these words. The engine adds them to its term
# matcher under `ANCHOR` (matcher term syntax, `*` an ending): its one pass over the text
# tells which sentences may hold evidence of easing, and only those are read with the
# expressions above, which cost a scan of their own.
ANCHOR = "easing:anchor"
ANCHOR_TERMS = (
    *("lift*", "relax*", "loosen*", "exempt*", "waiv*", "unblock*", "suspen*", "paus*"),
    *("scrapped", "scrapping", "withdraw*", "withdrew", "remov*", "rescind*"),
    *("repeal*", "abolish*", "abolition", "ends", "ended", "ending", "end of"),
    *("defer*", "postpon*", "strike*", "blockade*", "protest*", "dispute*", "reach"),
    *("reached", "reaches", "reaching", "sign", "signs", "signed", "signing", "accept*"),
    *("ratif*", "call off", "calls off", "called off", "general licen*", "extend*"),
    *("clear customs", "clears customs", "cleared customs", "resum*", "reopen*"),
    *("restart*", "re start*", "restor*", "releas*", "again", "ramp*"),
    *("resumption", "resumptions", "relaxation", "relaxations"),
    *("back to", "return to", "returns to", "returned to", "returning to", "ease"),
    *("eases", "eased", "easing", "secur*", "obtain*", "receiv*", "gain*", "win", "won"),
    *("issu*", "allocat*", "grant*", "hike*", "hiking", "boost*", "renew*", "rais*"),
    *("increas*", "recover*", "rebound*", "rise", "rises", "rising", "rose", "risen"),
    *("jump*", "surg*", "climb*", "pick up", "picks up", "picked up", "picking up"),
    *("begin*", "began", "begun", "start*", "ample", "ampler", "abundant", "plentiful"),
    *("oversuppl*", "outpac*", "approv*", "allow*", "permitted"),
    *("暂停实施", "停止实施", "暂缓实施", "取消", "放宽", "放松", "松绑", "豁免", "批准"),
    *("获批", "核准", "恢复", "复产", "复工", "解除", "解禁", "放开", "重启", "重新开"),
    *("放行", "通关", "宽限", "罢工", "撤销", "废止", "废除", "延长", "发放", "颁发"),
    *("回升", "反弹", "获准", "充足", "充裕", "宽松", "过剩", "获得", "指标", "配额"),
    "限额",
)
# a negation or deferral just before the event: "not yet lifted", "has yet to resume",
# "no date to reopen", "until controls are eased", 尚未恢复, 不再批准
_EN_DENIED = re.compile(
    r"\b(?:not|no|never|nor|yet\s+to|without|until|unless|before|once|if|whether|when"
    r"|pending|refus\w*|fail\w*\s+to|unable\s+to|cannot|instead\s+of|rather\s+than|only"
    r"|await\w*|delay\w*|postpon\w*|rall(?:y|ies|ied)|protest\w*)\b"
    r"|n't\b"
)
# a hedge just before the event makes it a possibility, not news ("could lift")
_EN_HEDGED = re.compile(
    r"\b(?:could|may|might|would|should|expect\w*|consider\w*|mull\w*|hop\w*|seek\w*"
    r"|sought|urg\w*|ask\w*|request\w*|call\w*\s+for|wants?|wanted|lobb\w*|plea\w*"
    r"|demand\w*|aim\w*|propos\w*|negotiat\w*|talks?|push\w*\s+for|appl\w*\s+for"
    r"|likely|possibly|potentially)\b"
)
_EN_CLAUSE = re.compile(r"[,;:]\s|\bbut\b|\bwhile\b|\bwhereas\b")
_ZH_DENIED = re.compile(r"未|没|不|无|尚|待|直至|直到")
# a wish, request, plan or possibility anywhere before the event in its clause
_ZH_HEDGED = re.compile(
    r"何时|能否|是否|或将|或许|可能|有望|预计|预期|拟|计划|要求|呼吁|希望|寻求|请求|申请|争取|谈判"
    r"|若|如果|一旦|考虑|建议|敦促"
    # a condition: 须经批准 (approval required), 验收合格方可恢复生产
    r"|须|需|经|方可|才能|才可|凭"
    # a purpose: 以便解除管制 (so as to lift the controls)
    r"|以便|为了|旨在|以求|用以|以$"
)
_ZH_CLAUSE = re.compile(r"[，,；;：:。！？!?]")
DENIAL_WORDS = 6  # words before an English event a negation or deferral reaches
DENIAL_CHARS = 4  # characters before a Chinese event a negation reaches
HEDGE_CHARS = 16  # characters before a Chinese event, in its clause, a hedge reaches


REACH = 90  # characters a Chinese event or sign may run before or after its `ANCHOR` word
LOOKBACK = 6  # words an English event or sign may start before its `ANCHOR` word
_WORD_START = re.compile(r"\b\w")
# the first words of the events and signs whose `ANCHOR` word comes last ("shipments
# have been released", "exports rose", "supply is ample"): only a word starting so
# before an anchor can start one
_LEADING = (
    *("ore", "shipment", "cargo", "concentrate", "container", "truck", "flow", "ship"),
    *("export", "import", "deliver", "mov", "cross", "quota", "licen", "permit", "supp"),
    *("output", "production", "availab", "material", "feed"),
)
# a word starting with one of `_LEADING`: most anchors have none before them, and then
# the word starts before them need not be found
_LEADING_WORD = re.compile(r"\b(?:" + "|".join(_LEADING) + r")")
_LONGEST_LEADING = max(map(len, _LEADING))


def easing_events(
    text: str, start: int, end: int, anchors: Sequence[tuple[int, int]] | None = None
) -> list[Match]:
    """The easing events the sentence `text[start:end]` (folded and lowercased) states as
    fact: neither negated or deferred nor hedged just before (see the module's docstring).
    `anchors`: where the sentence holds `ANCHOR` words, when known. Every event holds
    one, so only text near them is read: an English event starts at an anchor or at one
    of the `LOOKBACK` words before it ("shipments have been released"), a Chinese one
    lies within `REACH` of it."""
    if anchors is None:
        return _events_in(text, start, end, start, end) + _zh_events_in(text, start, start, end)
    if text.isascii() or text[start:end].isascii():
        return _events_at(text, start, end, anchors)
    latin = [a for a in anchors if text[a[0] : a[1]].isascii()]
    events = _events_at(text, start, end, latin) if latin else []
    low, high = -1, -1
    for left, right in sorted(a for a in anchors if a not in latin):
        left, right = max(start, left - REACH), min(end, right + REACH)
        if left > high:
            if high > low:
                events += _zh_events_in(text, start, low, high)
            low = left
        high = max(high, right)
    if high > low:
        events += _zh_events_in(text, start, low, high)
    return events


def _events_at(text: str, start: int, end: int, anchors: Sequence[tuple[int, int]]) -> list[Match]:
    """`easing_events` of an English sentence starting at an anchor or a few words before
    one: what `_events_in` finds there, at the cost of a few matches instead of a scan."""
    starts = set()
    for left, _ in anchors:
        starts.add(left)
        leading = _LEADING_WORD.search(text, max(start, left - 80), left + _LONGEST_LEADING)
        if leading is None or leading.start() >= left:
            continue
        # the word starts from the first leading word on (`\b` reads the character before
        # the search's start, so these are the word starts a search from further back
        # finds there; those before it start no leading word)
        before = [m.start() for m in _WORD_START.finditer(text, leading.start(), left)]
        starts.update(at for at in before[-LOOKBACK:] if text.startswith(_LEADING, at))
    ordered = sorted(starts) if len(starts) > 1 else list(starts)
    events: list[Match] = []
    for pattern, label in ((_EN, EASING), (_EN_SIGN, SIGN)):
        reached = -1
        for at in ordered:
            if at < reached:
                continue
            m = pattern.match(text, at, end)
            if m is not None:
                reached = m.end()
                if not _denied(text, start, at):
                    events.append(Match(at, reached, label))
    for at in ordered:
        m = _EN_GRANTS.match(text, at, end)
        if m is not None and _grants_easing(text, start, end, m):
            events.append(Match(at, m.end(), EASING))
    return events


def _grants_easing(text: str, start: int, end: int, match: re.Match[str]) -> bool:
    """True when a grant (approve, grant, allow) eases: it grants no restriction, policy
    or part of the requests, and is neither negated nor hedged."""
    after = text[match.end() : end]
    return (
        _RESTRICTION_AFTER.match(after) is None
        and _PARTIAL_AFTER.match(after) is None
        and not _denied(text, start, match.start())
    )


def _events_in(text: str, start: int, end: int, low: int, high: int) -> list[Match]:
    """The English `easing_events` of the sentence `text[start:end]` in `text[low:high]`."""
    events = [
        Match(m.start(), m.end(), label)
        for pattern, label in ((_EN, EASING), (_EN_SIGN, SIGN))
        for m in pattern.finditer(text, low, high)
        if not _denied(text, start, m.start())
    ]
    for match in _EN_GRANTS.finditer(text, low, high):
        if _grants_easing(text, start, end, match):
            events.append(Match(match.start(), match.end(), EASING))
    return events


def _zh_events_in(text: str, start: int, low: int, high: int) -> list[Match]:
    """The Chinese `easing_events` of the sentence starting at `start` in `text[low:high]`."""
    events: list[Match] = []
    if text.isascii():
        return events
    for pattern, label in ((_ZH, EASING), (_ZH_SIGN, SIGN)):
        for match in pattern.finditer(text, low, high):
            at = match.start()
            clause = _ZH_CLAUSE.split(text[max(start, at - HEDGE_CHARS) : at])[-1]
            if (
                _ZH_DENIED.search(clause[-DENIAL_CHARS:]) is None
                and not _ZH_HEDGED.search(clause)
                and _ZH_PARTIAL_AFTER.match(text, match.end()) is None
            ):
                events.append(Match(at, match.end(), label))
    return events


def _denied(text: str, start: int, at: int) -> bool:
    """True when a negation or deferral stands in the words just before `at`, or a hedge
    (a wish, request, plan or possibility) in its clause before it ("has requested the
    government relax its export ban and allow …")."""
    words = text[max(start, at - 60) : at].split()
    if _EN_DENIED.search(" ".join(words[-DENIAL_WORDS:])) is not None:
        return True
    clause = _EN_CLAUSE.split(text[max(start, at - 120) : at])[-1]
    return _EN_HEDGED.search(clause) is not None


def dates_earlier(text: str, start: int, end: int) -> bool:
    """True when the (lowercased) sentence dates its event before the item's news:
    "after", "since", "had", "last year", "on August 9", 此前, 去年, 10月."""
    return _EARLIER.search(text, start, end) is not None


def _cues(hit: Hit) -> list[Match]:
    return hit.spans[len(hit.spans) - hit.cues :] if hit.cues else []


def _unread(
    events: Callable[[int], list[Match]], hits: Sequence[Hit]
) -> Callable[[int], list[Match]]:
    """`events` less those overlapping a direction cue of a tightening hit."""

    read: list[Match] | None = None

    def unread(index: int) -> list[Match]:
        nonlocal read
        found = events(index)
        if not found:
            return found
        if read is None:
            read = [c for h in hits if h.direction is Direction.TIGHTENING for c in _cues(h)]
        if not read:
            return found
        return [m for m in found if not any(m.start < c.end and c.start < m.end for c in read)]

    return unread


def easing_guard(
    hits: Sequence[Hit],
    lead: int,
    anchored: Sequence[tuple[int, set[str]]],
    events: Callable[[int], list[Match]],
    earlier: Callable[[int], bool],
    new_measure: Callable[[int], bool],
    concepts: frozenset[str] = frozenset(),
    *,
    ongoing: Callable[[int], bool],
    new_story: Callable[[int], bool],
) -> tuple[Direction, Doubt | None] | None:
    """What evidence of easing does to a signal read as tightening from its firm `hits`
    (see the module's docstring): (easing, doubt or None) when a lead easing event of
    the signal's concept is its news, (tightening, doubt) when easing evidence of its
    concept makes the direction uncertain, None when the tightening stands. `lead` is
    `lead_end(...)`; `anchored` the (index, concepts) of the sentences holding an `ANCHOR`
    word; `events(i)` the easing events of sentence i (`easing_events`); `earlier(i)`
    whether it dates its event before the news (`dates_earlier`); `new_measure(i)` whether
    it reports a new measure (`undirected.reports_new_measure`); `concepts` the rule's
    match concepts; `ongoing(i)` and `new_story(i)` as in `direction`."""
    # the concepts the hits matched on, less their direction cues: what the signal names;
    # only a sentence holding an `ANCHOR` word and naming one of them or of the rule's
    # concepts can hold the evidence: without one the tightening stands
    named = {span.label for h in hits for span in h.spans[: len(h.spans) - h.cues]}
    candidates = [
        index
        for index, held in anchored
        if not (concepts.isdisjoint(held) and named.isdisjoint(held))
    ]
    if not candidates:
        return None
    for h in hits:
        if h.refuted and h.sentence < lead:
            return None  # a lead denying an easing ("stops approving licences") is the news
    # the first sentence naming a concept of the rule that holds evidence of easing; an
    # easing word the rule read as a tightening cue it negates ("no time frame has been
    # given for the reopening", `not_easing`) is no evidence
    events = _unread(events, hits)
    for index in candidates:
        evidence = events(index)
        if evidence:
            break
    else:
        return None
    # the strongest evidence: a tightening reported in the lead, no easing there (only a
    # sentence holding an `ANCHOR` word can hold evidence; most hold none). Evidence in a
    # lead sentence is easing there; else the new measure is looked for first: it is
    # cheaper than reading the lead for easing.
    if (
        index >= lead
        and any(
            h.sentence < lead and h.direction is not Direction.EASING and new_measure(h.sentence)
            for h in hits
        )
        and not any(i < lead and events(i) for i, _ in anchored)
    ):
        return None
    lead_tied = [
        m
        for i, held in anchored
        if i < lead and not named.isdisjoint(held)
        for m in events(i)
        if m.label == EASING
    ]
    if lead_tied and all(
        h.sentence >= lead and earlier(h.sentence) and not new_story(h.sentence) for h in hits
    ):
        # the lead's easing event is the news; the body's tightening what it undoes
        for hit in hits:
            if ongoing(hit.sentence):
                return Direction.EASING, Doubt(LEAD_BODY, hit.spans)
        return Direction.EASING, None
    return Direction.TIGHTENING, Doubt(EASING, evidence)
