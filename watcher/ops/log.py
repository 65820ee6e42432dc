"""structlog set-up: JSON lines when stdout is not a terminal, readable console when it is."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog
from structlog.typing import ExcInfo

from watcher.domain.masking import MASK, mask_secrets

_SECRET_KEYS = {"password", "secret", "token", "authorization"}


def _redact(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Never print a secret, whatever a caller bound: secret keys, secrets in URLs.

    Runs after the exception is formatted (JSON lines), so a traceback's text is masked too.
    """
    for key, value in list(event.items()):
        if key.lower() in _SECRET_KEYS:
            event[key] = MASK
        elif isinstance(value, str):
            event[key] = mask_secrets(value)
    return event


def rich_traceback(sio: TextIO, exc_info: ExcInfo) -> None:
    """Draw a traceback on a terminal as structlog's `RichTracebackFormatter()` does.

    rich is imported when the first traceback is drawn, not at start-up (see
    `watcher._import_structlog_without_rich`).
    """
    from rich.console import Console
    from rich.traceback import Traceback

    sio.write("\n")
    traceback = Traceback.from_exception(*exc_info, show_locals=True, word_wrap=True)
    Console(file=sio, color_system="truecolor").print(traceback)


def configure_logging(level: str = "info", fmt: str = "auto") -> None:
    """Route structlog (and stdlib logging) to stdout in the chosen format."""
    json_lines = fmt == "json" or (fmt == "auto" and not sys.stdout.isatty())
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json_lines
        else structlog.dev.ConsoleRenderer(
            colors=sys.stdout.isatty(),
            exception_formatter=rich_traceback
            if sys.stdout.isatty()
            else structlog.dev.plain_traceback,
        )
    )
    numeric = logging.getLevelNamesMapping()[level.upper()]
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info if json_lines else structlog.dev.set_exc_info,
            _redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stdout),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=max(numeric, logging.WARNING), stream=sys.stderr, force=True)
