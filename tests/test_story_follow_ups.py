"""Keeping apart what the dev split of tests/data/stories/real showed wrongly joined or sent
as nothing new (issue 16): a follow-up citing the original's day as background, two
reports in two scripts sharing nothing but round percentages, and a rewrite adding a year.

Each test is a class of mistakes, with its counterpart that must still join.
"""

from __future__ import annotations

from datetime import date

from watcher.domain.stories import contradictions, news, same_story, sketch_text
from watcher.domain.story_facts import YEAR, fact

TIGHTER = [("export_control", "tightening")]
EASIER = [("export_control", "easing")]

CONTROLS = (
    "China issues export controls on semiconductor raw materials",
    "China's Ministry of Commerce and Customs agency jointly announced today that they will"
    " restrict exports of products and materials containing gallium and germanium, which"
    " are widely used to make semiconductors. The new rules become effective on August 1.",
)


def _licences(day: str) -> tuple[str, str]:
    return (
        "China approves first licences for gallium, germanium shipments",
        "China has approved the first export licences for gallium and germanium materials"
        " since the controls on semiconductor products were introduced on August 1, the"
        f" Ministry of Commerce announced on {day}.",
    )


def test_licences_granted_weeks_after_the_controls_day_are_another_event() -> None:
    """The licences of September 21 cite the controls' day (August 1) as background; the
    classifier reads them as easing. The shared day pins no single event when the
    follow-up names its own day weeks after it: two events."""
    controls = sketch_text(*CONTROLS, None, TIGHTER)
    licences = sketch_text(*_licences("September 21"), date(2023, 9, 21), EASIER)
    assert "signal" in contradictions(controls, licences)
    assert "signal" in contradictions(licences, controls)
    assert not same_story(controls, licences)
    assert not same_story(licences, controls)


def test_a_next_day_report_read_in_the_other_direction_still_joins() -> None:
    """A report dated the next day (August 2) of the same controls, read in the other
    direction by the classifier, still shares the day that pins the event: one event."""
    controls = sketch_text(*CONTROLS, None, TIGHTER)
    next_day = sketch_text(*_licences("August 2"), date(2023, 8, 2), EASIER)
    assert "signal" not in contradictions(controls, next_day)
    assert same_story(controls, next_day)


YUNNAN_ZH = (
    "云南再度限电!有企业产能压缩40%",
    "水电大省云南再度传出限电消息。第一轮限电压减产能规模10%,第二轮达到20%,而这一次进一步压缩运行产能。",
)
TARIFFS_EN = (
    "Trump and Xi met: tariffs cut",
    "President Trump announced that the United States will reduce tariffs on Chinese goods,"
    " cutting the so-called fentanyl tariff from 20% to 10%. China agreed to lift export"
    " restrictions on rare earth minerals.",
)


def test_two_scripts_sharing_only_round_percentages_are_two_events() -> None:
    """A Chinese power-curb note (10%, 20%) and an English tariff report (20% to 10%)
    share two percentages and no signal about a shared actor: no evidence."""
    zh = sketch_text(*YUNNAN_ZH)
    en = sketch_text(*TARIFFS_EN, None, EASIER)
    assert not same_story(zh, en)
    assert not same_story(en, zh)


HALT_EN = (
    "First Quantum halts Ravensthorpe nickel mine",
    "Canadian miner First Quantum has temporarily halted mining at its Ravensthorpe nickel"
    " mine in Western Australia, cutting its workforce by 30%.",
)
HALT_ZH = (
    "First Quantum暂时停止拉文斯索普镍矿运营",
    "加拿大矿业公司First Quantum已暂时停止其位于西澳大利亚州的拉文斯索普镍矿的采矿业务,"
    "员工人数将减少30%。",
)
DISRUPTED = [("ore_supply_disruption", "tightening")]


def test_a_shared_percentage_with_one_signal_about_one_actor_joins_two_scripts() -> None:
    """The translation of a mine halt shares 30% and the same signal about nickel in
    Australia: the percentage pins it, as before."""
    en = sketch_text(*HALT_EN, None, DISRUPTED)
    zh = sketch_text(*HALT_ZH, None, DISRUPTED)
    assert same_story(en, zh)


def test_a_rewrite_adding_a_year_is_news() -> None:
    """ "The smelter will operate until 2030" in a rewrite of "mines to close by the end of
    2025": the year is a fact the story lacked, sent as an update; the year both name is
    not."""
    first = sketch_text(
        "Glencore to close copper mines at Mount Isa",
        "Glencore is to close its underground copper mines in Mount Isa by the end of 2025.",
    )
    rewrite = sketch_text(
        "Mount Isa copper mines to close by 2025",
        "Glencore will close its copper mines in Mount Isa by the end of 2025; the copper"
        " smelter and refinery will operate until 2030.",
    )
    added = news(rewrite, first.facts)
    assert fact(YEAR, "2030") in added
    assert fact(YEAR, "2025") not in added


def _notice(change: str) -> tuple[str, str]:
    return (
        "Pricing notice: amendment of Fastmarkets cobalt prices",
        "Fastmarkets has amended its benchmark in-warehouse Rotterdam cobalt standard grade"
        f" and cobalt alloy grade price assessments. {change}",
    )


def test_a_notice_dated_years_before_the_others_publication_is_another_event() -> None:
    """One frame, two notices: one dated January 2, 2019, the other published in May 2023
    naming no year. The year its date gives the second stands for the year it does not
    write: two events. Beside a day both name, the past year is background: one event."""
    old = sketch_text(*_notice("The names were changed on January 2, 2019."))
    new = sketch_text(*_notice("The brands were clarified."), date(2023, 5, 23))
    assert "past year" in contradictions(old, new)
    assert not same_story(new, old)
    dated = sketch_text(*_notice("The brands were clarified on January 2."), date(2023, 1, 2))
    background = sketch_text(*_notice("It was amended on January 2, as in 2019."))
    assert "past year" not in contradictions(background, dated)
    assert same_story(dated, background)
