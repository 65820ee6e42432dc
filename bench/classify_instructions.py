"""Instructions the classifier spends on `bench_classify`'s items, counted by callgrind.

A load-independent figure of classification cost for A/B on a shared machine: the
instructions of classifying the first `--items` items of every `bench_classify` mix,
less those of the same process classifying none (imports, configuration, automaton
build and the warm-up are counted in both runs and cancel). Instruction counts do not
depend on other processes, so one run per tree suffices.

    python -m bench.classify_instructions --a TREE --b TREE [--items 1000]

Each tree runs with its own `.venv` and PYTHONPATH (as `bench.once_ab` does) and is
compiled in place first. Prints each tree's instructions and b / a.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.callgrind import child_instructions, compile_in_place

_CHILD = """
import sys
from bench.bench_classify import MIXES, build_items
from watcher.classify.engine import Classifier
from watcher.config.load import load_config
count, settle = int(sys.argv[1]), sys.argv[2] == "settle"
classifier = Classifier.from_config(load_config("config/watcher.yaml"))
warm = build_items(50)
for title, body in warm:
    classifier.classify(title, body)
if settle:
    from watcher.ops.memory import settle_start_up
    settle_start_up()
for _, share in MIXES:
    items = build_items(max(count, 1), signal_share=share)[:count]
    for title, body in items:
        classifier.classify(title, body)
"""


def instructions(tree: Path, items: int, *, settle: bool = True) -> int:
    """Callgrind's instruction count of the child classifying `items` items per mix."""
    count, _ = child_instructions(tree, _CHILD, str(items), "settle" if settle else "unsettled")
    return count


def classification_instructions(tree: Path, items: int, *, settle: bool = True) -> int:
    """Instructions of classifying `items` items per mix, start-up subtracted."""
    compile_in_place(tree)
    return instructions(tree, items, settle=settle) - instructions(tree, 0, settle=settle)


def main(argv: list[str] | None = None) -> int:
    """Print both trees' classification instructions and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", type=Path, required=True, help="the reference tree")
    parser.add_argument("--b", type=Path, required=True, help="the tree compared with it")
    parser.add_argument("--items", type=int, default=1_000, help="items per mix")
    parser.add_argument(
        "--unsettled", action="store_true", help="leave the cyclic collector as it starts"
    )
    args = parser.parse_args(argv)
    settle = not args.unsettled
    a = classification_instructions(args.a.resolve(), args.items, settle=settle)
    b = classification_instructions(args.b.resolve(), args.items, settle=settle)
    print(f"a {args.a}: {a:,} instructions for {args.items:,} items per mix")
    print(f"b {args.b}: {b:,} instructions")
    print(f"b / a = {b / a:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
