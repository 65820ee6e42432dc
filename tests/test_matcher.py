"""Term matching, table-driven from tests/data/classify/matcher.yaml, and term errors."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.conftest import DATA
from watcher.classify.matcher import MAX_EXPANSIONS, TermError, TermMatcher, expand_braces
from watcher.domain.folding import fold, fold_lower

CASES: list[dict[str, Any]] = yaml.safe_load(
    (DATA / "classify" / "matcher.yaml").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_matches(case: dict[str, Any]) -> None:
    """Every listed match is found, and nothing else, in text order."""
    matcher = TermMatcher()
    for cased, section in ((False, "terms"), (True, "cased")):
        for label, terms in case.get(section, {}).items():
            for term in terms:
                matcher.add(term, label, cased=cased)
    text = case["text"]
    found = matcher.find(fold(text), fold_lower(text))
    assert [[text[m.start : m.end], m.label] for m in found] == case["matches"]


def test_sentences_bucket_matches_and_drop_ones_across_a_boundary() -> None:
    """`bucket` puts each match in its sentence; a phrase spanning two sentences is in none."""
    matcher = TermMatcher()
    matcher.add("ban", "ban")
    matcher.add("ban on", "ban_on")
    text = "A ban. On Monday a ban on ore."
    occurrences, keys = matcher.bucket(fold(text), fold_lower(text), [(0, 6), (7, len(text))])
    assert [(text[s:e], labels) for s, e, labels in occurrences[0]] == [("ban", ("ban",))]
    assert sorted(text[s:e] for s, e, _ in occurrences[1]) == ["ban", "ban on"]
    assert keys == [{"ban"}, {"ban", "ban_on"}]


@pytest.mark.parametrize(
    ("term", "reason"),
    [
        ("re:(unclosed", "invalid regular expression"),
        ("re:x*", "matches the empty string"),
        ("de*lay", "'*' is allowed only at the end"),
        ("   ", "empty"),
        ("{a,b", "unbalanced or nested braces"),
        ("{a,{b,c}}", "unbalanced or nested braces"),
        ("{9..1}", "runs backwards"),
        ("{1..50} {1..50}", f"at most {MAX_EXPANSIONS}"),
        ("a ... b ... c", "joins exactly two phrases"),
        ("... b", "joins exactly two phrases"),
    ],
)
def test_bad_terms_are_rejected(term: str, reason: str) -> None:
    """A term that cannot be compiled raises TermError saying why."""
    with pytest.raises(TermError, match=reason):
        TermMatcher().add(term, "label")


def test_brace_expansion_spells_every_combination() -> None:
    """Groups multiply out in order; empty alternatives are kept."""
    assert expand_braces("{a,b} {x,}y") == ["a xy", "a y", "b xy", "b y"]
    assert expand_braces("no braces") == ["no braces"]
