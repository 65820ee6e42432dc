"""`watcher run --once` inside a fresh interpreter, for tests that look at that process.

`RUN_ONCE` is the start of a `python -c` script: it runs `watcher run --once --config
sys.argv[1]` in the interpreter itself (not a child), catches its exit and leaves the code
in `code`; a test appends what it wants printed of the process's state afterwards, and
runs the whole with `run_once`.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from tests.conftest import ROOT

RUN_ONCE = """
import sys
from watcher.__main__ import main
sys.argv = ["watcher", "run", "--once", "--config", sys.argv[1]]
try:
    main()
except SystemExit as exc:
    code = exc.code
"""


def run_once(config: Path, probe: str, env: Mapping[str, str] | None = None) -> str:
    """The stdout of `RUN_ONCE` + `probe` run on `config` in a fresh interpreter (in the
    project's root, with `env` if given); `CalledProcessError` if the script fails."""
    return subprocess.run(
        [sys.executable, "-c", RUN_ONCE + probe, str(config)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
