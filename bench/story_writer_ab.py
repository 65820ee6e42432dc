"""Scenario 7's rounds of two trees, alternated: the process CPU of each round, A against B.

`python -m bench.story_writer` in one tree measures its rounds alone; on a shared
machine a single run of each tree moves by a fifth with the load. This runs
`bench.story_writer --runs 1` in tree A, then in tree B, `--pairs` times (A B A B ...),
each tree with this venv's Python and its own folder first on PYTHONPATH (as
`bench.once_ab` does), and prints each run's process CPU of the clustered round
("default") and of the unclustered one ("off"), and the writer thread's CPU in each
(`bench.story_writer`'s "writer", less moved by the load), then the medians and B ÷ A.

    python -m bench.story_writer_ab --a ../base --b . --pairs 4
    python -m bench.story_writer_ab --a ../base --b . --keep /tmp/ab   # and the databases

With `--keep DIR`, run N of tree A keeps its folders under DIR/a-N (the clustered
round's database in DIR/a-N/run-1/default/data/watcher.db), for `bench.same_db`.
Each tree must have `bench.story_writer` (its printed lines are what is read).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

_LINE = re.compile(
    r"^run \d+ (?P<round>off|default): process CPU (?P<cpu>[0-9.]+) s, writer (?P<writer>[0-9.]+) s"
)


def one_run(tree: Path, keep: Path | None) -> dict[str, float]:
    """The process CPU of each round of one `bench.story_writer` run in `tree` ("off",
    "default"), and its writer thread's ("off writer", "default writer")."""
    command = [sys.executable, "-m", "bench.story_writer", "--runs", "1"]
    if keep is not None:
        command += ["--keep", str(keep)]
    env = os.environ | {"PYTHONPATH": str(tree)}
    done = subprocess.run(command, cwd=tree, env=env, check=True, capture_output=True, text=True)
    found: dict[str, float] = {}
    for match in map(_LINE.match, done.stdout.splitlines()):
        if match:
            found[match["round"]] = float(match["cpu"])
            found[f"{match['round']} writer"] = float(match["writer"])
    if set(found) != {"off", "default", "off writer", "default writer"}:
        raise RuntimeError(f"no round figures in the output of {tree}:\n{done.stdout}")
    return found


def load_averages() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def tree_pairs_parser(description: str) -> argparse.ArgumentParser:
    """The options of an A/B of two trees' rounds: --a, --b, --pairs, --keep."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--a", type=Path, required=True, help="the baseline tree")
    parser.add_argument("--b", type=Path, required=True, help="the tree measured against it")
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--keep", type=Path, help="keep each run's folders under this folder")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = tree_pairs_parser(__doc__.split("\n\n")[0])
    args = parser.parse_args(argv)
    runs: dict[str, list[dict[str, float]]] = {"a": [], "b": []}
    for pair in range(args.pairs):
        for name in ("a", "b"):
            tree = getattr(args, name).resolve()
            keep = None if args.keep is None else args.keep / f"{name}-{pair + 1}"
            load = load_averages()
            found = one_run(tree, keep)
            runs[name].append(found)
            print(
                f"pair {pair + 1} {name.upper()}: clustered {found['default']:.2f} s"
                f" (writer {found['default writer']:.2f} s), off {found['off']:.2f} s"
                f" (writer {found['off writer']:.2f} s) (load {load})",
                flush=True,
            )
    for round_ in ("default", "off", "default writer", "off writer"):
        a = statistics.median(run[round_] for run in runs["a"])
        b = statistics.median(run[round_] for run in runs["b"])
        pairs = [y[round_] / x[round_] for x, y in zip(runs["a"], runs["b"], strict=True)]
        print(
            f"{round_.replace('default', 'clustered')}: median A {a:.2f} s, B {b:.2f} s,"
            f" B/A {b / a:.3f} (per pair {', '.join(f'{r:.3f}' for r in pairs)})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
