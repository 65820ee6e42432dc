"""Item identity: guid, else canonical link, else a hash of the content.

Identity decides whether an item is new; the content hash decides whether a known item
changed (a revision). Both are pure functions of the item.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from watcher.domain.items import Item

_TRACKING = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_hsenc|_hsmi|ref|ref_src|igshid|yclid)$",
    re.IGNORECASE,
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str) -> str:
    """The URL with scheme and host lower-cased, default port, fragment and tracking dropped."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if parts.port and parts.port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{parts.port}"
    query = urlencode(
        [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not _TRACKING.match(k)
        ]
    )
    return urlunsplit((scheme, host, parts.path or "/", query, ""))


def content_hash(title: str, body: str) -> str:
    """A hash of the text that ignores case and white space, so reformatting is no change."""
    normal = " ".join(f"{title}\n{body}".lower().split())
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


def with_identity(item: Item, mode: str = "auto") -> Item:
    """The item with `identity` and `content_hash` set.

    `auto` and `guid`: guid → canonical link → content hash; `link`: canonical link →
    content hash (for feeds whose guids change); `hash`: the content hash alone (for
    feeds with neither stable guids nor links). Story clustering across sources is
    separate (`watcher.domain.stories`).
    """
    digest = content_hash(item.title, item.body)
    guid = (item.guid or "").strip()
    link = (item.link or "").strip()
    if guid and mode in ("auto", "guid"):
        identity = "guid:" + guid
    elif link and mode != "hash":
        identity = "url:" + canonical_url(link)
    else:
        identity = "hash:" + digest
    return replace(item, identity=identity[:512], content_hash=digest)
