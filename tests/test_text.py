"""Sentences and folding, table-driven from tests/data/classify/sentences.yaml."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import yaml

from tests.conftest import DATA
from watcher.classify.text import _CLAUSE_MARK, _CLAUSE_WORD, clause_breaks, split_sentences
from watcher.domain.folding import fold, fold_lower, simplify

CASES: list[dict[str, Any]] = yaml.safe_load(
    (DATA / "classify" / "sentences.yaml").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_split_sentences(case: dict[str, Any]) -> None:
    """The text splits into exactly the listed sentences, offsets pointing into the text."""
    text = case["text"]
    assert [text[s.start : s.end] for s in split_sentences(text)] == case["sentences"]


def test_offsets_are_shifted() -> None:
    """An offset moves every sentence by that much (the body after a title)."""
    sentences = split_sentences("One. Two.", offset=10)
    assert [(s.start, s.end) for s in sentences] == [(10, 14), (15, 19)]


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("ion-adsorption", "ion adsorption"),
        ("line\nbreak\ttab", "line break tab"),
        ("“quoted” ‘single’", "\"quoted\" 'single'"),
        ("en–dash em—dash", "en dash em dash"),
        ("稀土\u3000出口", "稀土 出口"),
        ("暫停實施出口管制", "暂停实施出口管制"),
        ("緬甸礦區仍未復工。", "缅甸矿区仍未复工。"),
    ],
)
def test_fold_keeps_length(text: str, folded: str) -> None:
    """Folding replaces dashes, breaks and curly quotes one for one, keeping offsets."""
    assert fold(text) == folded
    assert len(fold_lower(text)) == len(text)


def test_fold_lower_keeps_length_of_odd_characters() -> None:
    """A character whose lower case is longer (İ) is kept, so offsets stay valid."""
    text = "İstanbul Dy"
    assert len(fold_lower(text)) == len(text)
    assert fold_lower(text).endswith("dy")


def test_simplify_keeps_simplified_and_latin_text_as_it_is() -> None:
    """Text without traditional characters comes back unchanged (and is not converted)."""
    for text in ("Export controls on gallium.", "商务部暂停实施出口管制", ""):
        assert simplify(text) == text


def test_simplify_keeps_length_on_long_mixed_text() -> None:
    """Every traditional ideograph maps to one simplified one, so offsets never move."""
    text = "中國商務部宣佈，對鎵、鍺相關物項實施出口管制（2023年8月1日起）。" * 20
    assert len(simplify(text)) == len(text)
    assert simplify(text).startswith("中国商务部宣布")


@pytest.mark.parametrize(
    ("text", "clauses"),
    [
        (
            "Rebels closed crossings, cutting off exports.",
            ["Rebels closed crossings", ", cutting off exports."],
        ),
        ("Output was 60,000 t; exports fell", ["Output was 60,000 t", "; exports fell"]),
        ("Mines closed but trucks still cross", ["Mines closed ", "but trucks still cross"]),
        ("矿区停产，原料偏紧", ["矿区停产", "，原料偏紧"]),
        ("矿区停产,2025年原料偏紧", ["矿区停产", ",2025年原料偏紧"]),
        ("Output was 60,2025", ["Output was 60,2025"]),
    ],
)
def test_clause_breaks(text: str, clauses: list[str]) -> None:
    """Commas before a space or after an ideograph, semicolons, 'but' and Chinese commas
    end a clause; a thousands separator does not."""
    cuts = [0, *clause_breaks(text, 0, len(text)), len(text)]
    assert [text[a:b] for a, b in itertools.pairwise(cuts)] == clauses


# Sentences where the marks and joining words sit at the edges: the ASCII search must give
# the regex's offsets (a comma at the sentence's end has nothing after it inside the
# sentence; "though" inside "although" and "but" inside "_but" are no words; a dash
# run needs white space on both sides).
EDGES = [
    "Output fell: exports, too:",
    "However, although it rained, mines worked though slowly but surely",
    "A_but b butx xbut but",
    "Prices - at last -- rose; buyers-waited -x- then - ",
    "Tabs\t-\tand\nlines\n-\nsplit,\tagain,\nand:\rdone",
    "虽然而但，价格:上涨,2025年 but café-x — 不過;尽管 –",
]


@pytest.mark.parametrize("text", EDGES)
def test_clause_breaks_are_the_regex_offsets(text: str) -> None:
    """Every sentence span gets the offsets the clause regexes find (ASCII text is
    searched without them; other text only when a sentence holds a mark or word)."""
    lowered = text.lower()
    for start in range(len(text)):
        for end in range(start + 1, len(text) + 1):
            marks = [m.start() for m in _CLAUSE_MARK.finditer(text, start, end)]
            words = [m.start() for m in _CLAUSE_WORD.finditer(lowered, start, end)]
            assert clause_breaks(text, start, end, lowered) == sorted(marks + words)


def test_period_only_text_splits_as_one_with_other_marks() -> None:
    """A text whose only mark is the period (its own quick regex) splits where the same
    text with a question elsewhere does."""
    body = "Dr. Smith said U.S. output rose 3.5 pct. Exports fell. J. Doe agreed."
    split = split_sentences(body)
    asked = split_sentences(f"{body} Why?")
    assert asked[: len(split)] == split
    assert [body[s:e] for s, e in split] == [
        "Dr. Smith said U.S. output rose 3.5 pct.",
        "Exports fell.",
        "J. Doe agreed.",
    ]
