"""The passes that replace others in `watcher.domain.story_facts` find what those found.

Each cheaper pass (a pattern begun with a character class instead of a lookahead, the
month patterns tried only where a month is named, the counts in two passes, content words
by set differences) is compared with the form it replaced over texts made of pieces the
patterns are written in, glued at random (fixed seed), with and without spaces.
"""

from __future__ import annotations

import random
import re

import watcher.domain.stories as stories
import watcher.domain.story_facts as story_facts
from tests.story_facts_plain import ISO_DAY_PLAIN, PLACE_PLAIN, YEAR_PLAIN, holds_any

_PIECES = [
    *"""
    Jan. July sept Sep May march mar 3rd 21 21st 12 2025 2025-02-04 1999 1,200 3.5 0 07 19
    2025-11- 02-04 -12 x2024-01-31 _2023-07-07 2026-1-1
    20 2020% 2019t 1998tonnes 2024.5 $2025 .2021 ,2022 $ us$ tonnes t kg % in on at near
    from In At Near From during since of through until for Tianjin Ganzhou Mount Weld
    Gebeng Kuantan The Baotou dozen eight Two eleven ten Ten often tent sixty six a _
    x - . , ( ) 月 日 ſ İ K
    """.split(),  # noqa: SIM905 (a word list reads better as text)
    *["\n", "\t", "\u3000", "\u00a0", "  ", ", "],
    *["in May", "3 July", "July 3", "21st   Sept.", "until\tJune", "of\u3000dec", "1,200.5"],
    *["at Gebeng, Kuantan", "near Mount Weld", "from Ganzhou", "1.2.3", "12,5", "3.0"],
]


def _texts(count: int, seed: int) -> list[str]:
    """`count` texts of 1-14 random pieces, glued with nothing or a space."""
    rng = random.Random(seed)
    return [
        "".join(rng.choice(_PIECES) + rng.choice(("", " ")) for _ in range(rng.randint(1, 14)))
        for _ in range(count)
    ]


def test_the_year_and_place_patterns_match_what_their_plain_forms_match() -> None:
    """`_YEAR`, `_PLACE` and `_ISO_DAY`, begun with the character they consume, find the
    matches of their forms with a lookbehind or word boundary first."""
    pairs = [
        (story_facts._YEAR, re.compile(YEAR_PLAIN)),
        (story_facts._PLACE, re.compile(PLACE_PLAIN)),
        (story_facts._ISO_DAY, re.compile(ISO_DAY_PLAIN)),
    ]
    found = 0
    for text in _texts(6000, seed=41):
        for fast, plain in pairs:
            matches = [(m.span(), m.groups()) for m in fast.finditer(text)]
            assert matches == [(m.span(), m.groups()) for m in plain.finditer(text)], text
            found += bool(matches)
    assert found > 2000


def test_the_month_matches_are_those_of_the_three_month_passes() -> None:
    """`_month_matches` gives, in order, what `finditer` of `_DAY_MONTH`, `_MONTH_DAY` and
    `_MONTH_ALONE` gives over the whole text."""
    found = 0
    for text in _texts(6000, seed=43):
        fast = story_facts._month_matches(text)
        patterns = (story_facts._DAY_MONTH, story_facts._MONTH_DAY, story_facts._MONTH_ALONE)
        for matches, pattern in zip(fast, patterns, strict=True):
            expected = [(m.span(), m.groups()) for m in pattern.finditer(text)]
            assert [(m.span(), m.groups()) for m in matches] == expected, (pattern, text)
            found += bool(matches)
    assert found > 1000


def test_the_counts_in_two_passes_are_those_of_the_one_count_pattern() -> None:
    """`_DIGIT_COUNT` and `_WORD_COUNT` find what `_COUNT` finds, and `_WORD_COUNT` nothing
    where the text holds no number word (where `_counts` skips it)."""
    words = skipped = 0
    for text in _texts(6000, seed=47):
        expected = sorted((m.span(), m.group()) for m in story_facts._COUNT.finditer(text))
        digits = [(m.span(), m.group()) for m in story_facts._DIGIT_COUNT.finditer(text)]
        named = [(m.span(), m.group()) for m in story_facts._WORD_COUNT.finditer(text)]
        assert sorted(digits + named) == expected, text
        folded = story_facts._folded(text, text.lower())
        if not holds_any(folded, story_facts._NUMBER_WORDS):
            assert not named, text
            skipped += 1
        words += bool(named)
    assert words > 1000
    assert skipped > 1000


def test_content_words_by_set_differences_are_those_of_the_length_and_stop_test() -> None:
    """An ASCII text's content words (`_ascii_content_words`: its tokens less stop words
    and one- and two-letter words) are those of the test on every token."""
    rng = random.Random(53)
    pieces = [*_PIECES, "the", "a", "an", "of", "x1", "q3", "ab", "abc", "said", "3,000"]
    for _ in range(3000):
        text = " ".join(rng.choice(pieces) for _ in range(rng.randint(0, 20)))
        normal = text.encode("ascii", "ignore").decode().lower()
        toks = stories._ASCII_BYTES_TOKEN.findall(stories._THOUSANDS.sub("", normal).encode())
        plain = {t for t in toks if (len(t) > 2 or t.isdigit()) and t not in stories._STOP_BYTES}
        assert stories._ascii_content_words(toks) == plain, text
        words = {t.decode() for t in plain}
        assert stories.content_words([t.decode() for t in toks]) == words, text


_CASE_PIECES = ["ı", "İ", "ſ", "fİrst", "FIRST", "aprıl", "ſome", "ALMOST", "ten", "约", "超过"]


def test_the_gate_words_held_are_those_each_pre_check_finds() -> None:
    """`_held` finds, in one pass, a word of each pre-check's list (`_GATES`) exactly where
    `holds_any` finds one; and where a text holds no hedge word, `_HEDGE` finds nothing
    before any of its offsets (where `_approximate` skips the search)."""
    rng = random.Random(59)
    pieces = [*_PIECES, *_CASE_PIECES, *story_facts._HEDGE_WORDS, "Q3", "No.", "batch"]
    unhedged = 0
    for _ in range(4000):
        text = "".join(rng.choice(pieces) + rng.choice(("", " ")) for _ in range(rng.randint(1, 9)))
        folded = story_facts._folded(text, text.lower())
        held = story_facts._held(folded)
        for words in story_facts._GATES:
            assert (not held.isdisjoint(words)) == holds_any(folded, words), text
        if held.isdisjoint(story_facts._HEDGE_WORDS):
            unhedged += 1
            for end in range(len(text) + 1):
                assert story_facts._HEDGE.search(text, max(0, end - 20), end) is None, text
    assert unhedged > 500


_ACTOR_PIECES = [
    *"""
    China chinese tin Tint continued Mali somali rare earths earthly nickel Indonesia
    day today about over quarter ten often first batch no. announcement usd
    稀土 中国 印度尼西亚 印度 镍 周三 约 逾 — é ’ İ ſ ı
    """.split(),  # noqa: SIM905 (a word list reads better as text)
    *[" ", ", ", "\n"],
]


def test_the_actors_and_gate_words_in_one_pass_are_those_of_two() -> None:
    """`_actors_held` (one automaton, its Latin terms alone for a text without CJK) finds
    the materials, countries and gate words `_actors` and `_held` find apart."""
    rng = random.Random(38)
    for _ in range(3000):
        pieces = (rng.choice(_ACTOR_PIECES) for _ in range(rng.randint(1, 12)))
        text = "".join(piece + rng.choice(("", " ")) for piece in pieces)
        lowered = text.lower()
        folded = story_facts._folded(text, lowered)
        expected = (*story_facts._actors(lowered), story_facts._held(folded))
        assert story_facts._actors_held(lowered, folded) == expected, text


def test_the_latin_automaton_leaves_out_only_the_stems_holding_cjk() -> None:
    """A text without CJK characters can name every term of the Latin automaton's and no
    other: those left out each hold a CJK character."""
    everything = story_facts._scanned_terms(latin=False)._automaton
    latin = set(story_facts._scanned_terms(latin=True)._automaton.keys())
    left_out = set(everything.keys()) - latin
    assert left_out
    assert latin
    assert all(story_facts._CJK_CHAR.search(stem) for stem in left_out)
    assert not any(story_facts._CJK_CHAR.search(stem) for stem in latin)


def test_the_script_counts_cjk_characters_by_runs() -> None:
    """`script_of` counts CJK characters in runs: what one match a character counts."""
    for text in ["稀土 rare earths", "中国稀土集团 said", "ab中c", "ſ中文 text é", "中 a b c"]:
        cjk = len(story_facts._CJK_CHAR.findall(text))
        latin = sum(char.isascii() and char.isalpha() for char in text)
        assert story_facts.script_of(text) == ("cjk" if cjk > latin else "latin"), text
