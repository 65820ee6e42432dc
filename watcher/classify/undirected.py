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
sentences: a restrictive act or an announcement (`NEW_MEASURE`, structural words, not a
rule's vocabulary) keeps the default firm; without one the signal carries the doubt.
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
# measure put in place or at work, so tightening (the default) is its direction
NEW_MEASURE = re.compile(
    r"\b(?i:bans?|banned|banning|prohibit\w*|restrict\w*|curb\w*|halt\w*|suspend\w*"
    r"|stop\w*|ceas\w*|impos\w*|introduc\w*|requir\w*|tighten\w*|strict\w*|revok\w*"
    r"|revoc\w*|expir\w*|limit\w*|block\w*|announc\w*|unveil\w*|adopt\w*|enact\w*"
    r"|implement\w*|add(?:s|ed|ing)?|list(?:s|ed|ing)|blacklist\w*|embargo\w*|cut|cuts"
    r"|withh[oe]ld\w*|delay\w*|refus\w*|reject\w*|den(?:y|ies|ied)|freez\w*|froze\w*"
    r"|effect(?:ive)?|starting|seiz\w*|smuggl\w*|crack\w* down|clamp\w* down|no longer"
    r"|must|need(?:s|ed)? (?:to|a|an)|appl(?:y|ies|ied|ying) for|application\w*|wait\w*"
    r"|pending|stall\w*|slow\w*|backlog\w*|scrutin\w*|enforc\w*|maintain\w*|extend\w*"
    r"|put|puts|putting|plac(?:e|es|ed|ing)|slap\w*|new|tighter|stricter|latest)\b"
    r"|禁|限制|限|暂停|停止|不得|不再|不能|管制|管控|收紧|加强|从严|严格|趋严|实施|施行|生效"
    r"|宣布|公告|发布|列入|纳入|清单|需|须|申请|审查|审批|核查|打击|走私|查获|延迟|推迟|拒"
    r"|放弃|指令|决定|自.{0,12}起|维持|延长"
)

# the measure's name, whose verb (管制: control) is no act: 出口管制 is "export controls"
_MEASURE_NAME = re.compile(r"出口(?:管制|管控)")


def undirected_doubt(
    hits: Sequence[Hit], default: Direction, text: str, sentences: Sequence[Sentence]
) -> Doubt | None:
    """Why a signal whose `hits` name no direction is uncertain, or None when its rule's
    `default` is a fair reading: the default is not tightening, or a hit's sentence of the
    item `text` reports a new measure (`NEW_MEASURE`)."""
    if default is not Direction.TIGHTENING or not hits:
        return None
    for hit in hits:
        sentence = sentences[hit.sentence]
        # folded here, not by the caller: few signals come this way
        words = _MEASURE_NAME.sub(" ", fold(text[sentence.start : sentence.end]))
        if NEW_MEASURE.search(words) is not None:
            return None
    return Doubt(UNDIRECTED, hits[0].spans)
