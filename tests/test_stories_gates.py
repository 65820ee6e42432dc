"""The gates of story clustering that the real pair set showed refusing one event's reports.

Each test is one general cause of a wrongly split or wrongly joined pair on the dev split
of tests/data/stories/real: a figure written another way, a day that names its month, a
signal direction the classifier read differently in two reports of one event.
"""

from __future__ import annotations

from datetime import date

from watcher.domain.stories import (
    Sketch,
    contradictions,
    same_story,
    sketch_text,
)
from watcher.domain.story_facts import (
    DAY,
    FIGURE,
    MONTH,
    PLACE,
    ROUNDED,
    SCRIPT,
    TONNAGE,
    fact_values,
)
from watcher.domain.story_updates import news

QUOTA = (
    "Congo replaces its cobalt export ban with quotas",
    "The Democratic Republic of Congo will lift its ban on cobalt exports from October 16"
    " and impose annual export quotas, the strategic minerals regulator said on Sunday."
    " Miners may ship {tonnage} of cobalt for the rest of 2025, the regulator said.",
)


def _quota(tonnage: str) -> tuple[str, str]:
    return QUOTA[0], QUOTA[1].format(tonnage=tonnage)


def test_an_approximate_figure_is_marked_and_every_figure_keeps_its_roundings() -> None:
    """ "over 18,000 tons" and "逾1.8万吨" are "~18000 t"; "18,125 tonnes" is "18125 t" (as
    written) with the roundings "~20000 t", "~18000 t", "~18100 t", "~18120 t" and
    "~18125 t"; "100.8 kt" is "100,800 t"."""
    for text in ("over 18,000 tons", "允许出口逾1.8万吨钴", "about 18,000 tonnes"):
        values = fact_values("", text)
        assert (FIGURE, "~18000 t") in values, text
        assert (TONNAGE, "~18000 t") in values, text
    precise = fact_values("", "a cap of 18,125 tonnes")
    assert (TONNAGE, "18125 t") in precise
    assert {v for k, v in precise if k == ROUNDED} == {
        "~20000 t",
        "~18000 t",
        "~18100 t",
        "~18120 t",
        "~18125 t",
    }
    assert (TONNAGE, "100800 t") in fact_values("", "output of 100.8 kt")
    assert (TONNAGE, "100800 t") in fact_values("", "output of 100,800 t")
    assert (TONNAGE, "12000 t") in fact_values("", "12 kilotonnes a year")


def test_an_approximate_tonnage_joins_the_precise_one_it_rounds() -> None:
    """ "over 18,000 tons" reports the cap of "18,125 tonnes": no tonnage apart, one story,
    and the rounded figure is no news; two precise tonnages that differ stay apart."""
    precise = sketch_text(*_quota("up to 18,125 tonnes"))
    rounded = sketch_text(*_quota("over 18,000 tons"))
    assert "tonnage" not in contradictions(precise, rounded)
    assert "tonnage" not in contradictions(rounded, precise)
    assert same_story(precise, rounded)
    assert not news(rounded.facts, precise.facts)
    assert "tonnage" in contradictions(precise, sketch_text(*_quota("up to 17,760 tonnes")))
    assert "tonnage" in contradictions(rounded, sketch_text(*_quota("over 25,000 tons")))


def test_a_shared_tonnage_keeps_places_together_whichever_report_rounds_it() -> None:
    """One market's report placed differently by two outlets ("in Ganzhou", "at Baotou")
    is not set apart by its places when both name its tonnage, also when one of them
    gives it rounded ("over 18,000 tons" for "18,125 tonnes"), in either order; without a
    shared tonnage the places set them apart."""
    precise = sketch_text(
        "Oxide shipments", "Rare earth smelters in Ganzhou shipped 18,125 t of oxide this week."
    )
    second = "Traders at Baotou said separation plants had sent out {tonnage} of oxides so far."
    rounded = sketch_text("Oxide sent out", second.format(tonnage="over 18,000 tons"))
    assert "place" not in contradictions(precise, rounded)
    assert "place" not in contradictions(rounded, precise)
    other = sketch_text("Oxide sent out", second.format(tonnage="record amounts"))
    assert "place" in contradictions(precise, other)


def test_a_calendar_day_names_its_month() -> None:
    """ "June 27" names June, "2025-02-04" February, "10月16日" October: a month fact each."""
    assert (MONTH, "06") in fact_values("", "it announced on Thursday June 27")
    assert (MONTH, "02") in fact_values("", "effective 2025-02-04")
    assert (MONTH, "10") in fact_values("", "将于10月16日解除钴出口禁令")


def test_a_report_of_other_months_is_another_event_than_a_dated_plan() -> None:
    """A plan announced on June 27 and a report of what was built in March and done in May
    share the company, the plant and the product, not the event."""
    plan = sketch_text(
        "Lynas to produce terbium oxide in Malaysia",
        "Lynas Rare Earths said on June 27 it plans to produce separated terbium oxide and"
        " dysprosium oxide at its Malaysian plant with heavy rare earth circuits of 1,500"
        " tonnes a year.",
    )
    done = sketch_text(
        "Lynas produces terbium oxide in Malaysia",
        "Lynas Rare Earths has produced separated terbium oxide at its Malaysian plant with"
        " heavy rare earth circuits of 1,500 tonnes a year built in March, after it produced"
        " dysprosium oxide there in May.",
    )
    assert "month" in contradictions(plan, done)
    assert not same_story(plan, done)


CONTROLS = (
    "China announces export controls on tungsten and bismuth",
    "China on Tuesday announced export controls on items related to tungsten, tellurium,"
    " bismuth, molybdenum and indium, effective February 4, the Ministry of Commerce said."
    " A spokesperson said the move {phrase}.",
)


def test_one_event_read_in_both_directions_is_one_story_when_both_name_its_day() -> None:
    """Two reports of the controls of February 4 that the classifier read as tightening
    and as easing are one event; without a shared day or figure they stay apart."""
    title, body = CONTROLS

    def read_both_ways(text: str, day: date | None) -> tuple[Sketch, Sketch]:
        tight = sketch_text(
            title,
            text.format(phrase="protects national security"),
            day,
            [("export_control", "tightening")],
        )
        eased = sketch_text(
            title, text.format(phrase="is not a ban"), day, [("export_control", "easing")]
        )
        return tight, eased

    tight, eased = read_both_ways(body, date(2025, 2, 4))
    assert "signal" not in contradictions(tight, eased)
    assert same_story(tight, eased)
    undated = body.replace(", effective February 4,", ",")
    tight_undated, eased_undated = read_both_ways(undated, None)
    assert "signal" in contradictions(tight_undated, eased_undated)


def test_a_weekday_names_its_day_not_a_month() -> None:
    """ "on Thursday" in an item published 2025-10-09 is October 9, a day; the month is
    the publication's, not a month the text names, so a report of the announcement does
    not contradict one that names only the month the measure starts ("from December")."""
    values = fact_values("", "China on Thursday announced export curbs", date(2025, 10, 9))
    assert (DAY, "10-09") in values
    assert (MONTH, "10") not in values
    assert (MONTH, "12") in fact_values("", "curbs apply from December", date(2025, 10, 9))


def test_the_day_both_were_published_does_not_set_one_events_reports_apart() -> None:
    """A dateline of the day both items were published ("May 5 (Wire)") and the day the
    event takes effect ("from May 6") are no two events; published on other days, the
    days named still tell two daily notes apart."""
    wire = sketch_text(
        "Harbour licence of Tarvik smelter renewed for ten years",
        "OSLO, May 5 (Wire) -- Norway renewed the operating licence of the Tarvik cobalt"
        " smelter for ten years, starting tomorrow, the regulator said in a statement.",
        date(2026, 5, 5),
    )
    release = sketch_text(
        "Tarvik smelter operating licence renewed for ten years",
        "The regulator said Norway renewed the operating licence of the Tarvik cobalt smelter"
        " for a further ten years, effective May 6, in a statement to the company.",
        date(2026, 5, 5),
    )
    assert "day" not in contradictions(wire, release)
    assert same_story(wire, release)

    def note(day: date) -> Sketch:
        return sketch_text(
            "Cobalt prices steady",
            f"LONDON, May {day.day} (Wire) -- Cobalt prices held steady in Rotterdam trading.",
            day,
        )

    assert "day" in contradictions(note(date(2026, 5, 5)), note(date(2026, 5, 6)))


ENGLISH = (
    "Congo to lift cobalt export ban, impose quotas",
    "The Democratic Republic of Congo will lift its cobalt export ban on October 16 and"
    " cap exports at {tonnage} for the rest of the year, its minerals regulator said.",
)
CHINESE = "刚果（金）10月16日起解除钴出口禁令，今年剩余时间出口上限为{tonnage}。"


def test_reports_in_two_scripts_join_on_two_shared_days_or_figures() -> None:
    """An English and a Chinese report share hardly a word: sharing the day and the
    tonnage they are one story; sharing the day alone they are not, nor are two English
    texts that share both facts but little wording."""
    english = sketch_text(ENGLISH[0], ENGLISH[1].format(tonnage="18,125 tonnes"))
    chinese = sketch_text("", CHINESE.format(tonnage="18125吨"))
    assert (SCRIPT, "cjk") in fact_values("", CHINESE)
    assert (SCRIPT, "latin") in fact_values(*ENGLISH)
    assert same_story(english, chinese)
    day_only = sketch_text("", CHINESE.format(tonnage="大量钴").replace("上限为", ""))
    assert not same_story(english, day_only)
    rewrite = sketch_text(
        "Kinshasa swaps embargo for allocations",
        "Shipments of the battery metal resume from Oct. 16 under a ceiling of 18,125 t"
        " through December, officials announced.",
    )
    assert not same_story(english, rewrite)


def test_places_are_read_from_the_body_and_never_a_common_noun() -> None:
    """A place contradicts (`PLACE`), so only names that are places count: "at Gebeng,
    Kuantan" names both; a headline's capitals ("Restrictions in Sight") and a quoted
    title's ("Restricted from Export", where the body also writes "export") do not."""
    body = "Lynas said its plant at Gebeng, Kuantan, may export again."
    assert {v for k, v in fact_values("", body) if k == PLACE} == {"gebeng", "kuantan"}
    assert (PLACE, "sight") not in fact_values("No End to Export Restrictions in Sight", body)
    quoted = (
        'It is on the "Catalogue of Technologies Restricted from Export" and banned the export.'
    )
    assert not {v for k, v in fact_values("", quoted) if k == PLACE}


METALS = (
    "China adds five metals to export controls",
    "Beijing will require licences for shipments of tungsten, tellurium, bismuth, molybdenum"
    " and indium, the commerce ministry said, citing national security.",
)
REWRITE = (
    "New curbs on strategic metals",
    "Exporters of {metals} now need permission from authorities under rules meant to"
    " protect national interests.",
)


def test_the_same_list_of_materials_corroborates_a_rewrite() -> None:
    """Two rewrites that share a fifth of their words and no day or figure join when both
    list the same five metals (an announcement's list); drop one metal from one list and
    the loose overlap is no evidence."""
    announced = sketch_text(*METALS)
    same = REWRITE[1].format(metals="tungsten, tellurium, molybdenum, bismuth and indium")
    fewer = REWRITE[1].format(metals="tungsten, tellurium, molybdenum and bismuth")
    assert same_story(announced, sketch_text(REWRITE[0], same))
    assert not same_story(announced, sketch_text(REWRITE[0], fewer))


ZIMBABWE_EN = (
    "Zimbabwe halts lithium concentrate exports",
    "Mines minister Polite Kambamura said on February 25 that exports of raw ores and"
    " lithium concentrates are suspended with immediate effect.",
)
ZIMBABWE_ZH = (
    "津巴布韦暂停锂精矿出口",
    "矿业部长坎巴穆拉2月25日在哈拉雷对记者说,锂精矿和原矿出口禁令立即生效,直至另行通知。",
)
BAN = [("export_control", "tightening")]


def test_a_translation_sharing_one_day_joins_when_it_reports_the_same_signal() -> None:
    """An English and a Chinese report sharing one day (February 25) and no figure join
    when both report an export tightening of lithium; the day alone is not enough, nor
    is the day with the signal in the other direction."""
    published = date(2026, 2, 26)
    english = sketch_text(*ZIMBABWE_EN, published, BAN)
    assert same_story(english, sketch_text(*ZIMBABWE_ZH, published, BAN))
    assert not same_story(english, sketch_text(*ZIMBABWE_ZH, published))
    assert not same_story(
        english, sketch_text(*ZIMBABWE_ZH, published, [("export_control", "easing")])
    )


def test_a_translation_naming_another_day_is_not_corroborated_by_its_signal() -> None:
    """The Chinese report sharing February 25 and the signal joins; the same report
    naming also the day of a later press conference (March 3) does not."""
    published = date(2026, 2, 26)
    english = sketch_text(*ZIMBABWE_EN, published, BAN)
    later = (ZIMBABWE_ZH[0], ZIMBABWE_ZH[1] + "矿业部3月3日举行新闻发布会。")
    assert same_story(english, sketch_text(*ZIMBABWE_ZH, published, BAN))
    assert not same_story(english, sketch_text(*later, published, BAN))


def test_rewrites_naming_the_same_two_quantities_are_not_set_apart_by_other_figures() -> None:
    """Two outlets' reports of one quota cut both name its two sizes (42 million and 12
    million tonnes) and each picks other figures (a price move, a share): the figures
    they do not share make no two events. Sharing one quantity is not enough."""
    wire = sketch_text(
        "Weda Bay nickel ore quota cut",
        "Weda Bay Nickel was told to plan for 12 million wet metric tonnes of ore in 2026,"
        " down from 42 million wet metric tonnes, Eramet said; nickel rose 2.2% to $17,880.",
    )
    note = sketch_text(
        "Nickel quota reduced by 70%",
        "Weda Bay's ore quota falls to 12 million tons from 42 million tons, a cut of 71%;"
        " nickel prices jumped 2.6% in London, the biggest rise since 70% of traders said so.",
    )
    assert "figure" not in contradictions(wire, note)
    one_shared = sketch_text(
        "Weda Bay nickel ore quota",
        "Weda Bay's ore quota falls to 12 million tons from 30 million tons, a cut of 60%;"
        " nickel prices jumped 2.6% in London.",
    )
    assert "figure" in contradictions(wire, one_shared)


def test_two_rewrites_naming_one_month_of_one_year_corroborate_each_other() -> None:
    """Two outlets' rewrites of one suspension, in other words and with no day or figure
    in common, both name its period (October; 2027): a specific they share, as a day
    is. The same rewrites naming another year are two events."""
    quick_facts = sketch_text(
        "Miner to suspend West nickel operations",
        "Arvale said its West nickel operations and the Musgrave project in Australia will"
        " be suspended from October 2024, as oversupply in the global market hit"
        " prices; the company will review the decision before 2027.",
    )

    def wire(year: int) -> Sketch:
        return sketch_text(
            "Arvale suspending Australian nickel operations",
            "The producer is halting its nickel business in Australia, Musgrave included,"
            " starting from October, blaming a glut; a review of the halt is due in"
            f" {year}, executives told analysts.",
        )

    assert same_story(quick_facts, wire(2027))
    assert not same_story(quick_facts, wire(2031))


MINE_HALT = (
    "",
    "Varnok Minerals has halted work at its Tessaly zinc pit after a landslide cut the"
    " access road, the listed miner told investors, adding that no staff were hurt.",
)
MINE_HALT_REWRITE = (
    "",
    "A landslide forced Varnok Minerals to stop operations at Tessaly, its zinc"
    " operation in the outback; crews are clearing the access route, the company said.",
)


def test_shared_names_alone_do_not_join_a_loose_rewrite() -> None:
    """Two undated rewrites sharing a fifth of their words and the names of the miner and
    its mine, but no day or figure, stay apart: a company and its mine are named in every
    report of its series (as evidence, shared names joined follow-ups of one company's
    project on the dev split); the same two rewrites naming the day of the halt join."""
    first, rewrite = sketch_text(*MINE_HALT), sketch_text(*MINE_HALT_REWRITE)
    assert not same_story(first, rewrite)
    dated = sketch_text("", MINE_HALT[1] + " The halt began on May 4.")
    assert same_story(dated, sketch_text("", MINE_HALT_REWRITE[1] + " Work stopped on May 4."))


NOTICE = (
    "Pricing notice: brand amendment for nickel cathode",
    "After a consultation period, Brightmark has amended the specified brands in its"
    " nickel cathode price assessment, in-whs Antwerp. {brand} cathodes move from the"
    " alloy grade to the standard grade from the next assessment.",
)


def test_a_template_notice_on_another_company_is_another_event() -> None:
    """Two notices of one frame that differ only in the company whose brand moves are
    two events (a contradicting name); a second copy of one notice is one."""
    halvorsen = sketch_text(NOTICE[0], NOTICE[1].format(brand="Halvorsen"))
    ostrova = sketch_text(NOTICE[0], NOTICE[1].format(brand="Ostrova"))
    assert "name" in contradictions(halvorsen, ostrova)
    assert not same_story(halvorsen, ostrova)
    assert same_story(halvorsen, sketch_text(NOTICE[0], NOTICE[1].format(brand="Halvorsen")))
