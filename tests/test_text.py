"""Sentences and folding, table-driven from tests/data/classify/sentences.yaml."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.conftest import DATA
from watcher.classify.text import split_sentences
from watcher.domain.folding import fold, fold_lower

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
