"""A Python snippet run in a tree under callgrind: its instruction count and its output.

The shared runner of the instruction-count A/B tools (`bench.classify_instructions`,
`bench.sketch_instructions`): each tree runs with its own `.venv`, `PYTHONPATH` set to
the tree and a fixed hash seed, compiled in place first, so two trees differ only in their
code. Instruction counts do not depend on other processes, so one run per tree suffices.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

_TOTAL = re.compile(r"Collected\s*:\s*(\d+)")


def compile_in_place(tree: Path) -> None:
    """Write the bytecode of the tree's `watcher` and `bench` modules, so no run compiles."""
    subprocess.run(
        [str(tree / ".venv" / "bin" / "python"), "-m", "compileall", "-q", "watcher", "bench"],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        check=True,
    )


def child_instructions(tree: Path, code: str, *args: str) -> tuple[int, str]:
    """Callgrind's instruction count of `python -c code *args` in `tree`, and its stdout.

    Raises `subprocess.CalledProcessError` when the child fails and `RuntimeError` when
    callgrind prints no count.
    """
    python = tree / ".venv" / "bin" / "python"
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONHASHSEED": "0"}
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "callgrind.out"
        callgrind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
        done = subprocess.run(
            [*callgrind, str(python), "-c", code, *args],
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    found = _TOTAL.search(done.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count from callgrind: {done.stderr[-500:]}")
    return int(found.group(1)), done.stdout
