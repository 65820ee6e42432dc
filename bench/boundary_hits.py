"""How many automaton hits the matcher's word-boundary checks throw away, left and right.

Classifies the first `--items` items of every `bench_classify` mix with the default
rules and, for every scan `watcher.classify.matcher._scan_into` makes, counts the hits
the automata yield, those discarded because a word character is before them (a key
inside a word: "rice" in "price") and those discarded after it (a word runs on past
the key, past a `*` key's longest ending), and how many of the scanned texts are ASCII.

    python -m bench.boundary_hits [--items 300]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from bench.bench_classify import MIXES, build_items
from watcher.classify import matcher
from watcher.classify.engine import Classifier
from watcher.config.load import load_config


def _discard(text: str, flags: bytes, hit: Any) -> str | None:
    """ "left" or "right" when `_scan_into` throws `hit` away at that boundary, else None."""
    last, (length, left_bound, right_bound, _, wild) = hit
    start, stop = last + 1 - length, last + 1
    if left_bound:
        flag = flags[start - 1]
        if flag and (flag == 1 or matcher._is_word_char(text[start - 1])):
            return "left"
    if right_bound:
        flag = flags[stop]
        if flag and (flag == 1 or matcher._is_word_char(text[stop])):
            run = matcher._WORD_RUN.match(text, stop)
            assert run is not None  # the pattern matches empty
            if wild is None or run.end() - stop > wild[1]:
                return "right"
    return None


def count(items: int) -> Counter[str]:
    """The counts over the first `items` items of every mix."""
    counts: Counter[str] = Counter()
    scan = matcher._scan_into

    def counting(
        matches: Iterable[Any],
        text: str,
        flags: bytes,
        sentences: Sequence[tuple[int, int]],
        found: list[list[Any]],
        keys: list[set[str]],
    ) -> None:
        hits = list(matches)
        counts["scans"] += 1
        counts["ascii scans"] += text.isascii()
        counts["hits"] += len(hits)
        for hit in hits:
            side = _discard(text, flags, hit)
            if side is not None:
                counts[side] += 1
        scan(hits, text, flags, sentences, found, keys)

    classifier = Classifier.from_config(load_config("config/watcher.yaml"))
    matcher._scan_into = counting  # type: ignore[assignment]
    try:
        for _, share in MIXES:
            for title, body in build_items(items, signal_share=share)[:items]:
                classifier.classify(title, body)
    finally:
        matcher._scan_into = scan  # type: ignore[assignment]
    return counts


def main(argv: list[str] | None = None) -> int:
    """Print the counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=300, help="items per mix")
    args = parser.parse_args(argv)
    counts = count(args.items)
    hits = max(counts["hits"], 1)
    print(
        f"{counts['hits']:,} hits in {counts['scans']:,} scans ({counts['ascii scans']:,} of"
        f" ASCII texts); discarded at the left boundary {counts['left']:,}"
        f" ({counts['left'] / hits:.1%}), at the right {counts['right']:,}"
        f" ({counts['right'] / hits:.1%})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
