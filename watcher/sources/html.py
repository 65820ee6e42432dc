"""HTML to plain text, for titles and summaries that arrive as markup."""

from __future__ import annotations

import re

_TAG_HINT = re.compile(r"<[a-zA-Z/!]|&[#a-zA-Z0-9]+;")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BLOCKS = "p, div, br, li, h1, h2, h3, h4, h5, h6, tr, blockquote, section, article"


def html_to_text(markup: str) -> str:
    """Visible text of an HTML fragment; paragraphs become blank-line separated, scripts vanish."""
    if not markup:
        return ""
    if not _TAG_HINT.search(markup):
        return _tidy(markup)
    # loaded with the first markup to read: a round with nothing new never needs it
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(markup)
    for node in tree.css("script, style, noscript, template, applet"):
        node.decompose()
    for node in tree.css(_BLOCKS):
        node.insert_after("\n\n")
    root = tree.body or tree.root
    text = root.text(separator=" ") if root is not None else ""
    return _tidy(text)


def one_line(text: str) -> str:
    """Text on one line: every run of white space (newlines included) becomes one space."""
    return " ".join(_CONTROL.sub(" ", text).split())


def _tidy(text: str) -> str:
    """Control characters as spaces; paragraphs (split at blank lines) on one line each,
    separated by one blank line."""
    text = _CONTROL.sub(" ", text.replace("\r\n", "\n"))
    if "\n" not in text:  # one paragraph (most feed text): the split below would find one
        return " ".join(text.split())
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    return "\n\n".join(p for p in paragraphs if p)
