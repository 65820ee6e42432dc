"""`bench.treerun`: the CPU of a whole process tree, orphans included, and nothing left behind."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
from tests.procs import alive

# a child that burns CPU and leaves a grandchild behind, then exits at once
BURN_AND_ORPHAN = """
import os, subprocess, sys, time
subprocess.Popen([sys.executable, "-c", "import time\\nwhile True: time.sleep(1)"])
child = subprocess.Popen([sys.executable, "-c", "sum(i * i for i in range(3_000_000))"])
child.wait()
print(os.getpid())
"""


def _treerun(tmp_path: Path, *command: str) -> dict[str, float]:
    out = tmp_path / "figures.json"
    subprocess.run(
        [sys.executable, "-m", "bench.treerun", str(out), "--", *command],
        cwd=ROOT, check=True, timeout=120,
    )  # fmt: skip
    figures: dict[str, float] = json.loads(out.read_text())
    return figures


def test_cpu_counts_every_descendant_and_leftovers_are_killed(tmp_path: Path) -> None:
    """A grandchild's CPU is in the figure; a process left running is killed and counted."""
    figures = _treerun(tmp_path, sys.executable, "-c", BURN_AND_ORPHAN)
    # the grandchild's loop alone takes a good part of a second on any machine here
    own = _treerun(tmp_path, sys.executable, "-c", "pass")
    assert figures["cpu"] > own["cpu"] + 0.05
    assert figures["exit"] == 0
    assert figures["leftovers"] == 1
    leftover = [
        int(line) for line in subprocess.run(
            ["pgrep", "-f", "while True: time.sleep"], capture_output=True, text=True
        ).stdout.split()
    ]  # fmt: skip
    assert not [pid for pid in leftover if alive(pid)]


def test_a_clean_command_leaves_nothing_and_reports_its_exit(tmp_path: Path) -> None:
    """A command that starts nothing that outlives it: no leftovers, its exit status kept."""
    figures = _treerun(tmp_path, sys.executable, "-c", "raise SystemExit(3)")
    assert figures["exit"] == 3
    assert figures["leftovers"] == 0
    assert figures["wall"] > 0
