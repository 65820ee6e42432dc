"""Dated background by month (`classify/background.py`), on sentences written for it."""

from __future__ import annotations

from datetime import date

import pytest

from watcher.classify.background import is_month_background
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
