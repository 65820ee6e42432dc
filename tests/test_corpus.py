"""feedparser's own test documents through the real HTTP fetch path and the whole pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpus import CORPUS, run_corpus
from tests.servers import FeedServer

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(
        not CORPUS.is_dir(),
        reason=f"the feedparser corpus is not at {CORPUS} (../shared is absent outside CI)",
    ),
]


@pytest.mark.timeout(300)
async def test_every_corpus_document_ends_in_items_or_a_named_error(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """~2,100 documents end in items, an empty valid feed or an error; no hang; still healthy."""
    report = await run_corpus(tmp_path, feed_server)
    print("\ncorpus:", report.summary())
    assert report.documents > 2000
    assert report.unexplained == []
    assert report.with_items > 400  # most documents test channel elements and have no entry
    assert max(report.seconds) < 30
    assert report.wall < 120
    assert report.healthy_after
