"""Classification throughput: items/s on one core for ~1 KB items with the default rules.

The items come from `bench.textgen` (a quarter of them written to fire a rule), cut
to 1 KB of text at a word boundary. The classifier is built from `config/rules.yaml`
exactly as the service builds it; the loop runs in this one thread for at least
`seconds`, so the figure is single-core speed. Run alone:

    .venv/bin/python -m bench.bench_classify [--seconds 3]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.configs import bench_config
from bench.textgen import make_item
from watcher.classify.engine import Classifier

ITEM_BYTES = 1024
DISTINCT_ITEMS = 2000


def one_kb_items(seed: int = 8, count: int = DISTINCT_ITEMS) -> list[tuple[str, str]]:
    """`count` (title, body) pairs whose title + body are ~1 KB of UTF-8."""
    items = []
    for index in range(count):
        item = make_item(seed, 90_000, index, words=(190, 200))
        room = ITEM_BYTES - len(item.title.encode()) - 1
        body = item.body[:room].rsplit(" ", 1)[0]
        items.append((item.title, body))
    return items


def measure(seconds: float = 3.0, seed: int = 8) -> dict[str, Any]:
    """Classify items in a loop for at least `seconds`; returns items/s and what fired."""
    with tempfile.TemporaryDirectory(prefix="watcher-bench-classify-") as tmp:
        classifier = Classifier.from_config(bench_config(Path(tmp), []))
    items = one_kb_items(seed)
    for title, body in items[:50]:  # warm caches before timing
        classifier.classify(title, body)
    done = fired = 0
    started = time.perf_counter()
    cpu_started = time.process_time()
    elapsed = 0.0
    while elapsed < seconds:
        for title, body in items:
            fired += bool(classifier.classify(title, body))
        done += len(items)
        elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    return {
        "items": done,
        "seconds": elapsed,
        "items_per_s": done / elapsed,
        "items_per_cpu_s": done / cpu if cpu else 0.0,
        "fired_fraction": fired / done,
        "mean_bytes": sum(len(t.encode()) + len(b.encode()) + 1 for t, b in items) / len(items),
    }


def main() -> None:
    """Print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()
    print(json.dumps(measure(args.seconds, args.seed), indent=2))


if __name__ == "__main__":
    main()
