"""An email's bytes assembled directly: the same bytes the `email` package would generate.

Building `EmailMessage` objects and flattening them (then parsing the result again to
check it) was most of the CPU of an alert. `assemble` writes the message itself: the
headers folded by `MAIL_POLICY` (those that repeat from email to email folded once and
reused, `headers.reused_header`), Subject by `headers.fold_subject`, the parts as
multipart/alternative with the transfer encoding `encode_text` chooses, the
quoted-printable bodies line by line as `qp_body` writes them (byte for byte
`email.quoprimime.body_encode`), each line of a template encoded once per process.

`Assembled.check` is the cheap structural check run on every email before it is sent
(one header line per header set, in order, no bare CR or LF, the boundary exactly
where it was written); `check_assembled` parses the bytes back with the standard
parser (`policy.default`, as a mail client reads them) and compares everything a reader
sees with what was rendered. The tests and `watcher send-test` run it.
"""

from __future__ import annotations

import binascii
import codecs
import email.policy
import functools
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from typing import TYPE_CHECKING

from watcher.domain.errors import UnsafeMessageError
from watcher.notify.channels.mail.headers import (
    ALERT_HEADERS,
    MAIL_POLICY,
    fold_subject,
    name_problems,
    reused_header,
)

if TYPE_CHECKING:
    import jinja2

CRLF = b"\r\n"
_UNSAFE = re.compile(rb"[^\t\n\r\x20-\x7e]+")  # what quoted-printable escapes, but `=`
_LINE_BREAK = re.compile(r"[\r\n\x00]")
_SIMPLE = re.compile(r"[!-~]+(?: [!-~]+)*")  # printable ASCII words, single spaces


def qp_body(data: bytes, maxlinelen: int = 78) -> str:
    """`email.quoprimime.body_encode(data.decode("latin-1"), maxlinelen)`, faster.

    The escaping is two passes over the bytes (`_escape_all`; the stdlib translates
    character by character); the line breaking is its own (`_qp_lines`).
    """
    if not data:
        return ""
    body = _escape_all(data)
    encoded = _qp_lines(body.splitlines(), maxlinelen)
    if body[-1] in "\r\n":
        encoded.append("")
    return "\n".join(encoded)


def _escape_all(data: bytes) -> str:
    """`data` with every byte quoted-printable must escape written `=XX`.

    `=` first, by a plain replace (HTML's attributes hold dozens). The other bytes to
    escape are found by `bytes.translate` (`_QP_SAFE` deleted, what is left must be
    escaped). When they are all non-ASCII and `data` is UTF-8 (every rendered part),
    the ASCII codec finds their runs and `_qp_escape_runs` writes them; else (control
    characters, other bytes) a regular expression does (a few times slower: its scan
    of a long part costs more than the codec's).
    """
    escaped = data.replace(b"=", b"=3D")
    unsafe = data.translate(None, _QP_SAFE)
    if not unsafe:
        return escaped.decode("ascii")
    if not unsafe.translate(None, _HIGH_BYTES):
        try:
            text = escaped.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return text.encode("ascii", _QP_ERRORS).decode("ascii")
    return _UNSAFE.sub(_escape, escaped).decode("ascii")


def _qp_escape_runs(error: UnicodeError) -> tuple[str, int]:
    """The codec error handler of `_escape_all`: a run of non-ASCII characters as the
    `=XX` escapes of its UTF-8 bytes."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    run = error.object[error.start : error.end].encode("utf-8")
    return _escaped(run).decode("ascii"), error.end


_QP_SAFE = bytes([9, 10, 13, *range(0x20, 0x7F)])  # what quoted-printable writes as it is
_HIGH_BYTES = bytes(range(0x80, 0x100))
_QP_ERRORS = "supply-watcher-qp-escape"
codecs.register_error(_QP_ERRORS, _qp_escape_runs)


def _qp_lines(lines: list[str], maxlinelen: int) -> list[str]:
    """Escaped lines (no line breaks left in them) broken with soft line breaks as
    `email.quoprimime.body_encode` breaks them, trailing white space escaped."""
    soft_break = "=\n"
    maxlinelen1 = maxlinelen - 1
    encoded: list[str] = []
    append = encoded.append
    for line in lines:
        if len(line) <= maxlinelen and line[-1:] not in (" ", "\t"):
            append(line)  # what the loop below leaves of a short line not ending in blank
            continue
        start = 0
        laststart = len(line) - 1 - maxlinelen
        while start <= laststart:
            stop = start + maxlinelen1
            if line[stop - 2] == "=":
                append(line[start : stop - 1])
                start = stop - 2
            elif line[stop - 1] == "=":
                append(line[start:stop])
                start = stop - 1
            else:
                append(line[start:stop] + "=")
                start = stop
        if line and line[-1] in " \t":
            room = start - laststart
            if room >= 3:
                tail = f"={ord(line[-1]):02X}"
            elif room == 2:
                tail = line[-1] + soft_break
            else:
                tail = f"{soft_break}={ord(line[-1]):02X}"
            append(line[start:-1] + tail)
        else:
            append(line[start:])
    return encoded


def _escape(match: re.Match[bytes]) -> bytes:
    return _escaped(match.group())


@functools.lru_cache(maxsize=4096)
def _escaped(run: bytes) -> bytes:
    """`=XX` for each byte of `run` (the same few runs, `…` or `·`, recur in every email)."""
    return b"=" + run.hex("=").upper().encode("ascii")


def wordwrap(
    environment: jinja2.Environment,
    text: str,
    width: int = 79,
    break_long_words: bool = True,
    wrapstring: str | None = None,
    break_on_hyphens: bool = True,
) -> str:
    """Jinja's `wordwrap` filter, the same text (`wrap_text`). Registered as a filter that
    receives the environment (`jinja2.pass_environment`) by
    `watcher.notify.channels.mail.alert.templates`, so that this module imports no jinja2.
    """
    newline = environment.newline_sequence if wrapstring is None else wrapstring
    return wrap_text(text, width, break_long_words, newline, break_on_hyphens)


def wrap_text(
    text: str,
    width: int = 79,
    break_long_words: bool = True,
    newline: str = "\n",
    break_on_hyphens: bool = True,
) -> str:
    """What Jinja's `wordwrap` filter gives for `text`, without `textwrap` for the common lines.

    A printable line of words between single spaces (`textwrap` drops a chunk that
    `str.strip` empties) with no word longer than `width` is wrapped greedily here
    (`_greedy`: what `textwrap` does with it) unless a hyphenated word at a line's end
    could be broken at a hyphen; any other line is wrapped by `textwrap` with the
    filter's settings (`_textwrap`).
    """
    out = []
    for line in text.splitlines():
        if not line:
            out.append("")  # what `textwrap` makes of an empty line
            continue
        # single spaces between words: no other white space (every other white space
        # character is unprintable), no space doubled, leading or trailing
        if line.isprintable() and "  " not in line and line[0] != " " and line[-1] != " ":
            wrapped = _greedy(width).findall(line)
            # the lines rejoin to `line` unless a word is longer than `width` (the
            # pattern then skips to a part of it that fits); `textwrap` may break a
            # hyphenated word after a hyphen, never before the first `-` past its first
            # character: when not even that much fits, it moves the whole word to the
            # next line too, otherwise it decides itself
            if " ".join(wrapped) == line and (
                not break_on_hyphens
                or "-" not in line
                or not any(
                    _hyphen_fits(before, after, width)
                    for before, after in itertools.pairwise(wrapped)
                )
            ):
                out.extend(wrapped)
                continue
        out.append(_textwrap(line, width, break_long_words, newline, break_on_hyphens))
    return newline.join(out)


@functools.lru_cache(maxsize=16)
def _greedy(width: int) -> re.Pattern[str]:
    """The lines of a greedy wrap at `width` of words between single spaces: as many
    words as fit, then the space after them (or the end)."""
    return re.compile(f"(.{{1,{width}}})(?: |$)")


def _hyphen_fits(before: str, after: str, width: int) -> bool:
    """Whether the first word of `after` could be broken at a hyphen onto `before`."""
    hyphen = after.split(" ", 1)[0].find("-", 1)
    return hyphen > 0 and len(before) + 1 + hyphen <= width


def _textwrap(
    line: str, width: int, break_long_words: bool, newline: str, break_on_hyphens: bool
) -> str:
    """One line (no line break in it) as Jinja's `do_wordwrap` wraps it: `textwrap.wrap`
    with tabs and white space kept, the pieces joined by `newline`."""
    import textwrap

    return newline.join(
        textwrap.wrap(
            line,
            width=width,
            expand_tabs=False,
            replace_whitespace=False,
            break_long_words=break_long_words,
            break_on_hyphens=break_on_hyphens,
        )
    )


def folded(name: str, value: str, *, reused: bool = False) -> bytes:
    """`name: value` as `MAIL_POLICY` folds it (CRLF-terminated), Subject by `fold_subject`.

    `reused`: a value many emails share, parsed and folded once. A short value of
    printable ASCII words is written as it is, which is what folding it gives. A value
    holding CR, LF or NUL is refused (`UnsafeMessageError`).
    """
    if reused:
        line = _FOLDED_LINES.get((name, value))
        if line is not None:
            return line
    if _LINE_BREAK.search(value):
        raise UnsafeMessageError(f"refused to write a line break inside {name}")
    if name.lower() == "subject":
        return fold_subject(name, value, "\r\n", MAIL_POLICY.max_line_length).encode("ascii")
    if reused:
        if len(_FOLDED_LINES) >= 4096:
            _FOLDED_LINES.clear()
        line = _FOLDED_LINES[name, value] = MAIL_POLICY.fold_binary(
            name, reused_header(name, value)
        )
        return line
    width = 998 if name.lower().startswith("list-") else (MAIL_POLICY.max_line_length or 78)
    if len(name) + 2 + len(value) <= width and _SIMPLE.fullmatch(value):
        return f"{name}: {value}\r\n".encode("ascii")
    return MAIL_POLICY.fold_binary(name, MAIL_POLICY.header_store_parse(name, value)[1])


_FOLDED_LINES: dict[tuple[str, str], bytes] = {}
"""`folded(name, value, reused=True)` by (name, value): checked and folded once."""


@dataclass(frozen=True, slots=True)
class Part:
    """One alternative: its subtype, transfer encoding and encoded payload as written
    (`data`: CRLF lines), and the rendered text's UTF-8 lines."""

    subtype: str
    encoding: str
    data: bytes
    lines: tuple[bytes, ...]

    @classmethod
    def of(cls, text: str, subtype: str) -> Part:
        """`text` (UTF-8) as a `text/<subtype>` part, encoded as `encode_text` chooses."""
        lines = text.encode("utf-8").splitlines()
        encoding, data = _encode_lines(lines)
        return cls(subtype, encoding, data, tuple(lines))

    @property
    def payload(self) -> str:
        """The encoded payload, its lines ended by `\\n` (as `encode_text` gives it)."""
        return self.data.decode("ascii", "surrogateescape").replace("\r\n", "\n")

    @property
    def text(self) -> str:
        """What the part decodes to: the rendered text, its lines ended by `\\n`."""
        return (b"\n".join(self.lines) + b"\n").decode("utf-8")


def encode_text(text: str) -> tuple[str, str]:
    """(transfer encoding, payload) for UTF-8 `text`, chosen as `email.contentmanager` does.

    7bit when ASCII in short lines, else 8bit when the lines are short (MAIL_POLICY's
    `cte_type` is 8bit), else quoted-printable or base64, whichever is shorter on the
    first ten lines. The payload's lines end with `\\n`.
    """
    encoding, data = _encode_lines(text.encode("utf-8").splitlines())
    return encoding, data.decode("ascii", "surrogateescape").replace("\r\n", "\n")


def _encode_lines(lines: list[bytes]) -> tuple[str, bytes]:
    """`encode_text` for the text's UTF-8 lines (`bytes.splitlines()`), the payload's
    lines ended by CRLF as they are sent."""
    if max(map(len, lines), default=0) <= _LIMIT:
        body = CRLF.join(lines) + CRLF
        if body.isascii():
            return "7bit", body
        if MAIL_POLICY.cte_type == "8bit":
            return "8bit", body
    # `qp_body` encodes line by line: each line escaped and broken on its own
    # (`bytes.splitlines` left no CR or LF in a line, and every other character
    # `str.splitlines` breaks at is escaped), so a line's encoding is looked up
    # (`_qp_encoded`); the first ten lines' encoding is both the sniff's and the body's
    encoded = _qp_encoded(lines)
    sniff = CRLF.join(lines[:10]) + CRLF
    # the sniff's length as `"\\n".join([*head, ""])`: each line's and its newline, a soft
    # line break (`=\r\n` here) one character shorter
    head = sum(len(chunk) - chunk.count("\r\n") + 1 for chunk in encoded[:10])
    if head <= len(binascii.b2a_base64(sniff)):
        return "quoted-printable", ("\r\n".join(encoded) + "\r\n").encode("ascii")
    data = CRLF.join(lines) + CRLF
    step = _LIMIT // 4 * 3
    return "base64", b"".join(
        binascii.b2a_base64(data[i : i + step])[:-1] + CRLF for i in range(0, len(data), step)
    )


_LIMIT = MAIL_POLICY.max_line_length or 78


def _qp_encoded(lines: list[bytes]) -> list[str]:
    """Each line quoted-printable (`_qp_lines`), its soft line breaks CRLF.

    Most lines of an alert are the template's own and recur in every email: each is
    escaped and broken once per process (`_QP_LINES`), not once per email. The lines
    not seen before are escaped together, in one pass.
    """
    found = _QP_LINES
    encoded: list[str | None] = list(map(found.get, lines))
    new = _positions_of_none(encoded)
    if new:
        if len(found) + len(new) > QP_LINES:
            found.clear()
        escaped = _escape_all(b"\n".join([lines[i] for i in new])).split("\n")
        for index, line in zip(new, escaped, strict=True):
            if len(line) > _LIMIT or line[-1:] in (" ", "\t"):
                line = "\r\n".join(_qp_lines([line], _LIMIT))
            # else: what `_qp_lines` leaves of a short line not ending in white space
            encoded[index] = found[lines[index]] = line
    return encoded  # type: ignore[return-value]  # every None replaced


def _positions_of_none(values: list[str | None]) -> list[int]:
    """Where `values` holds None, found by `list.index` (most lines are known)."""
    positions: list[int] = []
    try:
        while True:
            positions.append(values.index(None, positions[-1] + 1 if positions else 0))
    except ValueError:
        return positions


QP_LINES = 4096
_QP_LINES: dict[bytes, str] = {}
"""`_qp_encoded`'s line encodings by line, at most `QP_LINES` of them."""


@dataclass(frozen=True, slots=True)
class Assembled:
    """A message as written: its headers (name, value as set) and parts, and its bytes."""

    headers: tuple[tuple[str, str], ...]
    parts: tuple[Part, ...]
    boundary: str
    data: bytes

    def check(self) -> bytes:
        """Raise `UnsafeMessageError` unless `data` has the structure written; `data` if so.

        Cheap, for every email: the header block has one line per header set (each
        value without CR/LF, continuation lines indented), then a blank line; the
        boundary line appears exactly once per part plus the closing one.
        """
        problems = []
        head, sep, body = self.data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        starts = [
            line.split(b":", 1)[0].decode("ascii", "replace")
            for line in lines
            if line[:1] not in (b" ", b"\t")
        ]
        if starts != [name for name, _ in self.headers]:
            problems.append(f"header lines {starts}")
        # every CR and every LF of the header block is one of a CRLF pair
        crlf = head.count(b"\r\n")
        if head.count(b"\r") != crlf or head.count(b"\n") != crlf:
            problems.append("a bare CR or LF in the headers")
        if _LINE_BREAK.search("".join(value for _, value in self.headers)):
            broken = [name for name, value in self.headers if _LINE_BREAK.search(value)]
            problems.append(f"a line break inside {broken}")
        delimiter = b"--" + self.boundary.encode("ascii")
        if (
            not sep
            or body.count(delimiter) != len(self.parts) + 1
            or not body.startswith(delimiter + CRLF)
            or not body.endswith(delimiter + b"--" + CRLF)
        ):
            problems.append("the MIME structure differs from the one written")
        if problems:
            message_id = dict(self.headers).get("Message-ID", "(no Message-ID)")
            raise UnsafeMessageError(f"refused to send {message_id}: " + "; ".join(problems))
        return self.data


@dataclass(frozen=True, slots=True)
class FoldedHeaders:
    """Header lines written once for several messages: (name, value) each, as set, and
    their bytes as `folded` writes them (a value with a line break is refused there)."""

    headers: tuple[tuple[str, str], ...]
    data: bytes

    @classmethod
    def of(cls, headers: Sequence[tuple[str, str, bool]]) -> FoldedHeaders:
        """`headers` (name, value, reused) folded in order."""
        return cls(
            tuple((name, value) for name, value, _ in headers),
            b"".join(folded(name, value, reused=reused) for name, value, reused in headers),
        )


NO_HEADERS = FoldedHeaders((), b"")


def assemble(
    headers: Sequence[tuple[str, str, bool]],
    parts: Sequence[Part],
    boundary: str,
    head: FoldedHeaders = NO_HEADERS,
) -> Assembled:
    """A multipart/alternative message: `head`, then `headers` (name, value, reused), then
    `parts`.

    MIME-Version and the Content-Type with `boundary` are added after `headers`; no
    part's payload may contain `--boundary` (the caller picks the boundary). The same
    bytes as `assemble([*head's headers, *headers], ...)`.
    """
    content_type = f'multipart/alternative; boundary="{boundary}"'
    every = [*headers, ("MIME-Version", "1.0", True), ("Content-Type", content_type, True)]
    out = [head.data]
    out += [folded(name, value, reused=reused) for name, value, reused in every]
    delimiter = b"--" + boundary.encode("ascii")
    for part in parts:
        out.append(CRLF + delimiter + CRLF)
        out.append(folded("Content-Type", f'text/{part.subtype}; charset="utf-8"', reused=True))
        out.append(folded("Content-Transfer-Encoding", part.encoding, reused=True))
        out.append(CRLF)
        out.append(part.data)
    out.append(CRLF + delimiter + b"--" + CRLF)
    return Assembled(
        head.headers + tuple((name, value) for name, value, _ in every),
        tuple(parts),
        boundary,
        b"".join(out),
    )


def check_assembled(assembled: Assembled, to: str) -> EmailMessage:
    """Parse the bytes back as a mail client does and raise `UnsafeMessageError` unless a
    reader sees exactly what was written; returns the parsed message.

    The top-level headers are the ones set (each in `ALERT_HEADERS`, each once), each
    reading back as set (Subject decoded, To exactly `to`); the message is
    multipart/alternative with the parts written, in order, each decoding to its text,
    and nothing parses with a defect.
    """
    parsed = BytesParser(policy=email.policy.default).parsebytes(assembled.data)
    assert isinstance(parsed, EmailMessage)
    problems = []
    names = [name.lower() for name in parsed]
    if names != [name.lower() for name, _ in assembled.headers]:
        problems.append(f"headers {names}")
    if set(names) - ALERT_HEADERS:
        problems.append(f"unexpected headers {sorted(set(names) - ALERT_HEADERS)}")
    for name, value in assembled.headers:
        if name == "Content-Type":
            continue
        shown = str(parsed.get(name, ""))
        if name == "To":
            addresses = [a.addr_spec.lower() for a in getattr(parsed[name], "addresses", ())]
            if addresses != [to.lower()]:
                problems.append(f"To is {addresses}, expected [{to!r}]")
            else:
                raw = next(v for n, v in parsed.raw_items() if n.lower() == "to")
                problems.extend(name_problems(value, raw))
        elif shown != value:
            problems.append(f"{name} reads back as {shown!r}, set {value!r}")
    if parsed.get_content_type() != "multipart/alternative":
        problems.append(f"the message is {parsed.get_content_type()}")
    found = list(parsed.iter_parts())
    if [p.get_content_type() for p in found] != [f"text/{p.subtype}" for p in assembled.parts]:
        problems.append(f"parts {[p.get_content_type() for p in found]}")
    else:
        for index, (mine, theirs) in enumerate(zip(assembled.parts, found, strict=True), 1):
            content = str(theirs.get_content()).replace("\r\n", "\n")
            if content != mine.text.replace("\r\n", "\n"):
                problems.append(f"part {index} decodes to other text than was rendered")
    for index, part in enumerate(parsed.walk()):
        if part.defects:
            problems.append(f"part {index} does not parse cleanly: {part.defects}")
    if problems:
        message_id = dict(assembled.headers).get("Message-ID", "(no Message-ID)")
        raise UnsafeMessageError(f"refused to send {message_id}: " + "; ".join(problems))
    return parsed
