"""Background: sentences that recount an event dated well before the item.

SIGNALS.md: an earlier event named only as context is no news, while a *current effect*
of an earlier event is ("export controls cut magnet output this month"). A sentence is
dated background when it names a year at least `BACKGROUND_YEARS` before the item's
year, names no recent year, and says nothing of the present ("now", "still", "this
month", "since", 目前, 仍, 至今). A year in an "after …" phrase that follows a present
perfect dates the cause of the news, not the news ("has resumed production after a
landslide halted it in 2010"). The
item's year is its publication date's, or, for an
undated item, the latest year it names (an undated item that names one old year only is
read as news: the classifier cannot tell). Whatever the item's date, a sentence whose time
is a bare year at its head ("In 2010, China …", "2014年，…") with no later year, nothing of
the present and no plan recounts an earlier event (`opens_with_bare_year`): news is dated
by the day, week or month. A sentence that opens by setting the news after an earlier
event ("The move follows China's announcement of new export restrictions", "This comes
weeks after …", 此举是在…之后, 此前，…) names that event as the setting (`follows_earlier`);
a lead that eases what only such sentences name makes the easing the news (the engine).

For a dated item the month counts too: a sentence whose latest named month ("On September
15, China introduced …", "in April 2024", 2024年4月, 今年4月) lies `BACKGROUND_MONTHS` or
more calendar months before the item's, with no year after the item's month and nothing of
the present, recounts an earlier event (`is_month_background`). A month without a year is
the latest such month not after the item's. A month right after a measure's participle
("the process introduced in April") dates that measure, not the sentence's news: it is
left to the rules' `frame_after` cues.
"""

from __future__ import annotations

import re
from datetime import date

from watcher.classify.text import Sentence, clause_breaks

BACKGROUND_YEARS = 2
BACKGROUND_MONTHS = 3
# 1950–2099, not inside a longer number or a decimal; written to start with a character
# class so the regex engine can jump from candidate to candidate (a leading look-behind
# would try every position: 20 µs per 1 KB item instead of 4)
# (a comma or point before it hides a year only after a digit, as in "1,2005" or
# "3.2010": Chinese text puts ASCII commas between clauses, "…進口,2025年前五個月…")
_YEAR = re.compile(r"[12](?<!\d[12])(?<!\d[.,][12])(?:9[5-9]|0\d)\d(?![\d%]|[.,]\d)")
_PRESENT = re.compile(
    r"\b(?i:now|currently|still|this (?:year|month|week|quarter)|so far|since|ongoing"
    r"|continu\w*|remain\w*|today|latest|recent\w*)\b"
    # 以来 ("since …") but not 长期以来 / 一直以来 ("for a long time", "all along"):
    # those date nothing to the present
    r"|目前|当前|當前|现在|現在|仍|至今|持续|持續|(?<!长期)(?<!長期)(?<!一直)以[来來]"
    r"|本月|今年|近期|最新|早在|此后|此後"
)


_AFTER = re.compile(r"\b(?i:after|following)\b|之后|之後|后|後")
# a present perfect before the "after" phrase: the news is a current state ("has resumed")
_PERFECT = re.compile(r"\b(?i:has|have)\b|已经|已經|已")


_MONTH_NAMES = {
    name: number
    for number, names in enumerate(
        (
            ("January", "Jan."),
            ("February", "Feb."),
            ("March", "Mar."),
            ("April", "Apr."),
            ("May",),
            ("June", "Jun."),
            ("July", "Jul."),
            ("August", "Aug."),
            ("September", "Sept.", "Sep.", "Sept"),
            ("October", "Oct.", "Oct"),
            ("November", "Nov.", "Nov"),
            ("December", "Dec.", "Dec"),
        ),
        start=1,
    )
    for name in names
}
_CJK_NUMBERS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
# an English month name, capitalised ("may" is a verb), with the day and year written
# with it; the pattern starts with a character class so the engine jumps between
# candidates (a word that is no month is dropped after the match)
_MONTH_EN = re.compile(
    r"[JFMASOND](?<![\w.][JFMASOND])[a-z]{2,8}\.?(?:\s+\d{1,2}(?:st|nd|rd|th)?\b,?)?"
    r"(?:\s+(?:of\s+)?(?P<year>(?:19|20)\d\d)\b)?"
)
_MONTH_WORD = re.compile(r"[A-Za-z]+\.?")
# a Chinese month number before 月 (not "5个月", five months), read backwards from 月
_MONTH_ZH = re.compile(
    r"(?:(?P<year>(?:19|20)\d\d)\s*年\s*|今年|(?P<last>去年|上年))?"
    r"(?<![个個\d])(?P<month>1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])\s*月\Z"
)
_NOT_A_MONTH_AFTER = re.compile(r"份?[底初中]?[之以]?[后後前]")
# the quick test for an English month name (a leading character class: the engine
# jumps between candidates)
_MONTH_QUICK = re.compile(
    r"[JFMASOND](?<![A-Za-z][JFMASOND])(?:anuary|an\.|ebruary|eb\.|arch|ar\.|pril|pr\.|ay"
    r"|une|un\.|uly|ul\.|ugust|ug\.|eptember|ept?\.?|ctober|ct\.?|ovember|ov\.?|ecember"
    r"|ec\.?)(?![a-z])"
)


def may_name_a_month(text: str) -> bool:
    """False when the text surely names no month: the quick test before
    `is_month_background`."""
    return "月" in text or _MONTH_QUICK.search(text) is not None


def _zh_month(number: str) -> int:
    if number.isdigit():
        return int(number)
    if number.startswith("十"):
        return 10 + _CJK_NUMBERS.get(number[1:], 0)
    return _CJK_NUMBERS[number]


def _months(text: str, start: int, end: int) -> list[tuple[int, int, int, int | None, bool]]:
    """The months a stretch of text names: (start, end, month, year written or None,
    "last year"), in text order."""
    found: list[tuple[int, int, int, int | None, bool]] = []
    chunk = text[start:end]
    if _MONTH_QUICK.search(text, start, end) is not None:
        for match in _MONTH_EN.finditer(text, start, end):
            word = _MONTH_WORD.match(match.group())
            month = _MONTH_NAMES.get(word.group()) if word is not None else None
            if month is None:
                continue
            year = match.group("year")
            found.append((match.start(), match.end(), month, int(year) if year else None, False))
    at = chunk.find("月")
    while at >= 0:
        position = start + at
        if not _NOT_A_MONTH_AFTER.match(text, position + 1):
            zh = _MONTH_ZH.search(text, max(start, position - 12), position + 1)
            if zh is not None:
                year = zh.group("year")
                found.append(
                    (
                        zh.start(),
                        position + 1,
                        _zh_month(zh.group("month")),
                        int(year) if year else None,
                        zh.group("last") is not None,
                    )
                )
        at = chunk.find("月", at + 1)
    return sorted(found)


def _month_index(month: int, year: int | None, last: bool, published: date) -> int | None:
    """The named month as year * 12 + month - 1; None for a month without a year after
    the item's (last year's, or one to come: the text cannot tell)."""
    if year is None:
        if last:
            year = published.year - 1
        elif month <= published.month:
            year = published.year
        else:
            return None
    return year * 12 + month - 1


# a month that opens a state still running ("since April", 自6月, 2月起), closes a
# range of figures ("January-April", 1-4月, 1至4月) or bounds a plan ("by July", 7月前):
# no earlier event
_OPEN_BEFORE = re.compile(
    r"(?:\b(?i:since|from|by|until|till|through|before|to|as of)\s+(?:(?:early|mid|late|end)[- ])?"
    r"|(?:[-–~～至到自从截]|直到|直至)\s*(?:\d{4}\s*年\s*)?)$"
)
# a month that dates a measure named in the sentence, right after its participle ("the
# case-by-case process introduced in April"): it dates that noun phrase, not the
# sentence's news; whether the phrase is mere context the rules decide (`frame_after`)
# (not after an auxiliary: "controls were imposed on December 20" is the news itself)
_PARTICIPLE_BEFORE = re.compile(
    r"(?<!\bwas )(?<!\bwere )(?<!\bbeen )(?<!\bbe )(?<!\bis )(?<!\bare )(?<!\bhas )"
    r"(?<!\bhave )(?<!\bhad )"
    r"\b(?i:introduced|imposed|announced|unveiled|adopted|enacted|launched|implemented"
    r"|issued|tightened|expanded)\s+(?i:in|on)\s+(?:(?i:early|mid|late)[- ])?$"
)
_OPEN_AFTER = re.compile(
    r"\s*(?:\d{1,2}\s*[日号]\s*)?(?:起|以来|以來|开始|開始|前|底前|份?以来|-|–|至)"
)
# a sentence that looks ahead or reports figures against a period: not a past event
_AHEAD = re.compile(
    r"\b(?i:will|would|could|may|might|plans?|planned|aims?|expects?|expected|intends?"
    r"|hopes?|hoping|targets?|targeting|scheduled|due to|set to|is to|are to"
    r"|year[- ]on[- ]year|y/y"
    r"|from a year earlier|a year ago)\b|将于|將於|将在|將在|即将|即將|将会|將會"
    r"|计划|計劃|预计|預計|拟|擬|希望|力争|目标|同比|环比|環比"
)


# a day of the current week or month beside the month: the news is recent ("the fund,
# agreed in April, started on Monday", "…4月签署的基金17日启动")
_RECENT = re.compile(
    r"\b(?i:yesterday|today|this week|last week|(?:on |last )?(?:monday|tuesday|wednesday"
    r"|thursday|friday|saturday|sunday))\b|昨日|昨天|今日|本周|本週|上周|上週|(?<![月\d])\d{1,2}\s*日"
)


def is_month_background(text: str, sentence: Sentence, published: date) -> bool:
    """True when the sentence's latest named month (outside an "after …" phrase of a
    present perfect) is `BACKGROUND_MONTHS` or more months before `published`'s, it names
    no later year and it says nothing of the present."""
    months = _months(text, sentence.start, sentence.end)
    now = published.year * 12 + published.month - 1
    if not any(
        (index := _month_index(month, year, last, published)) is not None
        and now - index >= BACKGROUND_MONTHS
        for _, _, month, year, last in months
    ):
        return False  # no month old enough (the filters below only drop months)
    breaks = [sentence.start, *clause_breaks(text, sentence.start, sentence.end)]
    latest = None
    for start, end, month, year, last in months:
        if _OPEN_BEFORE.search(text, max(sentence.start, start - 12), start):
            continue
        if _PARTICIPLE_BEFORE.search(text, max(sentence.start, start - 24), start):
            continue
        if _OPEN_AFTER.match(text, end):
            continue
        clause_start = max(b for b in breaks if b <= start)
        after = _AFTER.search(text, clause_start, start)
        if after is not None and _PERFECT.search(text, sentence.start, after.start()):
            continue
        index = _month_index(month, year, last, published)
        if index is None:
            return False
        latest = index if latest is None else max(latest, index)
    if latest is None or _RECENT.search(text, sentence.start, sentence.end):
        return False
    if now - latest < BACKGROUND_MONTHS:
        return False
    if any(year > published.year for year in years_of(text, sentence)):
        return False
    if _AHEAD.search(text, sentence.start, sentence.end):
        return False
    # "this year" dates the month ("今年4月"), it is no present state here
    return not any(
        m.group().lower() not in ("this year", "今年")
        for m in _PRESENT.finditer(text, sentence.start, sentence.end)
    )


def years_of(text: str, sentence: Sentence) -> list[int]:
    """The years (1950–2099) a sentence names."""
    return [int(m.group()) for m in _YEAR.finditer(text, sentence.start, sentence.end)]


# a year that names an instrument, not the date of the sentence's event: "under a 2012
# bilateral deal", "the 2009 mining law", "the Export Control Reform Act of 2018", 2012年协议
_NAMES_INSTRUMENT = re.compile(
    r"(?:\s+[A-Za-z-]+){0,2}\s+(?i:deal|agreement|accord|treaty|pact|law|act|code|regulation"
    r"|memorandum|protocol)s?\b|\s*年(?:的)?(?:双边|雙邊)?(?:协议|協議|协定|協定)"
)
_INSTRUMENT_OF = re.compile(r"\b(?i:act|law|code|regulation|agreement|treaty) of\s+\Z")


def _names_instrument(text: str, match: re.Match[str]) -> bool:
    """True when the year `match` is part of an agreement's or a law's name."""
    if _NAMES_INSTRUMENT.match(text, match.end()) is not None:
        return True
    return _INSTRUMENT_OF.search(text[max(0, match.start() - 20) : match.start()]) is not None


def _news_years(text: str, sentence: Sentence) -> list[int]:
    """The years a sentence names, less those in an "after …" phrase of their clause and
    those in the name of an agreement or a law (`_names_instrument`)."""
    breaks = [sentence.start, *clause_breaks(text, sentence.start, sentence.end)]
    out = []
    for match in _YEAR.finditer(text, sentence.start, sentence.end):
        if _names_instrument(text, match):
            continue
        clause_start = max(b for b in breaks if b <= match.start())
        after = _AFTER.search(text, clause_start, match.start())
        if after is None or _PERFECT.search(text, sentence.start, after.start()) is None:
            out.append(int(match.group()))
    return out


# a sentence whose time is a bare year at its head ("In 2010, China …", "2014年，印尼…",
# "事件：2017年，…"): news is dated by day, week or month, a bare year dates a recounting
_BARE_YEAR_HEAD = re.compile(
    r"\s*[\"'“‘]?(?:(?i:in|during|back in)\s+(?:the\s+(?:early|late)\s+)?"
    r"(?P<en>(?:19|20)\d\d)s?\s*,"
    r"|(?:[^\s\d,，:：。]{1,4}\s*[:：]\s*)?(?P<zh>(?:19|20)\d\d)\s*年\s*(?:[,，:：]|(?![\d一二三四五六七八九十]"
    r"|\s*(?:[\d一二三四五六七八九十]|[底初中末前后後起以度]|上半|下半|第|全年|至|到|-))))"
)


def opens_with_bare_year(text: str, sentence: Sentence) -> bool:
    """True when the sentence opens on a bare year as its time ("In 2010, …", "2014年，…"),
    names no later year and says nothing of the present or the future: it recounts an
    earlier event."""
    head = _BARE_YEAR_HEAD.match(text, sentence.start, sentence.end)
    if head is None:
        return False
    if max(years_of(text, sentence)) > int(head.group("en") or head.group("zh")):
        return False  # a later year names the news ("2023年…，2025年前五个月…暴跌")
    if _AHEAD.search(text, sentence.start, sentence.end) is not None:
        return False
    return _PRESENT.search(text, sentence.start, sentence.end) is None


# a sentence whose subject names the item's news again ("The move", "This", "The
# decision") and sets it after an earlier event: "The move follows China's October 9
# announcement of new export restrictions", "This comes weeks after Zimbabwe banned ...",
# 此举是在…之后; or opens on "before this" (此前，…: what came before the news)
# ("comes as" and "comes amid" set a simultaneous event: not these; nor does a wait it
# follows, "the release follows months of delay", which reports the news as late)
_FOLLOWS_HEAD = re.compile(
    r"\s*[\"'“‘]?(?i:(?:this|that|it|(?:the|this|that) (?:[a-z-]+\s+){0,2}?"
    r"(?:move|decision|development|announcement|step|action|measure|news|order|notice|approval|release|ruling|change"
    r"|suspension|resumption|restart|lifting))\s+(?:(?:follows|followed(?!\s+by))"
    # a wait is no earlier event: "the release follows months of delay" is late news
    r"(?!\s+(?:[a-z]+\s+)?(?:days|weeks|months|years)\s+of\s+(?:delays?|waiting|wait)\b)"
    r"|(?:comes|came)\s+(?:(?:just|only|shortly|barely|(?:[a-z0-9-]+\s+)?(?:hours?|days?"
    r"|weeks?|months?|years?))\s+)?(?:after|on the heels of))\b)"
    r"|\s*(?:此举是在|此舉是在|这是在|這是在|这一举措是在|這一舉措是在|此前|早前|先前)"
)


# the characters a `_FOLLOWS_HEAD` match can open on, and words one of which it holds
_FOLLOWS_FIRST = frozenset("TtIi此这這 \t\n\"'“‘")
_FOLLOWS_HINT = re.compile("ollow|ome|ame|此举|此舉|这是|這是|这一|這一|此前|早前|先前")


def follows_earlier(text: str, sentence: Sentence) -> bool:
    """True when the sentence opens by setting the item's news after an earlier event
    ("The move follows …", "This comes weeks after …", 此举是在…之后, 此前，…): what it
    names is the setting of the news, not news."""
    head = text[sentence.start : sentence.start + 1]
    if head not in _FOLLOWS_FIRST:
        return False  # most sentences: no pattern can match at their first character
    if _FOLLOWS_HINT.search(text, sentence.start, min(sentence.end, sentence.start + 90)) is None:
        return False  # no verb of the pattern near the head: the costlier match cannot
    return _FOLLOWS_HEAD.match(text, sentence.start, sentence.end) is not None


def names_a_year(text: str, sentence: Sentence | None = None) -> bool:
    """True when the text (or one sentence of it) names a year: the quick test before
    `is_dated_background`."""
    if sentence is None:
        return _YEAR.search(text) is not None
    return _YEAR.search(text, sentence.start, sentence.end) is not None


def reference_year(text: str, published: date | None) -> int | None:
    """The item's year: its publication year, else the latest year it names, else None."""
    if published is not None:
        return published.year
    named = [int(m.group()) for m in _YEAR.finditer(text)]
    return max(named) if named else None


def is_dated_background(text: str, sentence: Sentence, year: int | None) -> bool:
    """True when the sentence recounts an event of a year well before `year`."""
    if year is None:
        return False
    named = _news_years(text, sentence)
    if not named or max(named) > year - BACKGROUND_YEARS:
        return False
    return _PRESENT.search(text, sentence.start, sentence.end) is None
