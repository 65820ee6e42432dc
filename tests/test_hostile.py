"""Hostile documents through the real fetch path and pipeline: nothing expands, nothing opens."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from sqlmodel import select

from tests.orm import reading
from tests.rows import ItemRow, SourceRow
from tests.servers import FeedServer, Route
from watcher.config import WatcherConfig
from watcher.service.rounds import run_once
from watcher.service.runtime import Runtime

MakeConfig = Callable[..., WatcherConfig]
MARKER = "TOP-SECRET-7f3a9c"

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>laughs</title>
<item><title>Laughing &lol9;</title><description>&lol9;</description></item>
</channel></rss>"""


def _xxe(secret: Path) -> bytes:
    return f"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>
<rss version="2.0"><channel><title>x</title>
<item><title>Leak &xxe;</title><description>&xxe;</description></item>
</channel></rss>""".encode()


async def _everything_stored(config: WatcherConfig) -> str:
    async with Runtime(config) as rt, reading(rt.db) as session:
        items = (await session.exec(select(ItemRow))).all()
        rows = (await session.exec(select(SourceRow))).all()
    texts = [f"{i.title}\n{i.body}\n{i.link}" for i in items]
    texts += [f"{r.name}: {r.last_error}" for r in rows]
    return "\n".join(texts)


async def test_entities_never_expand_and_local_files_never_open(
    feed_server: FeedServer, make_config: MakeConfig, tmp_path: Path
) -> None:
    """Billion laughs, an external entity, and a body naming a local file: all bounded, no leak."""
    secret = tmp_path / "secret.txt"
    secret.write_text(MARKER, encoding="utf-8")
    feed_server.routes["/laughs"] = Route(BILLION_LAUGHS)
    feed_server.routes["/xxe"] = Route(_xxe(secret))
    feed_server.routes["/path"] = Route(
        str(secret).encode(), headers={"Content-Type": "text/plain"}
    )
    feed_server.routes["/uri"] = Route(secret.as_uri().encode())
    config = make_config(
        sources=[
            {"name": name, "kind": "feed", "url": feed_server.url(f"/{name}")}
            for name in ("laughs", "xxe", "path", "uri")
        ]
    )
    started = time.monotonic()
    await run_once(config)
    assert time.monotonic() - started < 30
    stored = await _everything_stored(config)
    assert MARKER not in stored
    assert "lollollollollol" not in stored
    maildrop = tmp_path / "data" / "maildrop"
    for mail in maildrop.glob("*.eml") if maildrop.exists() else []:
        assert MARKER not in mail.read_text(encoding="utf-8", errors="replace")
    async with Runtime(config) as rt, reading(rt.db) as session:
        rows = {r.name: r for r in (await session.exec(select(SourceRow))).all()}
    for name in ("path", "uri"):
        assert "not a feed" in (rows[name].last_error or ""), rows[name].last_error
