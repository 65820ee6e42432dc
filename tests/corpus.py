"""The feedparser test corpus served over real HTTP and polled through the real pipeline.

Used by `tests/test_corpus.py` (asserts) and `bench/corpus.py` (prints the figures).
Every document becomes one feed source on a local server, with the HTTP headers its
leading comment asks for (`Header: Content-type: …`), and is polled once.
"""

from __future__ import annotations

import asyncio
import re
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func
from sqlmodel import select

from tests.orm import reading
from tests.rows import ItemRow, SourceRow
from tests.servers import FeedServer, Route
from watcher.config import WatcherConfig
from watcher.config.load import load_config
from watcher.service.rounds import poll_with_deadline, prepare_sources
from watcher.service.runtime import Runtime

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpora" / "feedparser-tests"
_HEADER = re.compile(rb"^Header:\s*([\w-]+):\s*(.*?)\s*$", re.MULTILINE)
PARALLEL = 16
HEALTHY = (
    b"<rss version='2.0'><channel><item><title>fine</title><guid>1</guid></item></channel></rss>"
)


@dataclass
class CorpusReport:
    """What happened to every document of the corpus."""

    documents: int = 0
    with_items: int = 0
    empty: int = 0
    with_errors: int = 0
    unexplained: list[str] = field(default_factory=list)
    error_kinds: Counter[str] = field(default_factory=Counter)
    seconds: list[float] = field(default_factory=list)
    wall: float = 0.0
    parser_restarts: int = 0
    healthy_after: bool = False

    def summary(self) -> str:
        """One paragraph of figures, for the README."""
        ordered = sorted(self.seconds)
        return (
            f"{self.documents} documents: {self.with_items} with items, {self.empty} valid but"
            f" empty, {self.with_errors} with a recorded error"
            f" ({', '.join(f'{k} {v}' for k, v in self.error_kinds.most_common())}),"
            f" {len(self.unexplained)} unexplained; per document median"
            f" {statistics.median(ordered) * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms;"
            f" {self.wall:.0f} s in all; parser restarts {self.parser_restarts}"
        )


def documents(root: Path = CORPUS) -> list[Path]:
    """Every feed document of the corpus, in a stable order."""
    return sorted(p for p in root.rglob("*.xml") if p.is_file())


def route_for(path: Path) -> Route:
    """The document as the server answers it, with the headers its comment names."""
    data = path.read_bytes()
    head = data[:2048]
    headers = {"Content-Type": "application/xml"}
    for name, value in _HEADER.findall(head):
        key = name.decode("ascii", "replace")
        headers["Content-Type" if key.lower() == "content-type" else key] = value.decode("latin-1")
    return Route(data, headers=headers)


def corpus_config(tmp: Path, server: FeedServer, paths: list[Path]) -> WatcherConfig:
    """A config with one feed source per document (no subscribers: nothing to mail)."""
    sources: list[dict[str, Any]] = []
    for index, path in enumerate(paths):
        route = f"/c/{index}/{path.name}"
        server.routes[route] = route_for(path)
        sources.append(
            {"name": f"doc{index}", "kind": "feed", "url": server.url(route), "timeout": "30s"}
        )
    server.routes["/healthy"] = Route(HEALTHY)
    sources.append({"name": "healthy", "kind": "feed", "url": server.url("/healthy")})
    data = {
        "data_dir": str(tmp / "data"),
        "log": {"level": "error", "format": "json"},
        "sources": sources,
        "polling": {"parse_timeout": "10s"},
        "http": {"per_host": 8, "timeout": "10s"},
    }
    file = tmp / "corpus.yaml"
    file.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_config(file, environ={})


async def run_corpus(tmp: Path, server: FeedServer, root: Path = CORPUS) -> CorpusReport:
    """Poll every document once through fetch → parse → classify → store; count outcomes."""
    paths = documents(root)
    config = corpus_config(tmp, server, paths)
    report = CorpusReport(documents=len(paths))
    gate = asyncio.Semaphore(PARALLEL)
    started = time.monotonic()
    async with Runtime(config) as rt:
        await prepare_sources(rt)

        async def poll(index: int) -> None:
            async with gate:
                begun = time.monotonic()
                await poll_with_deadline(rt, config.sources[index])
                report.seconds.append(time.monotonic() - begun)

        await asyncio.gather(*(poll(i) for i in range(len(paths))))
        report.wall = time.monotonic() - started
        # the same runtime (client, parser workers, database) still serves a plain feed
        report.healthy_after = (await poll_with_deadline(rt, config.sources[-1])).new == 1
        report.parser_restarts = rt.parsers.restarts
        async with reading(rt.db) as session:
            counts = dict(
                (
                    await session.exec(
                        select(ItemRow.source, func.count()).group_by(ItemRow.source)
                    )
                ).all()
            )
            rows = {r.name: r for r in (await session.exec(select(SourceRow))).all()}
    for index, path in enumerate(paths):
        row = rows.get(f"doc{index}")
        if row is not None and row.consecutive_failures and row.last_error:
            report.with_errors += 1
            report.error_kinds[_kind(row.last_error)] += 1
        elif counts.get(f"doc{index}"):
            report.with_items += 1
        elif row is not None and row.last_success_at is not None:
            report.empty += 1
        else:
            report.unexplained.append(str(path.relative_to(root)))
    return report


def _kind(error: str) -> str:
    """A short name for an error message, for the tally."""
    if "not a feed" in error:
        return "not a feed"
    if "took longer" in error:
        return "parse deadline"
    if "HTTP " in error:
        return "HTTP status"
    return error.split(":", 2)[-1].strip()[:40]
