"""Scenario 7's whole rounds of two trees, alternated: wall and process-tree CPU, A against B.

`bench.story_writer_ab` reads the writer thread's CPU and the round's CPU; what scenario
7's target is about is the round's *wall* time (the clustered round within 1.2 × of the
unclustered one), which moves when work leaves the service's process for a worker
process (another core, not the GIL) even when the CPU does not. This runs each tree's
own `bench.scenarios stories_cold` (the round `bench.run --only stories` times: the
templated farm, clustering off and on, each on a fresh database, an untimed warm-up
round first) against one farm, A then B, `--pairs` times, each tree with its own folder
first on PYTHONPATH (as `bench.once_ab`), and prints each run's wall and CPU (the
process tree's: worker processes included) of both rounds, then the medians and B ÷ A.

    python -m bench.story_round_ab --a ../base --b . --pairs 4
    python -m bench.story_round_ab --a ../base --b . --keep /tmp/ab   # and the databases

With `--keep DIR`, run N of tree A keeps its folders under DIR/a-N (the clustered
round's database in DIR/a-N/default/data/watcher.db), for `bench.same_db`.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.control import FarmProcess
from bench.run import _common, _spec, parse_args
from bench.story_writer_ab import load_averages, tree_pairs_parser

_FIGURES = ("default wall", "off wall", "default cpu", "off cpu")


def one_run(tree: Path, params: dict[str, object], workdir: Path) -> dict[str, float]:
    """Wall and CPU of each round ("off", "default") of one `stories_cold` run in `tree`."""
    out = workdir.with_suffix(".json")
    command = [sys.executable, "-m", "bench.worker", "stories_cold"]
    env = os.environ | {"PYTHONPATH": str(tree)}
    params = params | {"workdir": str(workdir)}
    subprocess.run([*command, json.dumps(params), str(out)], cwd=tree, env=env, check=True)
    result = json.loads(out.read_text())
    found = {}
    for name in ("off", "default"):
        round_ = result[name]
        if round_.get("error"):
            raise RuntimeError(f"{tree}: the {name} round failed: {round_['error']}")
        if round_["db"].get("stories") != round_["db"].get("items_stored"):
            print(f"  {tree} {name}: {round_['db']}", flush=True)
        found[f"{name} wall"] = float(round_["wall"])
        found[f"{name} cpu"] = float(round_["cpu"])
    return found


def summary(a_runs: list[dict[str, float]], b_runs: list[dict[str, float]]) -> list[str]:
    """Lines of medians and B ÷ A (overall and per pair) of each figure, then each tree's
    clustered ÷ unclustered wall ratio (median, range)."""
    lines = []
    for figure in _FIGURES:
        a = statistics.median(run[figure] for run in a_runs)
        b = statistics.median(run[figure] for run in b_runs)
        pairs = [y[figure] / x[figure] for x, y in zip(a_runs, b_runs, strict=True)]
        lines.append(
            f"{figure.replace('default', 'clustered')}: median A {a:.2f} s, B {b:.2f} s,"
            f" B/A {b / a:.3f} (per pair {', '.join(f'{r:.3f}' for r in pairs)})"
        )
    for name, runs in (("A", a_runs), ("B", b_runs)):
        ratios = [run["default wall"] / run["off wall"] for run in runs]
        lines.append(
            f"{name} on/off wall ratio: median {statistics.median(ratios):.2f}"
            f" ({min(ratios):.2f}-{max(ratios):.2f})"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = tree_pairs_parser(__doc__.split("\n\n")[0])
    parser.add_argument(
        "--b-override", type=json.loads, help="JSON merged over tree B's config (both rounds)"
    )
    args = parser.parse_args(argv)
    bench_args = parse_args(["--only", "stories"])
    runs: dict[str, list[dict[str, float]]] = {"a": [], "b": []}
    with tempfile.TemporaryDirectory(prefix="story-round-ab-") as folder:
        tmp = Path(folder) if args.keep is None else args.keep
        tmp.mkdir(parents=True, exist_ok=True)
        spec = _spec(bench_args, int(time.time()), n=bench_args.stories_n, template=True)
        with FarmProcess(spec, tmp / "farm.log") as farm:
            for pair in range(args.pairs):
                for name in ("a", "b"):
                    tree = getattr(args, name).resolve()
                    params = _common(bench_args) | {
                        "farm_port": farm.port,
                        "n": bench_args.stories_n,
                        "m": bench_args.m,
                        "index": pair,  # which round goes first alternates by pair
                    }
                    if name == "b" and args.b_override:
                        params["override"] = (params.get("override") or {}) | args.b_override
                    load = load_averages()
                    found = one_run(tree, params, tmp / f"{name}-{pair + 1}")
                    runs[name].append(found)
                    print(
                        f"pair {pair + 1} {name.upper()}: clustered {found['default wall']:.2f} s"
                        f" wall ({found['default cpu']:.2f} s CPU), off {found['off wall']:.2f}"
                        f" s wall ({found['off cpu']:.2f} s CPU), on/off"
                        f" {found['default wall'] / found['off wall']:.2f} (load {load})",
                        flush=True,
                    )
    for line in summary(runs["a"], runs["b"]):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
