"""What the service imports at start-up: rich only to draw, the parsers only to parse."""

from __future__ import annotations

import io
import subprocess
import sys

from tests.conftest import ROOT
from watcher.ops.log import rich_traceback

_PROBE = """
import sys
import watcher.cli.app, watcher.service.rounds, watcher.service.runtime
from watcher.ops.log import configure_logging
configure_logging("info", "console")
configure_logging("info", "json")
LAZY = {"rich", "pygments", "selectolax", "charset_normalizer", "nh3", "feedparser"}
print(sorted({m.split(".")[0] for m in sys.modules} & LAZY))
import rich.console  # still importable afterwards
print(rich.console.Console.__name__)
"""


def test_the_service_and_its_logging_start_without_rich() -> None:
    """The command line, the round and both log formats load no renderer and no parser.

    A round with nothing new (all 304) needs none of them; the first document or email
    loads what it needs.
    """
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["[]", "Console"]


def test_a_terminal_traceback_is_drawn_with_rich_loaded_then() -> None:
    """The console renderer's traceback on a terminal: rich's, with the exception named."""
    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError:
        exc_info = sys.exc_info()
    sio = io.StringIO()
    rich_traceback(sio, exc_info)  # type: ignore[arg-type]
    text = sio.getvalue()
    assert "ZeroDivisionError" in text
    assert "Traceback" in text
