"""feedparser's own test documents through the real HTTP fetch path and the whole pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpus import CORPUS, run_corpus
from tests.servers import FeedServer, Route
from watcher.configfile import load_config
from watcher.service import run_once

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(
        not CORPUS.is_dir(),
        reason=f"the feedparser corpus is not at {CORPUS} (../shared is absent outside CI)",
    ),
]


@pytest.mark.timeout(300)
async def test_every_corpus_document_ends_in_items_or_a_named_error(
    feed_server: FeedServer, tmp_path: Path, write_config: object
) -> None:
    """~2,100 documents: no crash, no hang, each ends in items, a valid empty feed or an error."""
    report = await run_corpus(tmp_path, feed_server)
    print("\ncorpus:", report.summary())
    assert report.documents > 2000
    assert report.unexplained == []
    assert report.with_items > 400  # most documents test channel elements and have no entry
    assert max(report.seconds) < 30
    assert report.wall < 120


async def test_the_service_is_healthy_after_the_corpus(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """After hostile documents the same runtime still polls a plain feed."""
    feed_server.routes["/ok"] = Route(
        b"<rss version='2.0'><channel><item><title>fine</title></item></channel></rss>"
    )
    config_file = tmp_path / "ok.yaml"
    config_file.write_text(
        f"data_dir: {tmp_path / 'ok'}\nsources:\n"
        f"  - {{name: ok, kind: feed, url: '{feed_server.url('/ok')}'}}\n",
        encoding="utf-8",
    )
    assert await run_once(load_config(config_file, environ={})) == 0
