"""feedparser with the memoised URL helpers and plain-key `get` parses as feedparser does."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.corpus import CORPUS
from watcher.sources.feedparsing import load_feedparser

# Prints one line per document of the feedparser corpus: feedparser's whole result (the
# exception's type and text instead of the exception object, whose repr is an address).
# argv[1] "plain" leaves feedparser as it is; "patched" loads it through load_feedparser.
_DUMP = """
import io, sys
from pathlib import Path
from watcher.sources import feedparsing
if sys.argv[1] == "plain":
    feedparsing._patched = True  # as if applied: load_feedparser returns it untouched
feedparser = feedparsing.load_feedparser()
for path in sorted(Path(sys.argv[2]).rglob("*.xml")):
    result = feedparser.parse(io.BytesIO(path.read_bytes()),
                              response_headers={"content-location": "http://example.com/a/"})
    problem = result.pop("bozo_exception", None)
    print(path.name, repr(result), type(problem).__name__, str(problem))
"""


def _dump(mode: str) -> list[str]:
    return subprocess.run(
        [sys.executable, "-c", _DUMP, mode, str(CORPUS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()


@pytest.mark.skipif(
    not CORPUS.is_dir(),
    reason=f"the feedparser corpus is not at {CORPUS} (../shared is absent outside CI)",
)
def test_the_corpus_parses_to_the_same_results() -> None:
    """Every document of feedparser's own test corpus gives the same result either way."""
    plain, patched = _dump("plain"), _dump("patched")
    assert len(plain) > 1000
    assert patched == plain


def test_the_helpers_are_replaced_and_answer_as_the_originals() -> None:
    """The URL helpers answer as feedparser's own, relative, absolute, unsafe or odd input."""
    feedparser = load_feedparser()
    from feedparser import mixin

    join, safe = mixin._urljoin, mixin.make_safe_absolute_uri
    assert join is not join.__wrapped__
    assert safe is not safe.__wrapped__
    pairs: list[tuple[Any, Any]] = [
        ("http://example.com/a/", "b"),
        ("http://example.com/a/", "http:///triple/slash"),
        ("http://example.com/a/", "javascript:alert(1)"),
        ("http://example.com/a/", ""),
        ("http://example.com/a/", None),
        ("", "http://example.com/"),
        ("javascript:x", None),
        ("http://[::1", "b"),  # urljoin raises ValueError: both give ''
        (None, "b"),  # not a str: passed on, uncached
    ]
    for base, rel in pairs:
        for _ in range(2):  # the second answer comes from the cache
            assert safe(base, rel) == safe.__wrapped__(base, rel), (base, rel)
            if rel is not None and base is not None:
                assert join(base, rel) == join.__wrapped__(base, rel), (base, rel)
    with pytest.raises(TypeError):  # as the original does: bytes and str do not mix
        safe(b"http://example.com/", "b")
    assert feedparser.FeedParserDict.get is not feedparser.FeedParserDict.get.__wrapped__


def test_get_keeps_aliases_and_special_keys() -> None:
    """`get` still maps feedparser's aliases (guid → id, description → summary, …)."""
    feedparser = load_feedparser()
    entry = feedparser.FeedParserDict(
        id="g1",
        summary="s",
        published="p",
        tags=[feedparser.FeedParserDict(term="t")],
        links=[feedparser.FeedParserDict(rel="license", href="L")],
    )
    original = feedparser.FeedParserDict.get.__wrapped__
    for key in ("guid", "description", "category", "license", "id", "title", "copyright"):
        assert entry.get(key, "missing") == original(entry, key, "missing"), key
    assert entry.get("guid") == "g1"
    assert entry.get("description") == "s"
    assert entry.get("category") == "t"
    assert entry.get("title") is None


def test_content_parameters_are_copied_as_deepcopy_copies_them() -> None:
    """The mixin's copy of content parameters equals `copy.deepcopy`'s and shares nothing
    mutable with the original; a dict holding anything but atoms is deep-copied."""
    import copy

    feedparser = load_feedparser()
    from feedparser import mixin

    flat = mixin.copy.deepcopy
    assert flat is not copy.deepcopy
    params = feedparser.FeedParserDict(
        {"type": "text/html", "language": None, "base": "http://example.com/", "base64": False}
    )
    params["guid"] = "aliased through __setitem__"  # stored as "id", as deepcopy stores it
    copied = flat(params)
    assert type(copied) is feedparser.FeedParserDict
    assert copied == copy.deepcopy(params)
    assert copied is not params
    copied["value"] = "x"
    assert "value" not in params
    nested = feedparser.FeedParserDict({"type": "text/html", "links": [{"href": "a"}]})
    deep = flat(nested)
    assert deep == nested
    assert deep["links"] is not nested["links"]
    assert deep["links"][0] is not nested["links"][0]
    marked = feedparser.FeedParserDict({"type": "text/plain"})
    marked.__dict__["note"] = "an instance attribute"
    assert flat(marked).__dict__ == {"note": "an instance attribute"}
    assert flat([1, [2]]) == [1, [2]]


def test_a_farm_feed_parses_to_the_same_result_with_either_copy() -> None:
    """A whole document's result is the same with feedparser's `copy` module put back."""
    import copy
    import io

    feedparser = load_feedparser()
    from feedparser import mixin

    document = (
        b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
        b"<description>&lt;p&gt;about&lt;/p&gt;</description>"
        b"<item><title>One &amp; two</title><description>&lt;b&gt;bold&lt;/b&gt;</description>"
        b"<guid>g1</guid><link>http://example.com/1</link></item>"
        b"<item><title>Three</title><description>plain</description></item>"
        b"</channel></rss>"
    )
    patched = mixin.copy
    try:
        flat_result = repr(feedparser.parse(io.BytesIO(document)))
        mixin.copy = copy
        plain_result = repr(feedparser.parse(io.BytesIO(document)))
    finally:
        mixin.copy = patched
    assert flat_result == plain_result
    assert "bold" in flat_result


def test_plain_absolute_links_join_as_feedparser_joins_them() -> None:
    """`_urljoin` answers feedparser's own answer for absolute URLs, plain or not, against
    bases of every kind (random URLs over an alphabet with every character that matters)."""
    import random

    load_feedparser()
    from feedparser import mixin, urls

    original = urls._urljoin  # the module's own, which the patch leaves alone
    assert mixin._urljoin is not original
    bases = [
        "",
        "http://example.com/a/",
        "https://example.com/",
        "feed:x",
        "http://[::1",
        "ftp://h/",
    ]
    chosen = [
        "http://example.com/news/1",
        "https://example.com",
        "http://example.com?",
        "http://example.com/p?",
        "http://example.com/p;x",
        "http://example.com/p#",
        "http://example.com/p?q#f",
        "HTTP://example.com/p",
        "http:///example.com/p",
        "http://example.com/./a/../b",
        "http://example.com:8080/p?a=1&b=2",
        "http://ex ample.com/p",
        "http://example.com/p\n",
    ]
    rng = random.Random(20)
    alphabet = "aZ09.-_~:/?#;@%&=+ \t[]\\!$'()*,é"
    made = [
        rng.choice(["http://", "https://", "Http://", "http:"])
        + "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 14)))
        for _ in range(4000)
    ]
    for uri in chosen + made:
        for base in bases:
            assert mixin._urljoin(base, uri) == original(base, uri), (base, uri)


def test_only_findable_sax_drivers_are_asked_for() -> None:
    """feedparser no longer asks for a SAX driver that is not installed (libxml2's), and
    its parser is expat either way."""
    import importlib.util
    import io

    feedparser = load_feedparser()
    from feedparser import api

    assert importlib.util.find_spec("drv_libxml2") is None  # not in the lock
    assert "drv_libxml2" not in api.PREFERRED_XML_PARSERS
    result = feedparser.parse(
        io.BytesIO(b"<rss version='2.0'><channel><title>t</title></channel></rss>")
    )
    assert result.version == "rss20"
    assert not result.bozo


def test_item_lookups_answer_as_feedparsers_own() -> None:
    """`d[key]` and `key in d` answer (or raise) as feedparser's methods do, for plain
    keys, aliases, computed keys and missing ones."""
    import warnings

    feedparser = load_feedparser()
    cls = feedparser.FeedParserDict
    getitem, contains = cls.__getitem__, cls.__contains__
    assert getitem is not getitem.__wrapped__
    assert contains is not contains.__wrapped__
    filled = cls(
        {
            "title": "t",
            "summary": "s",
            "id": "g",
            "published": "p",
            "links": [cls({"rel": "enclosure", "href": "h"}), cls({"rel": "license", "href": "l"})],
            "tags": [cls({"term": "c"})],
        }
    )
    keys = ["title", "summary", "description", "guid", "id", "updated", "updated_parsed"]
    keys += ["category", "enclosures", "license", "channel", "missing", "url", 3]
    for d in (filled, cls()):
        for key in keys:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                assert contains(d, key) == contains.__wrapped__(d, key), key
                try:
                    expected = ("value", getitem.__wrapped__(d, key))
                except (KeyError, IndexError) as exc:
                    expected = ("raised", type(exc))
                try:
                    got = ("value", d[key])
                except (KeyError, IndexError) as exc:
                    got = ("raised", type(exc))
            assert got == expected, key
