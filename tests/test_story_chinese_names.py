"""Proper names read in Chinese text, with the keys English text gives the same names.

A Chinese report and an English one of one event share a company, mine or agency name
(`watcher.domain.chinese_names`, `watcher.domain.name_table`), and two Chinese notices
of one template naming two companies are two events (`watcher.domain.stories`).
"""

from __future__ import annotations

from datetime import date

import pytest

from watcher.domain.chinese_names import chinese_names_of, pinyin_key
from watcher.domain.name_table import NAMES
from watcher.domain.stories import (
    contradictions,
    same_story,
    script_keys,
    sketch_text,
)
from watcher.domain.story_facts import NAME, fact_values, normal_text
from watcher.domain.story_names import names_of


def _names(title: str, body: str) -> set[str]:
    return {value for kind, value in fact_values(title, body) if kind == NAME}


def test_a_company_is_read_in_pinyin_from_its_two_characters_before_a_company_word() -> None:
    """赣锋锂业, 紫金矿业集团, 天齐锂业 and 盛和资源 give the keys their English names give
    ("Ganfeng Lithium": "ganfeng"), traditional characters as simplified."""
    text = normal_text("", "赣锋锂业与紫金矿业集团宣布，天齐鋰業和盛和资源将联合开发。")
    assert chinese_names_of(text) == {"ganfeng", "zijin", "tianqi", "shenghe"}
    english = "Ganfeng Lithium, Zijin Mining, Tianqi Lithium and Shenghe Resources said."
    assert chinese_names_of(text) <= names_of(english)


@pytest.mark.parametrize(
    "text",
    [
        "自然资源部表示，锂资源开发加快，矿产资源整合。",  # a material's or a common word
        "该集团旗下企业和其他矿业公司停产。",  # function words before the company word
        "津巴布韦矿业部长和刚果矿业部长会面。",  # a country's name before 矿业
        "全球最大矿业公司与澳洲镍矿业务。",  # generic words and a material
    ],
)
def test_common_words_before_a_company_word_are_no_name(text: str) -> None:
    """Two characters that are a common word, hold a function word, end in a material or
    belong to a country's name give no pinyin name (the table's agencies are still read)."""
    assert chinese_names_of(normal_text("", text)) <= {"mnr"}


@pytest.mark.parametrize("name", NAMES, ids=lambda name: name.key)
def test_every_table_name_is_read_with_one_key_in_both_scripts(name: object) -> None:
    """Each curated name's Chinese forms (in a Chinese sentence) and English phrases (in an
    English one) are read as its key."""
    assert isinstance(name, type(NAMES[0]))
    for written in name.chinese:
        assert name.key in names_of(f"据报道，{written}周二表示将暂停出口。"), written
    for phrase in name.phrases:
        assert name.key in names_of(f"On Tuesday, {phrase} said it would stop."), phrase


def test_the_longest_table_name_is_read_where_a_shorter_one_sits_inside_it() -> None:
    """美国商务部 is the US Commerce Department, not China's 商务部 ("mofcom"); a phrase
    inside a longer word is no name."""
    assert chinese_names_of("美国商务部称") == {"us commerce department"}
    assert chinese_names_of("中国商务部和海关总署称") == {"mofcom", "gacc"}
    assert "mofcom" not in names_of("The XMOFCOMX tag and MOFCOMs are no names.")


def test_provinces_and_mining_cities_are_read_in_pinyin() -> None:
    """江西 and 赣州 are "jiangxi" and "ganzhou", as "Jiangxi province" and "Ganzhou" are."""
    assert {"jiangxi", "ganzhou"} <= chinese_names_of("江西省赣州市的稀土矿")
    assert pinyin_key("江西") == "jiangxi"
    assert {"jiangxi", "ganzhou"} <= names_of("Miners in Jiangxi province near Ganzhou said.")


ENGLISH = (
    "Lanfeng Lithium halts its Qiaoling plant",
    "Lanfeng Lithium said it had halted its lithium carbonate plant on March 3 after an"
    " inspection found safety faults, and that it expected work to resume within weeks.",
)
CHINESE = (
    "岚峰锂业碳酸锂工厂停产",
    "岚峰锂业公告称，公司于3月3日因安全检查发现问题暂停碳酸锂工厂生产，预计数周内恢复。",
)
OTHER_COMPANY = (
    "翠屏锂业碳酸锂工厂停产",
    "翠屏锂业公告称，公司于3月3日因安全检查发现问题暂停碳酸锂工厂生产，预计数周内恢复。",
)


def test_a_shared_name_and_a_shared_day_join_reports_in_two_scripts() -> None:
    """A Chinese and an English report sharing one day and the company's name report one
    event; the same Chinese report about another company shares the day alone and does
    not join (one day is not enough across scripts)."""
    when = date(2026, 3, 4)
    english = sketch_text(*ENGLISH, when=when)
    chinese = sketch_text(*CHINESE, when=when)
    assert "lanfeng" in _names(*CHINESE)
    assert same_story(english, chinese)
    assert not same_story(english, sketch_text(*OTHER_COMPANY, when=when))


def test_two_chinese_notices_of_one_frame_on_two_companies_are_two_events() -> None:
    """Two notices of one template that differ only in the company are set apart by the
    names (a contradicting name); a second copy of one notice is one event."""
    when = date(2026, 3, 4)
    lanfeng, cuiping = sketch_text(*CHINESE, when=when), sketch_text(*OTHER_COMPANY, when=when)
    assert "name" in contradictions(lanfeng, cuiping)
    assert not same_story(lanfeng, cuiping)
    assert same_story(lanfeng, sketch_text(*CHINESE, when=when))


def test_a_shared_name_counts_only_beside_a_shared_day_and_no_other_day() -> None:
    """Across scripts a company's name is evidence only with a shared pinning fact and
    when neither report names a day the other lacks: a later report recalling the day of
    the halt, dated by its own day, is another event."""
    when = date(2026, 3, 20)
    english = sketch_text(*ENGLISH, when=when)
    later = (
        "岚峰锂业碳酸锂工厂复产",
        "岚峰锂业3月18日公告称，3月3日停产的碳酸锂工厂已完成整改并恢复生产。",
    )
    assert "lanfeng" in _names(*later)
    assert not same_story(english, sketch_text(*later, when=when))
    undated = sketch_text(ENGLISH[0], ENGLISH[1].replace(" on March 3", ""), when=when)
    assert not same_story(undated, sketch_text(*CHINESE, when=when))  # a name, no day


def test_an_agency_named_by_both_is_no_evidence_of_one_event() -> None:
    """A ministry is named in every one of its announcements: two reports in two scripts
    sharing a day and MOFCOM (商务部) alone do not join; sharing a company's name do."""
    when = date(2026, 3, 4)
    english = sketch_text(
        "Ministry statement",
        "The Ministry of Commerce said on March 3 that it would review export licences.",
        when=when,
    )
    chinese = sketch_text("商务部", "商务部3月3日表示，将审查出口许可证。", when=when)
    assert "mofcom" in _names("商务部", "商务部3月3日表示，将审查出口许可证。")
    assert not same_story(english, chinese)


def test_names_are_not_filed_for_the_other_script() -> None:
    """Script keys stay the pinning facts alone: a report's company names add none (an
    English-only store would file them for nothing), so the Chinese report is filed under
    its day alone."""
    when = date(2026, 3, 4)
    chinese = sketch_text(*CHINESE, when=when)
    day_only = sketch_text("碳酸锂工厂停产", "公司于3月3日暂停碳酸锂工厂生产。", when=when)
    assert "lanfeng" in _names(*CHINESE)
    assert script_keys(chinese) == script_keys(day_only)
    assert len(script_keys(chinese)[0]) == 1
