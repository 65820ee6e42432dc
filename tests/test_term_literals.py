"""An ASCII term is folded once before its braces are expanded (`watcher.domain.terms`):
the phrases it spells must be exactly those of folding each phrase on its own."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from watcher.domain.folding import fold, fold_lower
from watcher.domain.terms import (
    Gapped,
    Literal,
    TermError,
    check_term,
    expand_braces,
    parse_term,
)

RULES = Path(__file__).resolve().parent.parent / "config" / "rules.yaml"


def _phrase_by_phrase(raw: str, cased: bool) -> list[Literal]:
    """The literals of a plain term (no `re:`, no `...`), each phrase folded on its own."""
    out = []
    for phrase in expand_braces(raw.strip()):
        wildcard = phrase.endswith("*")
        body = phrase[:-1] if wildcard else phrase
        key = " ".join((fold(body) if cased else fold_lower(body)).split())
        out.append(Literal(key, wildcard, cased))
    return out


def _default_terms() -> list[str]:
    concepts = yaml.safe_load(RULES.read_text(encoding="utf-8"))["concepts"]
    found: list[str] = []
    for spec in concepts.values():
        terms = spec if isinstance(spec, list) else spec.get("terms", [])
        found.extend(term for term in terms if isinstance(term, str))
    return found


@pytest.mark.parametrize("cased", [False, True])
def test_default_terms_spell_what_each_phrase_folded_spells(cased: bool) -> None:
    checked = 0
    for term in _default_terms():
        forms = parse_term(term, cased=cased)
        if term.strip().startswith("re:"):
            continue
        if isinstance(forms[0], Gapped):
            first, second = term.split(" ... ")
            assert forms[0].first == tuple(_phrase_by_phrase(first, cased)), term
            assert forms[0].second == tuple(_phrase_by_phrase(second, cased)), term
        else:
            assert forms == _phrase_by_phrase(term, cased), term
        checked += 1
    assert checked > 1_500


@pytest.mark.parametrize(
    ("term", "keys"),
    [
        ("Export-Control{s,} {Ban,HALT}", ["export controls ban", "export controls halt",
                                          "export control ban", "export control halt"]),
        ("{Held,holding}-back", ["held back", "holding back"]),
        ("in\t {2000..2002}", ["in 2000", "in 2001", "in 2002"]),
    ],
)  # fmt: skip
def test_ascii_term_folds_dashes_case_and_spaces_everywhere(term: str, keys: list[str]) -> None:
    assert [form.key for form in parse_term(term) if isinstance(form, Literal)] == keys


def test_wildcard_and_case_survive_folding_once() -> None:
    assert parse_term("Ban{s,ned}*", cased=True) == [
        Literal("Bans", True, True),
        Literal("Banned", True, True),
    ]


def test_errors_still_name_the_term_as_written() -> None:
    with pytest.raises(TermError, match="'Ban\\*ned'"):
        parse_term("Ban*ned")
    with pytest.raises(TermError, match="runs backwards"):
        parse_term("in {2018..2000}")


# Terms `parse_term` refuses, one per way a term can fail, and near misses it accepts.
BAD_AND_BORDERLINE = [
    "", "   ", "-", " - ", "*", "ban*ned", "{ban*,halt} now", "{ban,halt}* now", "{a,b}",
    "{ , -}", "{,}", "{ban,}*", "x{,*}", "{export,import ban", "export}", "{a{b}c}",
    "in {2018..2000}", "in {1..3000}", "{a,b,c,d,e,f,g,h,i,j}{a,b,c,d,e,f,g,h,i,j}{1..21}",
    "{a,b,c,d,e,f,g,h,i,j}{a,b,c,d,e,f,g,h,i,j}{1..20}", "ban ... ", " ... ban",
    "a ... b ... c", "suspend* ... {control,controls}", "suspend* ... {-,—}",
    "re:(unclosed", "re:a*", "re:(?-i:\\bUS\\b)", "re:x|", "暫停", "—", "— *",
    "{暫停,}", "{暫停,—}", "　", "Export-Control{s,} {Ban,HALT}", "ban*", "{ban}*",
    "{a,-}{-,b}", "{1..3}{-,}", "{-,}{x,y}", "{x,y}{,-}*", "{实施,生效}{后,之后}",
    "!!!", "’’", "ban *", "* ban", "-*", "a-b*", "中国*", "中*国", "\tBan\n*", "a}b",
]  # fmt: skip


def _outcome(check: Callable[[str], object], term: str) -> str:
    try:
        check(term)
    except TermError as exc:
        return f"error: {exc}"
    return "ok"


@pytest.mark.parametrize("term", BAD_AND_BORDERLINE)
def test_check_term_refuses_what_parse_term_refuses_with_its_message(term: str) -> None:
    """`check_term` raises exactly when `parse_term` does, with the same message."""
    assert _outcome(check_term, term) == _outcome(parse_term, term)


def test_check_term_accepts_every_default_term() -> None:
    """The shipped rules' terms all pass the check, as they all compile."""
    terms = _default_terms()
    assert len(terms) > 1_500
    for term in terms:
        check_term(term)
