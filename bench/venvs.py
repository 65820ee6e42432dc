"""Virtual environments the bench makes for programs it compares against (not the project's).

`pinned_venv(folder, requirements)` creates `folder` with the Python running the bench and
installs the requirements file into it with `--no-deps` (every package is pinned in the
file, so nothing is resolved), once: a stamp holding the file's text marks it done, and a
changed file makes it again.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def pinned_venv(folder: Path, requirements: Path) -> Path:
    """The Python of `folder`, made from `requirements` if it is missing or stale."""
    python = folder / "bin" / "python"
    stamp = folder / ".installed"
    wanted = requirements.read_text(encoding="utf-8")
    if python.exists() and stamp.exists() and stamp.read_text(encoding="utf-8") == wanted:
        return python
    print(f"  installing {requirements.name} into {folder.name}", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(folder)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "-r", str(requirements)],
        check=True,
    )
    stamp.write_text(wanted, encoding="utf-8")
    return python
