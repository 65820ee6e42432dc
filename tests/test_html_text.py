"""HTML and plain feed text to tidy plain text (`watcher.sources.html`)."""

from __future__ import annotations

import random
import re

from watcher.sources.html import _CONTROL, html_to_text, one_line


def _reference_tidy(text: str) -> str:
    """The tidying rule spelled out: every paragraph split at blank lines, then joined."""
    text = _CONTROL.sub(" ", text.replace("\r\n", "\n"))
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    return "\n\n".join(p for p in paragraphs if p)


def test_plain_text_is_tidied_by_the_paragraph_rule() -> None:
    """Text without markup, with and without line breaks, white space and control
    characters of every kind, tidies exactly as the paragraph rule says."""
    rng = random.Random(7)
    alphabet = "ab 1\n\r\t\x00\x07\x0b\x0c\x1c\x1f\x85\u2028\u3000é中"
    texts = ["", " ", "\n", "a\r\nb", "one  two\tthree", "p1\n\np2", "p1\n \n\np2\n"]
    texts += [
        "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 30))) for _ in range(3000)
    ]
    for text in texts:
        assert html_to_text(text) == _reference_tidy(text), repr(text)


def test_markup_becomes_paragraphs_and_scripts_vanish() -> None:
    """Block elements end paragraphs; scripts and styles leave no text; entities decode."""
    markup = "<p>Export <b>ban</b> &amp; quota</p><script>x()</script><div>Second\n line</div>"
    assert html_to_text(markup) == "Export ban & quota\n\nSecond line"
    assert one_line(html_to_text(markup)) == "Export ban & quota Second line"
