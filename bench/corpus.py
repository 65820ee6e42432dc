"""Print the robustness figures of the feedparser corpus: `python -m bench.corpus`."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from tests.corpus import CORPUS, run_corpus
from tests.servers import FeedServer
from watcher.ops.log import configure_logging


def main() -> int:
    """Serve and poll the whole corpus once; print the counts."""
    if not CORPUS.is_dir():
        print(f"skipped: no corpus at {CORPUS}", file=sys.stderr)
        return 0
    configure_logging("error", "json")
    server = FeedServer().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            report = asyncio.run(run_corpus(Path(tmp), server))
    finally:
        server.stop()
    print(f"feedparser corpus: {report.summary()}")
    for path in report.unexplained:
        print(f"  unexplained: {path}")
    return 1 if report.unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
