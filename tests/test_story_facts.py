"""The fast paths of `watcher.domain.story_facts` find exactly what their plain forms find.

`_starting` puts a pattern behind a lookahead for the characters its matches begin with,
and `_Terms` finds vocabulary terms with one automaton pass instead of one search per
term. Both must change speed only: each is compared here with its plain form over texts
made of the pieces the patterns and terms are written in, glued at random (fixed seed),
with and without spaces, so that word boundaries, plurals, case and CJK all occur.
"""

from __future__ import annotations

import itertools
import random
import re
from datetime import date

import xxhash

import watcher.domain.stories as stories
import watcher.domain.story_facts as story_facts
from tests.story_facts_plain import holds_any
from watcher.domain.story_names import names_of

_PIECES = [
    *"""
    Jan. July sept Sep May march 3rd 21 12 2025 2025-02-04 1999 1,200 3.5 8.5 0 07
    $ ¥ € £ us$ US$ rmb usd cny million bn k tonnes tons t mt kg % pct percent
    per cent metric dozen eight Two eleven first second 5th quarter Q2 batch batches
    round lot no. No. number announcement in on late last during since from at near
    Monday friday Tianjin Ganzhou s S ſ K İ x - . , ( ) 月 日 份 第 批 号 季度 周 星期
    一 二 六 吨 万 亿 元 美元 稀土 中国 镓 rare earths earthy gallium galliums china
    chinese japan myanmar burma congo lithium cobalt tungsten graphite antimony
    """.split(),  # noqa: SIM905 (a word list reads better as text)
    "\n",
    *["last Friday", "late on Monday", "early on tuesday", "in May", "first-quarter", "Dec 21"],
    *["third quarter", "fourth-quarter", "q4", "until June", "through Oct.", "for March"],
    *["of sept", "since April", "during Nov", "sixth batch", "4th tranche", "Number 7"],
    *["announcement 12", "2nd allocation", "1st lot", "near Baotou", "RMB 3,000", "cny1.2万"],
    *["third round", "No. 23", "第二批", "第23号", "7月6日", "5月份", "周三", "星期日", "$8.5 bn"],
]


def _texts(count: int, seed: int) -> list[str]:
    """`count` texts of 1–12 random pieces, glued with nothing or a space."""
    rng = random.Random(seed)
    return [
        "".join(rng.choice(_PIECES) + rng.choice(("", " ", " ")) for _ in range(rng.randint(1, 12)))
        for _ in range(count)
    ]


def _fast_patterns() -> dict[str, tuple[re.Pattern[str], re.Pattern[str]]]:
    """Each module pattern made by `_starting`, by name, with its plain form."""
    out = {}
    for name, value in vars(story_facts).items():
        if isinstance(value, re.Pattern) and value.pattern.startswith("(?=["):
            _, plain = value.pattern.split("])(?:", 1)
            out[name] = (value, re.compile(plain[:-1], value.flags))
    return out


def test_every_pattern_behind_a_lookahead_matches_what_its_plain_form_matches() -> None:
    patterns = _fast_patterns()
    assert {"_MONTH_DAY", "_FIGURE", "_COUNT", "_WEEKDAY", "_QUARTER"} <= set(patterns)
    for text in _texts(4000, seed=16):
        folded = story_facts._folded(text, text.lower())
        for name, (fast, plain) in patterns.items():
            if name == "_SIGNED_FIGURE" and holds_any(folded, story_facts._LETTER_CURRENCIES):
                continue  # read only where no currency is written in letters
            found = [(m.span(), m.groups()) for m in fast.finditer(text)]
            assert found == [(m.span(), m.groups()) for m in plain.finditer(text)], (name, text)


def _plain_named(table: dict[str, list[str]], lowered: str) -> set[str]:
    """The names of `table`'s terms in `lowered`, one regular-expression search per term."""
    out = set()
    for name, words in table.items():
        for word in words:
            stem = word.rstrip("*")
            if re.search(r"[\u3400-\u9fff]", stem):
                pattern = re.escape(stem)
            else:
                tail = r"\w*" if word.endswith("*") else "s?"
                pattern = rf"\b{re.escape(stem)}{tail}\b"
            if re.search(pattern, lowered):
                out.add(name)
    return out


def test_the_term_automaton_names_what_one_search_per_term_names() -> None:
    materials, countries = story_facts.MATERIAL_TABLE, story_facts.COUNTRY_TABLE
    words = [w.rstrip("*") for table in (materials, countries) for ws in table.values() for w in ws]
    rng = random.Random(20)
    texts = _texts(1000, seed=17)
    texts += [
        "".join(rng.choice([*words, "s", "es", "x", " ", " ", "-", "y"]) for _ in range(8))
        for _ in range(3000)
    ]
    named = 0
    for text in texts:
        lowered = text.lower()
        for table, terms in (
            (materials, story_facts._material_terms()),
            (countries, story_facts._country_terms()),
        ):
            found = terms.named(lowered)
            assert found == _plain_named(table, lowered), text
            named += len(found)
    assert named > 1000


def test_one_pass_for_materials_and_countries_names_what_the_two_tables_name() -> None:
    """`_actors` (one automaton for both tables) names the materials and the countries that
    `_material_terms` and `_countries` name, a nested Chinese country name included."""
    words = [
        w.rstrip("*")
        for table in (story_facts.MATERIAL_TABLE, story_facts.COUNTRY_TABLE)
        for ws in table.values()
        for w in ws
    ]
    rng = random.Random(23)
    pieces = [*words, "印度尼西亚", "s", "es", " ", " ", "-", "y", "x"]
    both = 0
    for text in [*_texts(1000, seed=24), *("".join(rng.choices(pieces, k=6)) for _ in range(3000))]:
        lowered = text.lower()
        materials, countries = story_facts._actors(lowered)
        assert materials == story_facts._material_terms().named(lowered), text
        assert countries == story_facts._countries(lowered), text
        both += bool(materials and countries)
    assert both > 500


def test_the_figure_pass_without_lettered_currencies_finds_what_the_full_one_finds() -> None:
    """Where a text writes no currency in letters ("usd", "rmb"...), `_SIGNED_FIGURE` (tried
    at digits and currency signs alone) finds each figure `_FIGURE` finds; `_figures`
    reads the same figures whether or not it is given the text's gate words."""
    skipped = 0
    for text in _texts(6000, seed=25):
        folded = story_facts._folded(text, text.lower())
        held = story_facts._held(folded)
        assert story_facts._figures(text, held) == story_facts._figures(text), text
        if not holds_any(folded, story_facts._LETTER_CURRENCIES):
            skipped += 1
            found = [(m.span(), m.groups()) for m in story_facts._SIGNED_FIGURE.finditer(text)]
            expected = [(m.span(), m.groups()) for m in story_facts._FIGURE.finditer(text)]
            assert found == expected, text
    assert skipped > 1000


def test_the_count_and_hedge_patterns_find_what_their_first_forms_found() -> None:
    """`_COUNT` (one word boundary before a number and a number word) finds the matches of
    its first form (a lookbehind before the number), and `_HEDGE` behind its lookahead
    finds a hedge word before a figure where its plain form finds one."""
    words = "|".join(story_facts._NUMBER_WORDS)
    number = story_facts._NUMBER
    first = re.compile(rf"(?<![\w.,]){number}(?![\w.,]?\d)|\b(?:{words})\b", re.I)
    hedge = re.compile(story_facts._HEDGE.pattern.split("])(?:", 1)[1][:-1], re.I)
    rng = random.Random(26)
    hedges = ["about", "Over", "more than", "close to", "约", "逾", "超过", "nearly", "x", "ten"]
    pieces = [*_PIECES, *hedges]
    counted = hedged = 0
    for _ in range(6000):
        text = "".join(
            rng.choice(pieces) + rng.choice(("", " ")) for _ in range(rng.randint(1, 10))
        )
        found = [(m.span(), m.group()) for m in story_facts._COUNT.finditer(text)]
        assert found == [(m.span(), m.group()) for m in first.finditer(text)], text
        counted += bool(found)
        for end in range(len(text) + 1):
            start = max(0, end - 20)
            fast = story_facts._HEDGE.search(text, start, end)
            plain = hedge.search(text, start, end)
            assert (fast and fast.span()) == (plain and plain.span()), (text, end)
            hedged += plain is not None
    assert counted > 1000
    assert hedged > 1000


def test_an_ascii_item_is_sketched_as_its_text_tokens_give() -> None:
    """`sketch_text` reads an ASCII text's tokens in bytes: its shingles, words and counts
    are those of its `_normal_tokens` (stop words, numbers with thousands separators,
    texts of fewer than three tokens included)."""
    rng = random.Random(27)
    pieces = ["the", "of", "The", "3,000", "3.5", "1.2.3", "x2y", "a_b", "Gallium", "GALLIUM"]
    pieces += ["per cent", "rare earth", "said", "", ",", ".", "-", "\n", "(", "%", "Q2", "45"]
    for _ in range(3000):
        title, body = (" ".join(rng.choices(pieces, k=rng.randint(0, 9))) for _ in "tb")
        sketch = stories.sketch_text(title, body)
        toks = stories._normal_tokens(story_facts.normal_text(title, body))
        shingles, words = stories._shingled(toks, " "), stories.content_words(toks)
        assert (sketch.shingle_count, sketch.word_count) == (len(shingles), len(words))
        assert sketch.shingles == frozenset(stories._bottom_sorted(shingles)), (title, body)
        assert sketch.words == frozenset(stories._bottom_sorted(words)), (title, body)
        title_words = stories.content_words(stories.tokens(title))
        assert sketch.title_words == {stories._hash(w) for w in title_words}, title


def test_cjk_bigrams_are_pairs_of_cjk_tokens_one_after_another() -> None:
    """`content_words` pairs each CJK character that is a token of its own with the next
    one; not a CJK character inside a longer token ("ab中", a letter run), nor across
    another token."""
    cjk = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
    rng = random.Random(28)
    pieces = ["稀", "土", "中", "国", "あ", "カ", "ab中", "中c", "x", "12", "gallium", "镓"]
    paired = 0
    for _ in range(5000):
        toks = rng.choices(pieces, k=rng.randint(0, 12))
        alone = [t if len(t) == 1 and cjk.match(t) else "" for t in toks]
        pairs = {a + b for a, b in itertools.pairwise(alone) if a and b}
        words = stories.content_words(toks)
        assert {w for w in words if cjk.match(w)} == pairs, toks
        paired += bool(pairs)
    assert paired > 1000


def test_month_and_weekday_passes_skipped_by_words_find_what_they_find_unskipped() -> None:
    """`text_facts` given an ASCII text's words (`sketch_text`: its content words) reads the
    facts it reads without them: no month or weekday name, nor "quarter", is a stop word
    or short."""
    rng = random.Random(29)
    pieces = [p for p in _PIECES if p.isascii()]
    pieces += ["mayor", "market", "Mondays", "decline", "Sunday_", "JUNE", "on Sunday"]
    pieces += ["headquarters", "quarterly", "Q3", "Q5", "q"]
    when = date(2026, 12, 4)
    for _ in range(4000):
        text = "".join(
            rng.choice(pieces) + rng.choice(("", " ")) for _ in range(rng.randint(1, 12))
        )
        toks = stories._normal_tokens(text)
        words = {t.encode() for t in stories.content_words(toks)}
        assert story_facts.text_facts(text, 0, when, (), words) == story_facts.text_facts(
            text, 0, when
        ), text


def test_a_made_sketch_reads_as_its_stored_form_reads() -> None:
    """A sketch just made builds its hash sets and its facts by kind on first use; they
    are those of the sketch read back from its stored form."""
    for text in _texts(1500, seed=30):
        made = stories.sketch_text(text[:20], text, date(2026, 12, 4), [("quota", "tightening")])
        stored = stories.decode_sketch(stories.encode_sketch(made))
        assert stored is not None
        assert dict(made.by_kind) == dict(stored.by_kind), text
        assert made.of_kind(story_facts.FIGURE) == stored.of_kind(story_facts.FIGURE)
        assert (made.shingles, made.words, made.title_words) == (
            stored.shingles,
            stored.words,
            stored.title_words,
        )
        assert made == stored
        assert made.bars == stored.bars


def test_the_month_patterns_match_what_a_flat_alternation_of_months_matches() -> None:
    """`_MONTH`, the months' names as a prefix tree, finds in each month pattern what the
    names in one flat alternation, longest first, find."""
    flat = "|".join(sorted(story_facts._MONTHS, key=len, reverse=True))
    patterns = _fast_patterns()
    pieces = [*_PIECES, "Sept.", "septembers", "Junes", "mar", "Marc", "augusta", "Jul7"]
    rng = random.Random(31)
    found = 0
    for _ in range(6000):
        text = "".join(
            rng.choice(pieces) + rng.choice(("", " ")) for _ in range(rng.randint(1, 10))
        )
        for name in ("_DAY_MONTH", "_MONTH_DAY", "_MONTH_ALONE"):
            tree, plain = patterns[name]
            assert story_facts._MONTH in plain.pattern
            flat_pattern = re.compile(plain.pattern.replace(story_facts._MONTH, flat), plain.flags)
            matches = [(m.span(), m.groups()) for m in tree.finditer(text)]
            assert matches == [(m.span(), m.groups()) for m in flat_pattern.finditer(text)], text
            found += bool(matches)
    assert found > 500


def test_a_batch_is_read_with_the_year_of_its_sentence() -> None:
    """A batch or round takes the year named nearest to it in its own sentence."""
    values = story_facts.fact_values(
        "",
        "In 2025 the first batch of rare earth quotas was 135,000 t; the second round"
        " came in August. 2026年第一批稀土开采总量控制指标已下达。",
    )
    batches = {v for k, v in values if k == story_facts.ORDINAL_YEAR}
    assert batches == {"batch:1@2025", "batch:1@2026"}
    undated = story_facts.fact_values("", "The second batch of quotas was issued.")
    assert not {v for k, v in undated if k == story_facts.ORDINAL_YEAR}


def test_letters_that_case_fold_to_ascii_read_as_the_word_they_spell() -> None:
    """The patterns ignore case, so "FİRST", "sıxth", "APRİL" and "Frıday" match as the
    words they spell (Unicode case folding); their facts are those words' facts, and no
    such spelling in a feed's text can stop its items being read. Names (`NAME`) are
    read from capitals, so "BATCH" in capitals may be one: they are left out here."""
    when = date(2026, 12, 4)

    def read(text: str) -> set[tuple[int, str]]:
        values = story_facts.fact_values("", text, when)
        return {(k, v) for k, v in values if k != story_facts.NAME}

    for odd, plain in [
        ("The FİRST BATCH of 2024 quotas", "The first batch of 2024 quotas"),
        ("the sıxth round in 2025", "the sixth round in 2025"),
        ("exports fell in APRİL", "exports fell in April"),
        ("shipped on aprıl 3", "shipped on April 3"),
        ("the mine shut on Frıday", "the mine shut on Friday"),
        ("12 metric tonneſ", "12 metric tonnes"),
    ]:
        assert read(odd) == read(plain)


def test_a_chinese_day_alone_takes_its_month_from_the_publication_day() -> None:
    """ "18日" is the 18th on or before the publication day; "30日内" is a span, no day."""

    def days(body: str, when: date | None) -> set[str]:
        values = story_facts.fact_values("", body, when)
        return {v for k, v in values if k == story_facts.DAY}

    assert days("商务部18日宣布", date(2025, 12, 19)) == {"12-18"}
    assert days("海关总署30日公布", date(2026, 1, 2)) == {"12-30"}
    assert days("自12月1日起实施，30日内完成审查", date(2025, 12, 2)) == {"12-01"}
    assert days("商务部18日宣布", date(2025, 3, 1)) == {"02-18"}
    assert not days("商务部18日宣布", None)


def test_an_announcement_number_takes_only_the_year_written_next_to_it() -> None:
    """ "No. 5 of 2026" and "2026年第5号" are one number of one year; a year further off
    in the sentence ("suspends No. 12 until March 2027") is not its year."""

    def numbered(body: str) -> set[str]:
        values = story_facts.fact_values("", body)
        return {v for k, v in values if k == story_facts.ORDINAL_YEAR}

    assert numbered("MOFCOM issued Announcement No. 5 of 2026 on graphite.") == {"no:5@2026"}
    assert numbered("商务部发布2026年第5号公告，对石墨实施出口管制。") == {"no:5@2026"}
    assert numbered("Announcement [2023] No. 23 covers gallium.") == {"no:23@2023"}
    assert not numbered("The order suspends Announcement No. 12 until the end of March 2027.")


def test_named_days_are_dated_in_the_year_nearest_the_publication_day() -> None:
    """Days carry no year: "December 30" read in a text of January 2 is last year's."""
    facts = story_facts.facts_of("", "Rules of December 30 take effect on January 5.")
    assert story_facts.named_dates(facts, date(2026, 1, 2)) == {
        date(2025, 12, 30),
        date(2026, 1, 5),
    }
    assert story_facts.named_dates(facts, date(2025, 7, 1)) == {
        date(2025, 12, 30),
        date(2025, 1, 5),
    }


def test_a_number_in_chinese_numerals_is_the_number_in_digits() -> None:
    """ "2026年第一号公告" is "Announcement No. 1 of 2026", "第二十三号" No. 23 and
    "第十二批" the twelfth batch, in either Chinese script; "第一百零五号" is No. 105."""

    def ordinals(body: str) -> set[str]:
        values = story_facts.fact_values("", body)
        return {v for k, v in values if k in (story_facts.ORDINAL, story_facts.ORDINAL_YEAR)}

    expected = {"no:1", "no:1@2026"}
    assert ordinals("商務部發佈2026年第一號公告。") == expected
    assert ordinals("MOFCOM Announcement No. 1 of 2026") == expected
    assert ordinals("商务部公告第二十三号") == {"no:23"}
    assert ordinals("第十二批指标") == {"batch:12"}
    assert ordinals("第一百零五号") == {"no:105"}


def test_m_and_mn_after_a_currency_or_before_a_unit_are_millions() -> None:
    """ "$39m" is "$39 million" (approximate: two digits and a scale word), "US$128.1m"
    "128.1 million usd", "12mn tonnes" 12 million tonnes; "a 3 m seam" names no figure."""

    def figures(body: str) -> set[str]:
        return {v for k, v in story_facts.fact_values("", body) if k == story_facts.FIGURE}

    assert figures("a $39m restart") == figures("a $39 million restart") == {"~39 million usd"}
    assert figures("US$128.1m in sales") == {"128.1 million usd"}
    assert figures("12mn tonnes of ore") == {"~12 million t"}
    assert not figures("a 3 m seam")
    assert figures("300mt of ore") == {"300 t"}


def test_wet_and_dry_metric_tonnes_are_tonnes() -> None:
    """An ore quota in "wet metric tonnes" (or "wmt") is the tonnage another outlet writes
    as "tons": "12 million wet metric tonnes" and "12 million tons" are one figure."""

    def figures(body: str) -> set[str]:
        return {v for k, v in story_facts.fact_values("", body) if k == story_facts.FIGURE}

    tons = figures("a quota of 12 million tons")
    assert tons == {"~12 million t"}
    assert figures("a quota of 12 million wet metric tonnes") == tons
    assert figures("a quota of 12 million wmt") == tons
    assert figures("5,000 dry metric tonnes") == figures("5,000 metric tonnes") == {"5000 t"}


def test_the_actors_of_supply_news_beyond_rare_earths_are_named() -> None:
    """Nickel, uranium and Zimbabwe are actors as rare earths and China are, in English
    and Chinese; "印度尼西亚" is Indonesia alone, not India too; "内蒙古" is no country."""

    def actors(body: str) -> set[str]:
        values = story_facts.fact_values("", body)
        kinds = (story_facts.MATERIAL, story_facts.COUNTRY)
        return {v for k, v in values if k in kinds}

    assert actors("Zimbabwe bans lithium exports") == {"Zimbabwe", "Li"}
    assert actors("哈萨克斯坦减少铀产量") == {"Kazakhstan", "U"}
    assert actors("BHP shuts its nickel operations in Western Australia") == {"Ni", "Australia"}
    assert actors("印度尼西亚镍矿出口") == {"Indonesia", "Ni"}
    assert actors("印度和印度尼西亚") == {"India", "Indonesia"}
    assert actors("内蒙古稀土") == {"REE"}


# `holds_any` pre-checks: each skipped pattern, and the words one of which it must hold
_GATED = [
    ("_WEEKDAY", [story_facts._WEEKDAY_WORDS]),
    ("_DAY_MONTH", [story_facts._MONTH_STEMS]),
    ("_MONTH_DAY", [story_facts._MONTH_STEMS]),
    ("_MONTH_ALONE", [story_facts._MONTH_STEMS]),
    ("_QUARTER", [story_facts._QUARTER_WORDS]),
    ("_ORDINAL", [story_facts._ORDINAL_WORDS, story_facts._SERIES_WORDS]),
    ("_NUMBERED", [story_facts._NUMBERED_WORDS]),
]
# characters that match an ASCII letter ignoring case and do not lower-case to it alone
_CASE_PIECES = ["ı", "İ", "ſ", "fİrst", "FIRST", "aprıl", "İN", "sıxth", "MAY", "Q3", "NO."]


def test_a_pattern_is_skipped_only_where_it_can_match_nothing() -> None:
    """Where a text holds none of a gated pattern's words, the pattern finds nothing in it."""
    rng = random.Random(21)
    pieces = [*_PIECES, *_CASE_PIECES]
    texts = [
        "".join(rng.choice(pieces) + rng.choice(("", " ")) for _ in range(rng.randint(1, 10)))
        for _ in range(6000)
    ]
    skipped = found = 0
    for text in texts:
        folded = story_facts._folded(text, text.lower())
        for name, word_lists in _GATED:
            matches = list(getattr(story_facts, name).finditer(text))
            if all(holds_any(folded, words) for words in word_lists):
                found += bool(matches)
            else:
                assert not matches, (name, text)
                skipped += 1
    assert skipped > 1000
    assert found > 1000


def test_a_dotted_capital_i_is_read_as_the_i_it_matches() -> None:
    """The pre-check finds "first" in "FİRST" and "sixth" in "sıxth", which the patterns
    ignoring case match, though "FİRST".lower() is "fi̇rst"."""
    for text in ("The FİRST BATCH of quotas", "the sıxth round"):
        assert story_facts._ORDINAL.search(text)
        folded = story_facts._folded(text, text.lower())
        assert holds_any(folded, story_facts._ORDINAL_WORDS)
        assert holds_any(folded, story_facts._SERIES_WORDS)


def test_a_word_is_found_where_a_word_boundary_search_finds_it() -> None:
    """`_written_as_word` agrees with `re.search(r"\\bword\\b")` on texts of glued pieces."""
    rng = random.Random(22)
    words = ["tianjin", "port", "in", "mount"]
    pieces = [*words, "x", "_", "1", " ", ",", "é", "Tianjin", "ports", "\n"]
    for _ in range(5000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
        for word in words:
            expected = re.search(rf"\b{re.escape(word)}\b", text) is not None
            assert story_facts._written_as_word(word, text) == expected, (word, text)


def test_the_script_is_that_of_more_cjk_characters_than_latin_letters() -> None:
    """`script_of` counts as a regex count of CJK characters and of [A-Za-z] would."""
    cjk, latin = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]"), re.compile("[A-Za-z]")
    for text in [*_texts(3000, seed=23), "稀土ab", "稀土abc", "ab稀", "Ωé稀", ""]:
        count = len(cjk.findall(text))
        expected = "cjk" if count and count > len(latin.findall(text)) else "latin"
        assert story_facts.script_of(text) == expected, text


def test_names_are_capitalised_words_that_are_not_common_words() -> None:
    """A name is a capitalised word the text never writes in lower case, not a country,
    material, title or other generic word, nor a word with an English ending that opens
    a sentence; an acronym among lower-case words is one, a headline in capitals, the
    title or a word in capitals longer than an acronym (a dateline) gives none."""
    title = "Varnok Zinc Output Falls At Tessaly Pit"
    body = (
        "Varnok Minerals said the Tessaly pit of its unit QZL would close. The Mine"
        " workers were told by the mine manager. Chief Executive Alma Brede said"
        " Australia's zinc and Cobalt buyers in Perth were told. BREAKING NEWS TODAY."
        " Determining the price was hard. Halvorsen cathodes move to the standard grade."
        " HARLOWTON - A smelter restarted."
    )
    values = story_facts.fact_values(title, body)
    names = {value for kind, value in values if kind == story_facts.NAME}
    assert names == names_of(body)  # read from the body alone
    assert {"varnok", "tessaly", "qzl", "alma", "brede", "perth", "halvorsen"} <= names
    assert not names & {"mine", "chief", "executive", "minerals", "australia", "cobalt"}
    assert not names & {"zinc", "output", "falls", "pit", "breaking", "news", "today", "the"}
    assert "determining" not in names  # an English word's ending, opening a sentence
    assert "harlowton" not in names


def test_a_name_fact_is_its_own_kind_and_leaves_the_script_facts_as_they_were() -> None:
    """`NAME` facts live beside the `SCRIPT` facts in kind 0 without changing either
    script's stored value, and `kind_of` tells them apart."""
    assert story_facts.kind_of(story_facts.fact(story_facts.NAME, "varnok")) == story_facts.NAME
    for script in ("cjk", "latin"):
        value = story_facts.fact(story_facts.SCRIPT, script)
        assert story_facts.kind_of(value) == story_facts.SCRIPT
        assert value == xxhash.xxh32_intdigest(script.encode()) & ((1 << 28) - 1)
    facts = story_facts.facts_of("", "Varnok Minerals halted the Tessaly pit.")
    named = {f for f in facts if story_facts.kind_of(f) == story_facts.NAME}
    assert named == {story_facts.fact(story_facts.NAME, n) for n in ("varnok", "tessaly")}
