"""Character encodings: declared (BOM, HTTP charset, XML declaration, HTML meta) or guessed.

Chinese sources label GBK or GB18030 text as `gb2312` all the time, so every GB label
decodes as GB18030, the superset. An undeclared document that is not UTF-8 is guessed
with charset-normalizer, but its guess is trusted only for the multi-byte East Asian
encodings (where it is reliable); otherwise windows-1252, the web's default
(WHATWG Encoding §4.2), is used.
"""

from __future__ import annotations

import codecs
import re

_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "csgb2312": "gb18030",
    "cp936": "gb18030",
    "ms936": "gb18030",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
}
_TRUSTED_GUESSES = {
    "gb18030",
    "big5",
    "big5hkscs",
    "shift_jis",
    "cp932",
    "euc_jp",
    "euc_kr",
    "cp949",
}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CHARSET_PARAM = re.compile(r"""charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([\w.:-]+)""", re.IGNORECASE)
_META = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?([\w.:-]+)""",
    re.IGNORECASE,
)


def normal_charset(name: str | None) -> str | None:
    """A Python codec name for a declared charset, GB labels widened; None if unknown."""
    if not name:
        return None
    label = name.strip().strip("'\"").lower()
    label = _ALIASES.get(label, label)
    try:
        return _ALIASES.get(codecs.lookup(label).name, codecs.lookup(label).name)
    except LookupError:
        return None


def header_charset(content_type: str | None) -> str | None:
    """The `charset` parameter of a Content-Type header, as a codec name."""
    match = _CHARSET_PARAM.search(content_type or "")
    return normal_charset(match.group(1)) if match else None


def declared_in_document(data: bytes) -> str | None:
    """The encoding a BOM, XML declaration or HTML meta tag names."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    head = data[:4096]
    match = _XML_DECL.match(head) or _META.search(head)
    return normal_charset(match.group(1).decode("ascii", "replace")) if match else None


def guess_charset(data: bytes) -> str | None:
    """For undeclared bytes that are not UTF-8: a trusted East Asian guess, else None."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return None
    import charset_normalizer  # 2.6 MB, loaded for the first undeclared non-UTF-8 bytes

    best = charset_normalizer.from_bytes(data[:65536]).best()
    guess = normal_charset(best.encoding) if best is not None else None
    return guess if guess in _TRUSTED_GUESSES else None


def decode_html(data: bytes, content_type: str | None) -> str:
    """HTML bytes as text: BOM, then HTTP charset, then meta, then UTF-8, then a guess."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return data.decode(name, errors="replace")
    charset = header_charset(content_type) or declared_in_document(data)
    if charset is None:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            charset = guess_charset(data) or "cp1252"
    return data.decode(charset, errors="replace")
