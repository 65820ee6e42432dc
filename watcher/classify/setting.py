"""Setting, not news: a control or a quota named only below a lead that reports a market.

SIGNALS.md: background is "an earlier event named only as context ('since controls took
effect in April, prices have ...')". An item whose lead (its headline and first
sentence, `direction.lead_end`) reports prices or a company's results ("稀土類價格的上漲
依舊沒有緩和的跡象", "长江综合钨粉均价报630000元/吨", "北方稀土发布2023年半年度业绩
预减公告") is a market report: a control or a quota that its body alone names is what
moved the market, the setting of its news, not news (the engine drops that rule).

A market word counts with a figure or a move in the lead ("prices surged", "均价报
630000元/吨"); "to maximise its revenue" reports no market. The engine keeps the rule
when the lead names the rule's measure ("prices hit a record as traders weighed the
quota cut": the report is about it), when any rule's news stands in the lead (the lead
is supply news, not a market report), when a body sentence eases the measure (a change
to it is an event: "China suspended the controls") or states its current effect (the
rule's `effects` cues: "export controls cut shipments by half", news per SIGNALS.md),
and for rules whose measure the rules never name as a setting (those with
no `frame` cues: a supply state such as scrap scarce or a mine shut, which a market
report states as news).
"""

from __future__ import annotations

import re

from watcher.classify.text import Sentence

# a price, a quotation or a company's results named in the lead: English words (of the
# lower-cased lead), English phrases and Chinese words (substrings). Sets and substring
# tests, not one regex: a regex of many words tried at every position of the lead cost a
# tenth of the whole classification of a 1 KB item.
_MARKET_WORDS = frozenset((
    "price", "prices", "priced", "pricing", "quotation", "quotations", "quoted", "futures",
    "profit", "profits", "earnings", "revenue", "revenues",
))  # fmt: skip
_MARKET_PHRASES = ("spot market", "net income", "half-year results", "full-year results",
                   "half year results", "full year results", "quarterly results",
                   "share price", "shares rose", "shares fell", "shares jumped",
                   "shares slumped", "shares surged", "shares dropped", "shares climbed",
                   "shares tumbled", "价格", "價格", "均价", "均價", "报价", "報價", "价位",
                   "價位", "涨价", "漲價", "期货", "期貨", "现货", "現貨", "利润", "利潤",
                   "净利", "淨利", "业绩", "業績", "营收", "營收", "股价", "股價")  # fmt: skip
_MARKET_PHRASES_EN = tuple(p for p in _MARKET_PHRASES if p.isascii())
# a figure or a move that makes a market word a report ("revenue" alone is no market)
_MOVE_WORDS = frozenset((
    "rose", "rise", "rises", "rising", "fell", "fall", "falls", "falling", "surge", "surged",
    "surges", "surging", "jump", "jumped", "jumps", "jumping", "climb", "climbed", "climbs",
    "climbing", "slump", "slumped", "slumps", "plunge", "plunged", "plunges", "tumble",
    "tumbled", "tumbles", "soar", "soared", "soars", "soaring", "rally", "rallied", "rallies",
    "drop", "dropped", "drops", "dropping", "crash", "crashed", "high", "highs", "low",
    "lows", "record",
))  # fmt: skip
_MOVE_PHRASES = ("上涨", "上漲", "下跌", "下滑", "上行", "下行", "走高", "走低", "走强", "走強",
                 "走弱", "新高", "新低", "回升", "回落", "涨幅", "漲幅", "跌幅", "暴涨", "暴漲",
                 "暴跌", "大涨", "大漲", "大跌", "飙升", "飆升", "攀升", "预减", "預減", "预增",
                 "預增")  # fmt: skip
_WORD = re.compile(r"[a-z]+")
_DIGIT = re.compile(r"\d")


def market_lead(text: str, sentences: list[Sentence], lead: int) -> bool:
    """True when the item's lead (`sentences[:lead]`) names a price or a company's
    results with a figure or a move: a market report, whose body's measures are its
    setting unless the lead names them too (the engine checks that against the rule's
    measure terms)."""
    if not sentences:
        return False
    head = text[: sentences[min(lead, len(sentences)) - 1].end].lower()
    words = frozenset(_WORD.findall(head))
    chinese = not head.isascii()
    if _MARKET_WORDS.isdisjoint(words) and not any(
        p in head for p in (_MARKET_PHRASES if chinese else _MARKET_PHRASES_EN)
    ):
        return False
    return (
        _DIGIT.search(head) is not None
        or not _MOVE_WORDS.isdisjoint(words)
        or (chinese and any(p in head for p in _MOVE_PHRASES))
    )
