"""A Python snippet run in a tree under callgrind: its instruction count and its output.

The shared runner of the instruction-count A/B tools (`bench.classify_instructions`,
`bench.sketch_instructions`, `bench.cold_instructions`, `bench.once_instructions`): each
tree runs with its own `.venv`, `PYTHONPATH` set to the tree and a fixed hash seed (so set
orders do not move the count), compiled in place first, so two trees differ only in their
code. Instruction counts do not depend on other processes, so one run per tree suffices.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

_TOTALS = re.compile(rb"^(?:summary|totals): (\d+)", re.MULTILINE)


def compile_in_place(tree: Path) -> None:
    """Write the bytecode of the tree's `watcher` and `bench` modules, so no run compiles."""
    subprocess.run(
        [str(tree / ".venv" / "bin" / "python"), "-m", "compileall", "-q", "watcher", "bench"],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        check=True,
    )


def command_instructions(
    command: list[str], cwd: Path, tree: Path, out: Path
) -> tuple[int, subprocess.CompletedProcess[bytes]]:
    """Callgrind's instruction count of `command` run in `cwd` with `tree` on `PYTHONPATH`,
    and the finished process (its exit status is not checked). Callgrind writes its
    profile to `out`, the command's stdout and stderr go to `out` with the suffix `.log`.

    Raises `RuntimeError` when callgrind leaves no count.
    """
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONHASHSEED": "0"}
    wrapped = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "-q", *command]
    done = subprocess.run(wrapped, cwd=cwd, env=env, capture_output=True, check=False)
    out.with_suffix(".log").write_bytes(done.stdout + done.stderr)
    found = _TOTALS.search(out.read_bytes()) if out.exists() else None
    if found is None:
        raise RuntimeError(f"no instruction count from callgrind: {done.stderr[-2000:]!r}")
    return int(found.group(1)), done


def child_instructions(tree: Path, code: str, *args: str) -> tuple[int, str]:
    """Callgrind's instruction count of `python -c code *args` in `tree`, and its stdout.

    Raises `subprocess.CalledProcessError` when the child fails and `RuntimeError` when
    callgrind prints no count.
    """
    python = str(tree / ".venv" / "bin" / "python")
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "callgrind.out"
        count, done = command_instructions([python, "-c", code, *args], tree, tree, out)
    if done.returncode != 0:
        raise subprocess.CalledProcessError(done.returncode, done.args, done.stdout, done.stderr)
    return count, done.stdout.decode()
