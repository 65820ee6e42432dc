"""feedparser, loaded with four of its hot spots made cheaper and their results unchanged.

feedparser 6 calls `make_safe_absolute_uri(self.baseuri, baseuri)` at *every* start tag
to track `xml:base`, with the same two strings almost every time, and each call runs
`urllib.parse.urljoin`; it also reads its own dicts through `FeedParserDict.get`,
which goes through `__getitem__`'s alias table for every key. Parsing a feed of 22
items, those two were about a quarter of feedparser's time (`python -m cProfile` over
the bench farm's feeds; issue 20's new-items round re-parses every feed whole).

- The URL helpers are pure functions of their string arguments (and of feedparser's
  constant scheme list), so they are memoised (`functools.lru_cache`, bounded).
  Every entry's own link is resolved against the feed's base too, and is a different
  string each time: an absolute http(s) URL of plain characters (a lower-case scheme,
  a host of letters, digits, dots and hyphens, an optional port, a path and a non-empty
  query with no `;`, `#`, white space or brackets) is what `urljoin` returns for any
  base that `urllib.parse` can split (a base it refuses makes the join ''), so `_urljoin`
  returns it at once (`_PLAIN_ABSOLUTE`); other URLs take the memoised helper.
- `FeedParserDict.get` of a key with no alias and no special meaning is `dict.get`;
  the other keys go through feedparser's own method as before. The same holds for its
  `[key]` and `key in`: for such a key `__getitem__` ends in `dict.__getitem__` and
  `__contains__` in a lookup that raises or not as `dict.__contains__` answers.
- The content parameters an element's text is stored with (`type`, `language`, `base`,
  `value`: a small `FeedParserDict` of strings) are copied at the end of every title,
  summary and content element with `copy.deepcopy`, whose generic reduce-and-rebuild was
  a tenth of a farm feed's parse. A dict whose values are all immutable atoms is copied
  the way `deepcopy` rebuilds it (`__new__`, then each item through `__setitem__`), with
  nothing else to copy; any other value goes to `copy.deepcopy` as before. Only
  `feedparser.mixin` sees this copy function.
- Every parse asks `xml.sax.make_parser` for `drv_libxml2` (libxml2's old Python driver)
  before expat; where that module is not installed the failed import searched the whole
  `sys.path` once per document (a tenth of a farm feed's parse) before expat was made
  all the same. It is dropped from feedparser's list when `importlib` cannot find it.

`load_feedparser()` applies them once per process and returns the module; the parsed
results are the same objects feedparser makes (tests/test_feedparsing.py compares them).
"""

from __future__ import annotations

import copy
import functools
import importlib.util
import re
import threading
from types import ModuleType, SimpleNamespace
from typing import Any

TESTED = "6.0."  # feedparser releases whose internals the changes were checked on
URL_CACHE = 1024  # (base, relative) pairs kept per helper: a feed uses a handful
_lock = threading.Lock()
_patched = False
# URLs that feedparser's `_urljoin` (its slash fix, then `urllib.parse.urljoin`) returns
# unchanged against every str base: urljoin returns such a URL as it is (another scheme,
# or no base) or re-assembles it from its parts (the same scheme), and the parts put back
# are the same characters; a query must be non-empty (`?` alone is dropped), and `;`
# (params) and `#` (fragment), which re-assembly may drop when empty, are left out.
_PLAIN_ABSOLUTE = re.compile(
    r"https?://[A-Za-z0-9.\-]+(?::[0-9]+)?"
    r"(?:/[A-Za-z0-9._~!$&'()*+,=:@%/\-]*)?"
    r"(?:\?[A-Za-z0-9._~!$&'()*+,=:@%/?\-]+)?"
)


def load_feedparser() -> ModuleType:
    """feedparser, with the memoised URL helpers and the plain-key `get` (once per process)."""
    global _patched
    import feedparser

    if not _patched:
        with _lock:
            # written against feedparser 6.0's internals (the lock pins 6.0.14, and the
            # tests compare both helpers over feedparser's own corpus): another release
            # runs as it is
            if not _patched and feedparser.__version__.startswith(TESTED):
                _patch()
            _patched = True
    module: ModuleType = feedparser
    return module


def _patch() -> None:
    from feedparser import api, mixin
    from feedparser.util import FeedParserDict

    mixin.make_safe_absolute_uri = _memoised(mixin.make_safe_absolute_uri)
    mixin._urljoin = _absolute_first(_memoised(mixin._urljoin))
    FeedParserDict.get = _plain_get(FeedParserDict)
    FeedParserDict.__getitem__, FeedParserDict.__contains__ = _plain_lookups(FeedParserDict)
    # the mixin reads `copy.deepcopy` from its module global `copy` at each call
    mixin.copy = SimpleNamespace(deepcopy=_flat_deepcopy(FeedParserDict))
    # `api.parse` reads its module global at each call; expat is the parser either way
    api.PREFERRED_XML_PARSERS = [name for name in api.PREFERRED_XML_PARSERS if _findable(name)]


def _memoised(helper: Any) -> Any:
    """`helper(*args)` remembered; arguments that cannot be a cache key are passed on."""
    remembered = functools.lru_cache(maxsize=URL_CACHE)(helper)

    @functools.wraps(helper)
    def call(*args: Any) -> Any:
        try:
            return remembered(*args)
        except TypeError:  # an unhashable argument (or the helper's own TypeError, again)
            return helper(*args)

    return call


def _findable(module: str) -> bool:
    """True when `import module` would find the module (it may still fail to import)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package missing, or a bad name
        return False


def _absolute_first(join: Any) -> Any:
    """`join(base, uri)`, answered at once when `uri` is a plain absolute URL (see
    `_PLAIN_ABSOLUTE`) and `base` a str that `urllib.parse.urlparse` splits."""
    plain = _PLAIN_ABSOLUTE.fullmatch

    @functools.wraps(join)
    def call(base: Any, uri: Any) -> Any:
        if type(base) is str and type(uri) is str and plain(uri) and _splits(base):
            return uri
        return join(base, uri)

    return call


@functools.lru_cache(maxsize=URL_CACHE)
def _splits(base: str) -> bool:
    """True when `urljoin` can split `base` (it raises ValueError on, say, a bad IPv6 host)."""
    import urllib.parse

    try:
        urllib.parse.urlparse(base)
    except ValueError:
        return False
    return True


def _special_keys(cls: Any) -> frozenset[str]:
    """The keys feedparser's `FeedParserDict.__getitem__` treats specially (feedparser 6):
    five computed or deprecated ones, and every alias of its `keymap`."""
    special = frozenset({"category", "enclosures", "license", "updated", "updated_parsed"})
    return special | frozenset(cls.keymap)


def _plain_lookups(cls: Any) -> tuple[Any, Any]:
    """`cls.__getitem__` and `cls.__contains__`, with `dict`'s own for every plain key."""
    original_getitem, original_contains = cls.__getitem__, cls.__contains__
    special = _special_keys(cls)
    plain_getitem, plain_contains = dict.__getitem__, dict.__contains__

    @functools.wraps(original_getitem)
    def getitem(self: Any, key: Any) -> Any:
        if key in special:
            return original_getitem(self, key)
        return plain_getitem(self, key)

    @functools.wraps(original_contains)
    def contains(self: Any, key: Any) -> bool:
        if key in special:
            return bool(original_contains(self, key))
        return plain_contains(self, key)

    return getitem, contains


def _plain_get(cls: Any) -> Any:
    """`cls.get`, with `dict.get` for every key `cls.__getitem__` has no special case for."""
    original = cls.get
    special = _special_keys(cls)
    plain_get = dict.get

    @functools.wraps(original)
    def get(self: Any, key: Any, default: Any = None) -> Any:
        if key in special:
            return original(self, key, default)
        return plain_get(self, key, default)

    return get


# values `copy.deepcopy` returns as they are (immutable, with nothing inside to copy)
_ATOMS = frozenset({str, bytes, int, float, bool, type(None)})


def _flat_deepcopy(cls: Any) -> Any:
    """`copy.deepcopy`, short-cut for a `cls` dict of atoms with no instance attributes.

    `deepcopy` rebuilds such a dict as `cls.__new__(cls)` and then sets each item through
    `cls.__setitem__` (its reduce protocol, state None); this does the same directly.
    """
    new = cls.__new__
    deepcopy = copy.deepcopy
    atoms = _ATOMS

    def flat_deepcopy(value: Any, memo: Any = None) -> Any:
        if (
            type(value) is cls
            and not value.__dict__
            and all(type(v) in atoms for v in value.values())
        ):
            out = new(cls)
            for key, item in value.items():
                out[key] = item
            return out
        return deepcopy(value, memo)

    return flat_deepcopy
