"""Commas inside a list of minerals are no clause break (`watcher.classify.lists`)."""

from __future__ import annotations

import itertools

import pytest

from watcher.classify.lists import is_list_comma
from watcher.classify.text import clause_breaks


@pytest.mark.parametrize(
    ("text", "joined"),
    [
        ("bans gallium, germanium exports", True),
        ("halts Rare Earth, Tin output", True),
        ("cobalt, copper concentrate exports", True),
        ("curbs on magnets, oxides and metals", True),
        ("halted lithium, the ministry said", False),
        ("Beijing restricted gallium, Washington retaliated", False),
        ("in copper, supply fell", False),
        ("Output was 60,000 t", False),
    ],
)
def test_a_comma_joins_list_items_only_between_two_minerals(text: str, joined: bool) -> None:
    """The words on both sides of the comma must name a mineral or a form of one."""
    assert is_list_comma(text, text.index(","), 0, len(text)) is joined


@pytest.mark.parametrize(
    ("text", "clauses"),
    [
        (
            "China bans gallium, germanium exports, citing security",
            ["China bans gallium, germanium exports", ", citing security"],
        ),
        (
            "Rebels closed crossings, cutting off exports.",
            ["Rebels closed crossings", ", cutting off exports."],
        ),
        (
            "Officials’ note: mines halt rare earth, tin output",
            ["Officials’ note", ": mines halt rare earth, tin output"],
        ),
    ],
)
def test_a_list_comma_ends_no_clause(text: str, clauses: list[str]) -> None:
    """ASCII text and text with other characters (curly quotes) alike: the list comma
    stays inside its clause, every other comma before a space still ends one."""
    for lowered in (None, text.lower()):
        cuts = [0, *clause_breaks(text, 0, len(text), lowered), len(text)]
        assert [text[a:b] for a, b in itertools.pairwise(cuts)] == clauses
