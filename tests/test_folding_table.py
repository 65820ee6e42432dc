"""The traditional → simplified character table `watcher.domain.folding` builds at start-up."""

from __future__ import annotations

import opencc

from watcher.domain.folding import _IDEOGRAPH_RANGES, _character_table, _simplifier


def test_table_is_each_ideograph_converted_on_its_own() -> None:
    """The table built a block at a time is OpenCC's conversion of each character alone."""
    convert = opencc.OpenCC("t2s").convert
    expected = {}
    for low, high in _IDEOGRAPH_RANGES:
        for code in range(low, high):
            char = chr(code)
            out = convert(char)
            if out != char and len(out) == 1:
                expected[char] = out
    simplifier = _simplifier()
    assert simplifier.chars == expected
    assert len(expected) > 4_000  # the tables cover thousands of traditional characters
    assert simplifier.traditional.pattern == f"[{''.join(sorted(expected))}]"


def test_table_skips_characters_that_convert_to_several() -> None:
    """A conversion that changes a line's length (here 㐀 → two letters) is read line by line."""

    def convert(text: str) -> str:
        return text.replace("\u3400", "ab").replace("\u3401", "\u4e00")

    assert _character_table(convert) == ("\u3401", "\u4e00")
