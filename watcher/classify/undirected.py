"""A signal none of whose words gives a direction: when its default is a fair reading.

A rule's default direction (tightening) applies when no cue of the rule names one. By
SIGNALS.md that default is right for a **new measure**: a control announced, imposed,
added to a list, taking effect from a date, a requirement to apply for licences, a ban,
a halt, a licence that expired or waits ("China announced export controls on gallium",
"未经许可不得出口", "permits for graphite from December 1"). An item that only names the
measure ("exports under the export-control regime", "出口管制物项", a licence regime
with partial approvals) says nothing of which way supply moves; the default is then a
guess, and SIGNALS.md wants an uncertain direction said as such, not sent as a firm
tightening. `undirected_doubt` tells the two apart from the words of the signal's
sentences: a restrictive act or an announcement (`reports_new_measure`, structural words,
not a rule's vocabulary) keeps the default firm; without one the signal carries the doubt.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from watcher.classify.direction import UNDIRECTED, Doubt
from watcher.classify.rules import Hit
from watcher.classify.text import Sentence
from watcher.domain.folding import fold
from watcher.domain.items import Direction

# a restrictive act, an announcement or a measure taking effect: the sentence reports a
# measure put in place or at work, so tightening (the default) is its direction. English
# is read word by word (a regex of these stems at every offset costs tens of µs a sentence)
_MEASURE_WORDS = frozenset(
    [
        "ban",
        "bans",
        "banned",
        "banning",
        "cut",
        "cuts",
        "must",
        "pending",
        "put",
        "puts",
        "putting",
        "new",
        "tighter",
        "latest",
        "starting",
        "effect",
        "effective",
        "add",
        "adds",
        "added",
        "adding",
        "lists",
        "listed",
        "listing",
        "deny",
        "denies",
        "denied",
        "place",
        "places",
        "placed",
        "placing",
    ]
)
_MEASURE_STEMS = (
    "prohibit", "restrict", "curb", "halt", "suspend", "stop", "ceas", "impos", "introduc",
    "requir", "tighten", "strict", "revok", "revoc", "expir", "limit", "block", "announc",
    "unveil", "adopt", "enact", "implement", "blacklist", "embargo", "withh", "delay",
    "refus", "reject", "freez", "froze", "seiz", "smuggl", "application", "wait", "stall",
    "slow", "backlog", "scrutin", "enforc", "maintain", "extend", "slap",
)  # fmt: skip
_MEASURE_PHRASES = re.compile(
    r"\b(?:crack\w* down|clamp\w* down|no longer|need(?:s|ed)? (?:to|a|an)"
    r"|appl(?:y|ies|ied|ying) for)\b"
)
_MEASURE_ZH = re.compile(
    r"禁|限制|限|暂停|停止|不得|不再|不能|管制|管控|收紧|加强|从严|严格|趋严|实施|施行|生效"
    r"|宣布|公告|发布|列入|纳入|清单|需|须|申请|审查|审批|核查|打击|走私|查获|延迟|推迟|拒"
    r"|放弃|指令|决定|自.{0,12}起|维持|延长"
)
_WORD = re.compile(r"[a-z]+")


def reports_new_measure(sentence: str) -> bool:
    """True when the (folded) sentence holds a restrictive act, an announcement or a
    measure taking effect ("announced", "banning", "from December 1", 不得, 实施)."""
    lowered = sentence.lower()
    for word in _WORD.findall(lowered):
        if word in _MEASURE_WORDS or word.startswith(_MEASURE_STEMS):
            return True
    if _MEASURE_PHRASES.search(lowered) is not None:
        return True
    return (
        not sentence.isascii() and _MEASURE_ZH.search(_MEASURE_NAME.sub(" ", sentence)) is not None
    )


# the measure's name, whose verb (管制: control) is no act: 出口管制 is "export controls"
_MEASURE_NAME = re.compile(r"出口(?:管制|管控)")


def undirected_doubt(
    hits: Sequence[Hit], default: Direction, text: str, sentences: Sequence[Sentence]
) -> Doubt | None:
    """Why a signal whose `hits` name no direction is uncertain, or None when its rule's
    `default` is a fair reading: the default is not tightening, or a hit's sentence of the
    item `text` reports a new measure (`reports_new_measure`)."""
    if default is not Direction.TIGHTENING or not hits:
        return None
    for hit in hits:
        sentence = sentences[hit.sentence]
        # folded here, not by the caller: few signals come this way
        if reports_new_measure(fold(text[sentence.start : sentence.end])):
            return None
    return Doubt(UNDIRECTED, hits[0].spans)
