"""Headers built from trusted parts only, and a check of the message that was built.

Feed text reaches a header only through `clean_title`: RFC 2047 encoded words are
decoded one by one (so an encoded CR/LF is seen), then every control or separator
character becomes a space, white space is collapsed and the length capped. A word that
cannot be decoded (an unknown charset, bad base64) stays as its literal text, and every
`=?` left is broken up: the `email` package decodes encoded words in a header value it
is given, and on Python before 3.11.10 / 3.12.5 writes a CR/LF so decoded raw while
folding (CVE-2024-6923). Fail closed: a title that still would not read back as itself
is replaced by `WITHHELD_TITLE`.

An alert's bytes are written directly and checked by `mime.Assembled.check` (and
`mime.check_assembled` in the tests and `watcher send-test`). After building a message
with the `email` package (a digest), `check_headers` parses the whole serialised
message again and refuses it unless it has exactly one header block with exactly the
headers that were set (each allowed, each once, Subject and To reading back as set)
and the MIME structure that was built (the same parts, each with its own headers and
payload, no parse defects).
"""

from __future__ import annotations

import base64
import binascii
import email.policy
import functools
import re
from collections import Counter
from collections.abc import Callable
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.parser import BytesParser
from typing import Any
from urllib.parse import quote

from watcher.config import MailConfig, Subscriber
from watcher.domain.errors import UnsafeMessageError

MAX_TITLE = 120
WITHHELD_TITLE = "(title withheld: it could not be shown safely)"

ALERT_HEADERS = frozenset(
    {
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "auto-submitted",
        "list-id",
        "list-unsubscribe",
        "list-unsubscribe-post",
        "x-supply-watcher-signals",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
    }
)


class MailPolicy(email.policy.EmailPolicy):
    """The SMTP policy (CRLF, 78-column folding), except for Subject, non-ASCII display
    names and the List-* headers.

    Subject is folded by `fold_subject`: the `email` package's folding can drop the
    space after an encoded word (two encoded words with only folding white space
    between them) or double one (a line that ends in a space before the fold). An
    address header with a non-ASCII display name is folded by `fold_addresses` for the
    same reason.

    Python folds a token longer than a line into RFC 2047 encoded words, which turns a
    long `List-Unsubscribe` URI into text no mail client can follow. RFC 2369 headers
    are kept on one line instead (RFC 5322 allows up to 998 characters).
    """

    def header_max_count(self, name: str) -> int | None:
        """How many `name` headers a message may have (the registry's answer, looked up once).

        The registry makes a new header class on every lookup; `Message.__setitem__`
        asks for every header set.
        """
        return _max_count(name.lower())

    def fold(self, name: str, value: str) -> str:
        """As the SMTP policy folds it; Subject by `fold_subject`, non-ASCII display names
        by `fold_addresses`, List-* on one line."""
        own = self._own_fold(name, value)
        if own is not None:
            return own
        if name.lower() in _UNFOLDED:
            return str(_WIDE.fold(name, value))
        return str(super().fold(name, value))

    def _own_fold(self, name: str, value: str) -> str | None:
        """`name: value` as this module folds it (ASCII), or None where the `email`
        package's folding is used."""
        if name.lower() == "subject":
            return fold_subject(name, str(value), self.linesep, self.max_line_length)
        if name.lower() in _ADDRESS_HEADERS:
            return fold_addresses(name, value, self.linesep, self.max_line_length)
        return None

    def fold_binary(self, name: str, value: str) -> bytes:
        """As the SMTP policy folds it; a header made by `reused_header` is folded once.

        (The generator folds a message's parts with a clone of this policy: the folding
        settings are part of the cache key.)
        """
        text = str(value)
        if _REUSED.get((name.lower(), text)) is not value:
            return self._fold_binary(name, value)
        key = (name.lower(), text, self.linesep, self.max_line_length, self.utf8)
        folded = _FOLDED.get(key)
        if folded is None:
            folded = _FOLDED[key] = self._fold_binary(name, value)
        return folded

    def _fold_binary(self, name: str, value: str) -> bytes:
        own = self._own_fold(name, value)
        if own is not None:
            return own.encode("ascii")
        if name.lower() in _UNFOLDED:
            return _WIDE.fold_binary(name, value)
        return super().fold_binary(name, value)


@functools.lru_cache(maxsize=256)
def _max_count(name: str) -> int | None:
    return email.policy.default.header_max_count(name)


_UNFOLDED = frozenset({"list-id", "list-unsubscribe", "list-unsubscribe-post"})
_ADDRESS_HEADERS = frozenset({"from", "to", "cc", "reply-to", "sender"})
_WIDE = email.policy.SMTP.clone(max_line_length=998)
MAIL_POLICY = MailPolicy(linesep="\r\n")


def clean_title(text: str, limit: int = MAX_TITLE) -> str:
    """One printable line of at most `limit` characters (an ellipsis marks a cut).

    The line holds no encoded word (`=?` is always followed by a space) and reads back
    from a Subject header as itself; a title that would not is `WITHHELD_TITLE`.
    """
    decoded = _decode_words(text)
    printable = (
        decoded
        if decoded.isprintable()
        else "".join(c if c.isprintable() else " " for c in decoded)
    )
    flat = " ".join(printable.replace("=?", "= ?").split())
    cut = flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"
    return cut if _reads_back(cut) else WITHHELD_TITLE


def _reads_back(value: str) -> bool:
    """Whether the `email` package keeps `value` as it is when it parses a Subject.

    A printable value without `=?` is, without parsing it: an unstructured header's
    parser (`_header_value_parser.get_unstructured`) joins its words and white space
    back as they are and changes only encoded words, which start with `=?`, and lone
    surrogates, which are not printable. Every title of a round is new, so parsing each
    once was a round's largest part of cleaning its titles.
    """
    if "=?" not in value and value.isprintable():
        return True
    return _parsed_reads_back(value)


@functools.lru_cache(maxsize=1024)
def _parsed_reads_back(value: str) -> bool:
    """`_reads_back` by parsing `value` as a Subject header."""
    return str(MAIL_POLICY.header_factory("Subject", value)) == value


def recipient(subscriber: Subscriber) -> Address:
    """The `To` address: the subscriber's bare address with their configured name."""
    return _recipient(subscriber.name, subscriber.address)


@functools.lru_cache(maxsize=1024)
def _recipient(name: str, address: str) -> Address:
    """`recipient`, built once per subscriber (an `Address` is immutable)."""
    username, _, domain = address.rpartition("@")
    return Address(display_name=clean_title(name, 80), username=username, domain=domain)


def list_headers(mail: MailConfig, address: str, link: str | None = None) -> dict[str, str]:
    """List-Id and List-Unsubscribe (RFC 2369); one-click (RFC 8058) only with an https URI.

    `link` is the signed one-click URL of the public endpoint (`watcher.public.links`);
    without it, the unsigned `mail.unsubscribe_url` (if set) is offered instead.
    """
    mailto = f"mailto:{mail.unsubscribe_address}?subject={quote('unsubscribe ' + address)}"
    headers = {
        "List-Id": f"Supply Watcher alerts <alerts.{mail.domain}>",
        "List-Unsubscribe": f"<{mailto}>",
    }
    if link and link.startswith("https://"):
        headers["List-Unsubscribe"] = f"<{link}>, <{mailto}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    elif mail.unsubscribe_url:
        joiner = "&" if "?" in mail.unsubscribe_url else "?"
        url = f"{mail.unsubscribe_url}{joiner}address={quote(address, safe='')}"
        headers["List-Unsubscribe"] = f"<{url}>, <{mailto}>"
        # RFC 8058 §3.1: the one-click POST needs an HTTPS URI in List-Unsubscribe
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return headers


def check_headers(message: EmailMessage, to: str, allowed: frozenset[str] = ALERT_HEADERS) -> bytes:
    """Raise `UnsafeMessageError` unless the serialised message is the message built.

    Every header of the top-level message is in `allowed` and appears at most once, the
    subject is one line and `To` is exactly `to`; the whole serialised message, parsed
    again, has exactly the headers and the MIME parts of `message`. Returns the
    serialised message that passed: send these very bytes.
    """
    raw = message.as_bytes()
    check_serialized(message, raw, to, allowed)
    return raw


def check_serialized(
    message: EmailMessage, raw: bytes, to: str, allowed: frozenset[str] = ALERT_HEADERS
) -> None:
    """`check_headers` on `message` already serialised (`raw`, as it will be sent)."""
    message_id = str(message["Message-ID"] or "(no Message-ID)")
    # compat32 keeps each value as its raw text (no header objects to build)
    parsed = BytesParser(policy=email.policy.compat32).parsebytes(raw)
    names = Counter(name.lower() for name in parsed)
    unexpected = sorted(set(names) - allowed)
    repeated = sorted(name for name, count in names.items() if count > 1)
    problems = []
    if unexpected:
        problems.append(f"unexpected headers {unexpected}")
    if repeated:
        problems.append(f"repeated headers {repeated}")
    subject = _UNFOLD.sub("", str(parsed.get("Subject", "")))
    if "\n" in subject or "\r" in subject:
        problems.append("a line break in the subject")
    elif "Subject" in message and _decoded_subject(subject) != str(message["Subject"]):
        problems.append("Subject reads back other than it was set")
    recipients = [value for name, value in parsed.raw_items() if name.lower() == "to"]
    addresses = [a for value in recipients for a in _addresses_in(value)]
    if addresses != [to.lower()]:
        problems.append(f"To is {addresses}, expected [{to!r}]")
    elif "To" in message:
        problems.extend(name_problems(message["To"], recipients[0]))
    problems.extend(_differences(message, parsed))
    if problems:
        raise UnsafeMessageError(f"refused to send {message_id}: " + "; ".join(problems))


def _differences(built: EmailMessage, parsed: Message) -> list[str]:
    """How the re-parsed message differs from the one built, part by part."""
    built_parts, parsed_parts = list(built.walk()), list(parsed.walk())
    if len(built_parts) != len(parsed_parts):
        return [f"{len(parsed_parts)} MIME parts, {len(built_parts)} built"]
    problems = []
    for index, (mine, theirs) in enumerate(zip(built_parts, parsed_parts, strict=True)):
        where = "the message" if index == 0 else f"part {index}"
        if Counter(n.lower() for n in mine) != Counter(n.lower() for n in theirs):
            problems.append(f"{where} has headers {sorted(theirs)}, built {sorted(mine)}")
        elif mine.get_content_type() != theirs.get_content_type():
            problems.append(f"{where} is {theirs.get_content_type()}")
        elif not mine.is_multipart() and _lines(mine.get_payload()) != _lines(theirs.get_payload()):
            problems.append(f"{where} has a payload other than the one built")
        if theirs.defects:
            problems.append(f"{where} does not parse cleanly: {theirs.defects}")
    # the CVE-2024-6923 condition: a header value that holds a line break of its own
    broken = sorted(name for name, value in built.items() if _LINE_BREAK.search(str(value)))
    if broken:
        problems.append(f"a line break inside {broken}")
    message_id = str(built.get("Message-ID", ""))
    if message_id and _UNFOLD.sub("", str(parsed.get("Message-ID", ""))).strip() != message_id:
        problems.append("Message-ID reads back other than it was set")
    return problems


def name_problems(header: object, raw: str) -> list[str]:
    """How the display names of an address header set as `header` (a parsed header or
    one `Address`) fail to read back from its serialised value `raw` in an RFC 2047
    reader, which ignores the white space between two encoded words (§6.2); empty when
    they read back. ASCII names are not encoded and are not checked here."""
    addresses = getattr(header, "addresses", None)
    if addresses is None:
        addresses = (header,) if isinstance(header, Address) else ()
    names = [a.display_name for a in addresses if a.display_name]
    if all(name.isascii() for name in names):
        return []
    shown = _decode_words(_UNFOLD.sub("", raw)).strip()
    return [
        f"the display name {name!r} reads back as {shown!r}"
        for name in names
        if not name.isascii() and f"{name} <" not in shown
    ]


@functools.lru_cache(maxsize=1024)
def _decoded_subject(raw: str) -> str:
    """A serialised Subject value as a mail client shows it (encoded words decoded)."""
    return str(email.policy.default.header_fetch_parse("Subject", raw))


def _lines(payload: object) -> list[str]:
    """A payload's lines, whatever the line ending."""
    return str(payload).splitlines()


@functools.lru_cache(maxsize=1024)
def _addresses_in(raw: str) -> tuple[str, ...]:
    """The lower-cased addresses of a serialised To value, parsed as `parsed.get_all` would.

    Cached: every email to one subscriber has the same To line.
    """
    header = email.policy.default.header_fetch_parse("To", raw)
    return tuple(a.addr_spec.lower() for a in getattr(header, "addresses", ()))


def reused_header(name: str, value: object) -> Any:
    """`name: value` parsed by `MAIL_POLICY` once and reused for every later message.

    For the headers every email to a subscriber repeats (From, To, List-*): parsing a
    header value is most of the cost of setting it, and the parsed header is immutable.
    Assigning the result (`message[name] = reused_header(name, value)`) is the same as
    assigning `value`. Keyed by the value's text; at most `REUSED_HEADERS` are kept.
    """
    key = (name.lower(), str(value))
    found = _REUSED.get(key)
    if found is None:
        if len(_REUSED) >= REUSED_HEADERS:
            _REUSED.clear()
            _FOLDED.clear()
        found = _REUSED[key] = MAIL_POLICY.header_store_parse(name, value)[1]
    return found


REUSED_HEADERS = 4096
_REUSED: dict[tuple[str, str], Any] = {}
# reused headers folded, by name, value and the folding policy's settings
_FOLDED: dict[tuple[str, str, str, int | None, bool], bytes] = {}
_UNFOLD = re.compile(r"\r\n(?=[ \t])")  # RFC 5322 unfolding: a line break before white space
_LINE_BREAK = re.compile(r"[\r\n\x00]")


_ENCODED_WORD = re.compile(r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?\s]*)\?=")
# RFC 2047 §6.2: white space between two adjacent encoded words is not displayed
_BETWEEN_WORDS = re.compile(r"(?<=\?=)[ \t\r\n]+(?==\?)")


def fold_subject(name: str, value: str, linesep: str, max_line_length: int | None) -> str:
    """`name: value` folded so that a reader unfolding and decoding it gets `value` exactly.

    Printable ASCII words are written as they are; each run of consecutive words holding
    anything else (or `=?`) is one stretch of RFC 2047 `utf-8` Q encoded words, the
    spaces inside the run encoded with it. White space between two encoded words is not
    text (RFC 2047 §6.2), so a space between such words must be inside one: the `email`
    package's folding left it outside, and readers showed `reroutes…· Export`. A value
    whose spaces are not single spaces between words is encoded whole. Lines are folded
    at the spaces between words within `max_line_length` (78 when None); a word longer
    than a line stays whole (RFC 5322 allows 998 characters).
    """
    limit = max_line_length or 78
    tokens = _text_tokens(value, _room(name, limit), _plain_text)
    return _fold_tokens(name, tokens, linesep, limit)


def fold_addresses(
    name: str, header: object, linesep: str, max_line_length: int | None
) -> str | None:
    """An address header (`header`, as `MAIL_POLICY` parsed it) folded as `fold_subject`
    folds a Subject, or None when the `email` package's folding is safe or the only choice.

    The `email` package folds a long non-ASCII display name into encoded words with the
    space between two of them outside both, where an RFC 2047 reader drops it ("Zoë
    Müller" shown as "ZoëMüller"). Here each display name holding anything but RFC 5322
    atoms is written as `fold_subject` writes text (atoms as they are, every other run of
    words one stretch of encoded words, its spaces inside them), then `<addr-spec>`.
    None (fold it the usual way) for ASCII display names, which need no encoded word,
    for groups, and for non-ASCII addresses (SMTPUTF8).
    """
    addresses = tuple(getattr(header, "addresses", ()))
    groups = getattr(header, "groups", ())
    if (
        not addresses
        or all(a.display_name.isascii() for a in addresses)
        or any(group.display_name is not None for group in groups)
        or not all(a.addr_spec.isascii() for a in addresses)
    ):
        return None
    limit = max_line_length or 78
    tokens: list[str] = []
    for index, address in enumerate(addresses):
        if address.display_name:
            tokens.extend(_text_tokens(address.display_name, _room(name, limit), _atom))
        tokens.append(f"<{address.addr_spec}>" + ("," if index < len(addresses) - 1 else ""))
    return _fold_tokens(name, tokens, linesep, limit)


def _room(name: str, limit: int) -> int:
    """How many characters of data one encoded word on a line of `name` may carry."""
    return min(75, limit - len(name) - 2) - len("=?utf-8?q??=")


def _plain_text(word: str) -> bool:
    """Whether a word of unstructured text (a Subject) can be written as it is."""
    return word.isascii() and word.isprintable() and "=?" not in word


_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")  # RFC 5322 atext


def _atom(word: str) -> bool:
    """Whether a word of a display name (a phrase) can be written as it is."""
    return _ATOM.fullmatch(word) is not None and "=?" not in word


def _text_tokens(value: str, room: int, plain: Callable[[str], bool]) -> list[str]:
    """`value`'s words, the `plain` ones as they are and every run of the others as
    encoded words (`_encoded_words`); all of `value` encoded when its spaces are not
    single spaces between words."""
    words = value.split(" ")
    if "" in words and value:  # a leading, trailing or repeated space
        return _encoded_words(value, room)
    tokens: list[str] = []
    run: list[str] = []
    for word in [*words, None]:
        if word is not None and not plain(word):
            run.append(word)
            continue
        if run:
            tokens.extend(_encoded_words(" ".join(run), room))
            run = []
        if word:
            tokens.append(word)
    return tokens


def _fold_tokens(name: str, tokens: list[str], linesep: str, limit: int) -> str:
    """`name:` and `tokens` separated by single spaces, folded before a token that would
    pass `limit` (never right after the name), each line ended by `linesep`."""
    line = f"{name}:"
    lines = []
    for token in tokens:
        if len(line) + 1 + len(token) > limit and line.strip() != f"{name}:":
            lines.append(line)
            line = ""
        line += " " + token
    lines.append(line)
    return linesep.join(lines) + linesep


# RFC 2047 §5(3): what a Q encoded word in a header may carry as itself
_Q_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")


def _encoded_words(text: str, room: int) -> list[str]:
    """`text` as `=?utf-8?q?…?=` words of at most `room` characters of data (at least one
    character each), never splitting a character, and where a word must end, ending it
    after a space of `text` if one fits (a reader that keeps the white space between
    two encoded words, as Python's address parser does, then shows a space where there
    was one rather than inside a word)."""
    words = []
    data = ""
    for char in text:
        code = (
            "_"
            if char == " "
            else "".join(chr(b) if b in _Q_SAFE else f"={b:02X}" for b in char.encode("utf-8"))
        )
        if data and len(data) + len(code) > room:
            cut = data.rfind("_") + 1  # "_" is only ever a space: an underscore is =5F
            if not cut > 0 or len(data) - cut + len(code) > room:
                cut = len(data)
            words.append(f"=?utf-8?q?{data[:cut]}?=")
            data = data[cut:]
        data += code
    words.append(f"=?utf-8?q?{data}?=")
    return words


def _decode_words(text: str) -> str:
    """Each valid `=?charset?Q|B?...?=` word decoded; a word that is not valid is kept as text."""
    if "=?" not in text:
        return text
    return _ENCODED_WORD.sub(_decode_word, _BETWEEN_WORDS.sub("", text))


def _decode_word(match: re.Match[str]) -> str:
    """One encoded word's text, or the word itself when its charset or data is unknown."""
    charset, encoding, data = match.group(1), match.group(2).lower(), match.group(3)
    try:
        if encoding == "q":
            raw = re.sub(
                rb"=([0-9A-Fa-f]{2})",
                lambda m: bytes([int(m.group(1), 16)]),
                data.replace("_", " ").encode("ascii"),
            )
        else:
            raw = base64.b64decode(data + "=" * (-len(data) % 4), validate=True)
        return raw.decode(charset)
    except (LookupError, UnicodeError, binascii.Error, ValueError):
        return match.group(0)
