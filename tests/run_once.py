"""`watcher run --once` inside a fresh interpreter, for tests that look at that process.

`run_once` runs `watcher run --once --config CONFIG` in a `python -c` script, in the
interpreter itself (not a child), and then a test's `probe`: Python lines that print
what the test wants of the process's state, with the round's exit status in `code`.
A finished round ends its process at once (`watcher.ops.startup._end_round_process`,
`os._exit` after the `atexit` callbacks); the script runs the probe there, just before
the process ends, or after the `SystemExit` of a round that could not start. The script
itself then ends with status 0 either way.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path

from tests.conftest import ROOT

RUN_ONCE = """
import os, sys
from watcher.__main__ import main
sys.argv = ["watcher", "run", "--once", "--config", sys.argv[1]]
{probe}
_end = os._exit
def _ended(code):  # where a finished round ends its process
    _look(code)
    sys.stdout.flush()
    _end(0)
os._exit = _ended
try:
    main()
except SystemExit as exc:
    _look(exc.code)
"""


def run_once(config: Path, probe: str, env: Mapping[str, str] | None = None) -> str:
    """The stdout of `RUN_ONCE` with `probe` run on `config` in a fresh interpreter (in
    the project's root, with `env` if given); `CalledProcessError` if the script fails."""
    look = "def _look(code):\n" + textwrap.indent(textwrap.dedent(probe).strip(), "    ")
    return subprocess.run(
        [sys.executable, "-c", RUN_ONCE.format(probe=look), str(config)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
