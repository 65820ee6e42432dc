"""Dated background by month (`classify/background.py`), on sentences written for it."""

from __future__ import annotations

from datetime import date

import pytest

from watcher.classify.background import (
    follows_earlier,
    is_month_background,
    opens_with_bare_year,
)
from watcher.classify.text import Sentence

ITEM = date(2025, 11, 12)


def _old(sentence: str, published: date = ITEM) -> bool:
    return is_month_background(sentence, Sentence(0, len(sentence)), published)


@pytest.mark.parametrize(
    "sentence",
    [
        "On Aug. 15, the ministry added antimony to its export control list.",
        "In April, the ministry added antimony to its export control list.",
        "The ministry added antimony to its export control list in December 2024.",
        "商务部于今年4月将锑列入出口管制清单。",
        "去年10月,商务部将锑列入出口管制清单。",
        "2024年12月,商务部将锑列入出口管制清单。",
    ],
)
def test_a_month_well_before_the_item_is_background(sentence: str) -> None:
    assert _old(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "On Sept. 2, the ministry added antimony to its export control list.",  # recent
        "In December, the ministry added antimony to its export control list.",  # unknown year
        "Since April, the ministry has required licences for antimony.",  # still running
        "自4月起,锑出口须申请许可。",
        "Antimony exports fell 60% in January-September from a year earlier.",  # figures
        "1-9月锑出口量同比下降60%。",
        "The miner plans to restart the antimony mine by April.",  # a plan
        "Antimony exports have resumed after the ministry halted them in March.",  # perfect
        "The ministry added antimony to its export control list on Monday.",  # no month
        # the month dates the measure a participle names, not the sentence's news
        "The ministry is granting general licences, replacing the process introduced in April.",
    ],
)
def test_a_recent_month_a_running_state_or_a_plan_is_not(sentence: str) -> None:
    assert not _old(sentence)


def test_the_day_is_not_read_as_a_year() -> None:
    """ "December 20" before "2024" is a day: "December 2024" is still found."""
    assert _old("Controls imposed on December 20, 2024 still apply.") is False  # present
    assert _old("Controls were imposed on December 20, 2024.")


def _bare(sentence: str) -> bool:
    return opens_with_bare_year(sentence, Sentence(0, len(sentence)))


@pytest.mark.parametrize(
    "sentence",
    [
        "In 2010, China raised rare earth prices by restricting exports.",
        "Back in 2014, Indonesia banned nickel ore exports.",
        "2014年,印尼首次全面禁止镍原矿出口。",
        "2017年:政策松绑,允许有条件出口。",
    ],
)
def test_a_sentence_opening_on_a_bare_year_recounts_history(sentence: str) -> None:
    """A bare year as the sentence's time dates a recounting, whatever the item's date."""
    assert _bare(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "2024年12月,商务部将锑列入出口管制清单。",  # a month: the month rule decides
        "2023年缅甸供应中国逾五成稀土进口,2025年前五个月的出口量却暴跌五成。",  # later year
        "In 2025, the ministry will cut the quota.",  # ahead
        "In 2021, exports fell and they remain low.",  # present
        "China said in 2010 it would restrict exports.",  # not at the head
        "2025年以来,锑出口持续下降。",  # a running state
    ],
)
def test_a_dated_month_a_later_year_or_the_present_is_not_a_bare_year(sentence: str) -> None:
    """A month, a later year, a plan or the present keeps a year-led sentence news."""
    assert not _bare(sentence)


@pytest.mark.parametrize(
    ("sentence", "earlier"),
    [
        ("The move follows China's October 9 announcement of new export restrictions.", True),
        ("This comes weeks after Zimbabwe banned the export of raw lithium.", True),
        ("The decision came just days after Beijing tightened its rules.", True),
        ("此举是在商务部10月宣布出口管制之后。", True),
        ("此前，宜春多家锂矿因环保督察停产整改。", True),
        # a simultaneous event is news ("comes as"), and so is a subject of its own
        ("It comes as First Quantum places the mine into care and maintenance.", False),
        ("Myanmar's rare earth mines came back on stream after the rainy season.", False),
        ("The ban was followed by a fall in exports.", False),
    ],
)
def test_a_sentence_setting_the_news_after_an_earlier_event(sentence: str, earlier: bool) -> None:
    """A sentence that names the news again and sets it after an earlier event names
    that event as the setting; "comes as" and a subject of its own do not."""
    assert follows_earlier(sentence, Sentence(0, len(sentence))) is earlier
