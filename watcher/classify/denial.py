"""Item-level denial: a disruption the item itself says did not cut supply.

SIGNALS.md counts a disruption only when the item states it, and "a normal state is no
news". An item that reports a strike, a lockdown or a closure order and says elsewhere
that the operation is unaffected ("production was not affected", "the miners are still
operational", "mining will continue to operate", 产量没有受到显著影响, 继续运作, 正常生产)
denies the disruption: no ore supply is lost. A sentence-level negation (the rules'
`negation` cues) sees only its own sentence; this looks at the whole item.

The denial must speak of operations or output (a verb or noun of running, producing or
mining next to the normal state): "prices were unaffected" or "demand continues" deny
nothing about supply. It is not a denial when it is itself negated or doubted ("could
not continue normally", 无法正常生产) or when it speaks of the past as an earlier state
("had been operating normally until …", 此前正常生产).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from watcher.classify.text import Sentence

# the running of a unit, named beside its normal state (within a few words)
_EN_DENIAL = re.compile(
    r"\b(?i:"
    # "(production|operations|output|mining|supply) (was|were|has been|is) not
    # (materially|significantly) affected"; "no impact on production"
    r"(?:production|operations?|output|mining|supply|supplies|shipments|mines?|plants?)"
    r"(?:\s+[\w'-]+){0,4}?\s+(?:(?:was|were|is|are|has|have|had|remains?|remained)\s+)?"
    r"(?:been\s+)?(?:not|n't|largely|so far)?\s*(?:been\s+)?(?:materially\s+|significantly\s+"
    r"|seriously\s+)?(?:unaffected|not\s+(?:been\s+)?(?:materially\s+|significantly\s+)?"
    r"(?:affected|impacted|disrupted))"
    r"|(?:no|without)\s+(?:any\s+)?(?:material\s+|significant\s+|major\s+)?(?:impact|effect"
    r"|disruption|interruption)s?\s+(?:on|to)\s+(?:its\s+|the\s+|our\s+)?(?:production|operations?"
    r"|output|mining|supply|supplies|shipments)"
    # "(are|remain) still operational", "continue(s) to operate", "operating as normal"
    r"|(?:still|remains?|remained|stays?|stayed)\s+(?:fully\s+)?(?:operational|in\s+operation"
    r"|open\s+for\s+business)"
    r"|continu\w*\s+(?:to\s+)?(?:operat\w*|produc\w*|run\w*|work\w*)\s+(?:as\s+)?"
    r"(?:normal(?:ly)?|as\s+usual)"
    r"|(?:operat\w*|produc\w*|running|work\w*|function\w*)\s+(?:\w+\s+){0,3}?"
    r"(?:normally|as\s+normal|as\s+usual)\b"
    r"|(?:continu\w*\s+to\s+operate|continue\s+operating|allowed\s+to\s+(?:continue|operate)"
    r"|offset\s+the\s+(?:impact|effect)))"
)
_ZH_DENIAL = re.compile(
    r"(?:产量|產量|生产|生產|运营|運營|作业|作業|开采|開採|采矿|採礦|供应|供應|出货|出貨)"
    r"(?:[^，,。；]{0,6}?)(?:未受|没有受到|沒有受到|未受到|不受|并未受到|並未受到)(?:[^，,。；]{0,4}?)影[响響]"
    r"|(?:未受|没有受到|沒有受到|未受到|不受)(?:[^，,。；]{0,6}?)影[响響]"
    r"|(?<!恢复)(?<!恢復)(?<!回归)(?<!回歸)正常(?:生产|生產|运营|運營|运作|運作|运转|運轉|作业|作業|开采|開採)"
    r"|(?:生产|生產|运营|運營|运转|運轉)(?:一切)?正常"
    r"|(?:继续|繼續|照常)(?:运作|運作|生产|生產|运营|運營|作业|作業|开采|開採|进行|進行)"
    r"|抵消了?[^，,。；]{0,12}?影[响響]"
)
# what makes a denial no denial: negated, doubted or an earlier state
_UNDONE = re.compile(
    r"\b(?i:could\s*n[o']t|cannot|can't|unable|no\s+longer|had\s+been|until|unless|if|whether"
    r"|may|might|would|expected|hope[sd]?)\b|无法|無法|不能|难以|難以|此前|之前|如果|若|是否|能否|"
    r"恐|或将|或將|未能"
)
_BEFORE = 24  # characters before a denial searched for what undoes it


# a word every English (Chinese) denial holds: the regexes run only in a window around
# one (most items hold none, and a regex tried at every position of a long item costs
# more than the rest of the engine's work on it)
_EN_HINTS = ("affected", "impact", "disrupt", "interruption", "effect", "operational",
             "in operation", "open for business", "normally", "as normal", "as usual",
             "to operate", "continue operating", "continues operating", "allowed to",
             "offset the")  # fmt: skip
_ZH_HINTS = ("影响", "影響", "正常", "继续", "繼續", "照常")
_BEFORE_HINT = 100  # characters: a subject and four words before "was not affected"
_AFTER_HINT = 60


def _windows(haystack: str, hints: tuple[str, ...]) -> list[tuple[int, int]]:
    """The stretches of `haystack` around each occurrence of a hint, merged, in order."""
    spans = []
    for hint in hints:
        at = haystack.find(hint)
        while at >= 0:
            spans.append((max(0, at - _BEFORE_HINT), at + len(hint) + _AFTER_HINT))
            at = haystack.find(hint, at + 1)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def denials(text: str) -> list[tuple[int, int]]:
    """The spans of the item's statements that an operation runs normally or was not
    hit (see the module docstring), less those negated, doubted or of an earlier state."""
    found: list[tuple[int, int]] = []
    lowered = text.lower()
    if len(lowered) != len(text):
        lowered = text  # a rare character whose lower case is longer: offsets must hold
    searches = [(_EN_DENIAL, window) for window in _windows(lowered, _EN_HINTS)]
    if not text.isascii():
        searches += [(_ZH_DENIAL, window) for window in _windows(text, _ZH_HINTS)]
    for pattern, (start, end) in searches:
        for match in pattern.finditer(text, start, min(end, len(text))):
            head = text.rfind(".", 0, match.start())
            head = max(head, text.rfind("。", 0, match.start()), match.start() - _BEFORE)
            if _UNDONE.search(text, head + 1, match.end()) is None:
                found.append((match.start(), match.end()))
    return found


# an item that tells units apart ("other areas of the project continue to operate as
# usual", "除了云湘矿冶之外已全部停产"): a denial of one unit leaves the others' disruption
_OTHERS = re.compile(
    r"\b(?i:(?:other|remaining|rest\s+of\s+the)\s+(?:\w+\s+)?(?:areas?|mines?|sites?|pits?"
    r"|operations|units?|plants?|projects?|companies|producers|smelters|parts|regions?"
    r"|provinces?|deposits?|facilities|assets)|except|apart\s+from|besides)\b"
    r"|(?:其他|其它|其余|其餘|部分)[^，,。；]{0,4}?(?:矿|礦|企业|企業|工厂|工廠|冶炼厂|冶煉廠|地区|地區"
    r"|项目|項目|产区|產區|公司)|除了|除[^，,。；]{1,12}[外以]"
)
# the types whose disruption an item-level denial undoes (SIGNALS.md: a mine, a plant or a
# border that keeps running is no disruption of primary feedstock)
DENIABLE = frozenset({"ore_supply_disruption"})


def is_denied(text: str, sentences: Sequence[Sentence], hit_sentences: Iterable[int]) -> bool:
    """True when the item says somewhere that an operation is unaffected or running
    normally (see `denials`) and neither that statement nor the sentences of the hits
    (`hit_sentences`, indices into `sentences`) tell one unit from others: a disruption
    the item reports then cut no supply (SIGNALS.md: no disruption stated)."""
    found = denials(text)
    if not found:
        return False
    for start, end in found:
        head = max(text.rfind(mark, 0, start) for mark in (".", "。", "\n"))
        if _OTHERS.search(text, head + 1, end) is not None:
            return False
    return not any(
        _OTHERS.search(text, sentences[i].start, sentences[i].end) is not None
        for i in hit_sentences
    )
