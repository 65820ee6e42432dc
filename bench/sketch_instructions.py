"""Instructions spent sketching `bench.sketch_speed`'s items, counted by callgrind.

A load-independent figure of the sketching path's cost (`sketch_text`, `index_keys`,
`script_keys` and `encode_sketch`, as `watcher.service.analysis.analyse` runs them) for
A/B on a shared machine: the instructions of sketching `--items` items spread evenly over
`bench.sketch_speed`'s corpus (every k-th item; all of them when it holds fewer), less
those of the same process sketching none. Imports, reading the corpus and a warm-up of `WARM` items
(automata and pattern caches built) are counted in both runs and cancel. Instruction
counts do not depend on other processes, so one run per tree suffices.

    python -m bench.sketch_instructions --a TREE --b TREE [--items 1000] [--only templated]

`--only PREFIX` takes the items whose key starts so (`bench.sketch_speed --only`). Each
tree runs with its own `.venv` and PYTHONPATH (as `bench.classify_instructions` does) and
is compiled in place first. Prints each tree's instructions, per item, and b / a.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.callgrind import child_instructions, compile_in_place

WARM = 50  # items sketched before the count, in both runs (caches and automata built)

_CHILD = f"""
import sys
from bench.sketch_speed import items
from watcher.domain.stories import encode_sketch, index_keys, script_keys, sketch_text
wanted, only = int(sys.argv[1]), sys.argv[2]
settle, busy = sys.argv[3] == "settle", sys.argv[4] == "busy"
every = [item for item in items() if item[0].startswith(only)]
step = max(1, len(every) // max(wanted, 1))
chosen = every[::step][:wanted]
warm = every[step // 2 :: step][:{WARM}] if step > 1 else every[-{WARM}:]

def sketched(title, body, when, signals):
    sketch = sketch_text(title, body, when, signals)
    index_keys(sketch)
    script_keys(sketch)
    encode_sketch(sketch)

for _, title, body, when, signals in warm:
    sketched(title, body, when, signals)
if settle:
    from watcher.ops.memory import settle_start_up
    settle_start_up()
for _, title, body, when, signals in chosen if busy else ():
    sketched(title, body, when, signals)
print(len(chosen))
"""


def instructions(
    tree: Path, items: int, only: str, *, busy: bool, settle: bool = True
) -> tuple[int, int]:
    """Callgrind's instruction count of the child sketching the `items` chosen (none
    unless `busy`), and how many it chose."""
    count, out = child_instructions(
        tree,
        _CHILD,
        str(items),
        only,
        "settle" if settle else "unsettled",
        "busy" if busy else "idle",
    )
    return count, int(out.split()[-1])


def sketch_instructions(
    tree: Path, items: int, only: str = "", *, settle: bool = True
) -> tuple[int, int]:
    """Instructions of sketching `items` items of the corpus, start-up subtracted, and
    how many items were sketched."""
    compile_in_place(tree)
    busy, chosen = instructions(tree, items, only, busy=True, settle=settle)
    idle, _ = instructions(tree, items, only, busy=False, settle=settle)
    return busy - idle, chosen


def main(argv: list[str] | None = None) -> int:
    """Print both trees' sketching instructions and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", type=Path, required=True, help="the reference tree")
    parser.add_argument("--b", type=Path, required=True, help="the tree compared with it")
    parser.add_argument("--items", type=int, default=1_000, help="items sketched")
    parser.add_argument("--only", default="", help="only the items whose key starts so")
    parser.add_argument(
        "--unsettled", action="store_true", help="leave the cyclic collector as it starts"
    )
    args = parser.parse_args(argv)
    settle = not args.unsettled
    a, count = sketch_instructions(args.a.resolve(), args.items, args.only, settle=settle)
    b, _ = sketch_instructions(args.b.resolve(), args.items, args.only, settle=settle)
    print(f"a {args.a}: {a:,} instructions for {count:,} items ({a / count:,.0f} each)")
    print(f"b {args.b}: {b:,} instructions ({b / count:,.0f} each)")
    print(f"b / a = {b / a:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
