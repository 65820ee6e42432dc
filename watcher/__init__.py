"""Supply Watcher: supply-shock signals in rare earths and critical minerals, by email."""

from watcher.compiled import use_source_if_stale
from watcher.imports import import_hiding

use_source_if_stale()  # before any compiled module is imported (watcher.compiled)

__version__ = "0.1.0"


def _import_structlog_without_rich() -> None:
    """Import structlog with `rich` hidden from it, unless something loaded rich already.

    structlog's package imports `structlog.dev`, which imports rich (and through it
    pygments: about 4 MB and 0.15 s of start-up per process, parse workers included)
    whenever rich is installed, for the tracebacks of its console renderer. The service
    renders JSON lines, or console lines whose tracebacks `watcher.ops.log` draws with
    rich loaded only then, and the command line loads rich only to draw a table or a bar
    on a terminal (`watcher.imports.import_hiding`).
    """
    import_hiding("structlog", "rich")


_import_structlog_without_rich()
