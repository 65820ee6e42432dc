"""Import a module with another one hidden from it, for optional imports it does not need."""

from __future__ import annotations

import importlib
import sys


def import_hiding(module: str, hidden: str) -> None:
    """Import `module` with `hidden` unavailable to it, unless either is loaded already.

    A `None` in `sys.modules` makes `import hidden` raise ImportError, which a library
    with an optional dependency takes for "not installed"; the entry is removed at once,
    so a later `import hidden` works as ever.
    """
    if module in sys.modules or hidden in sys.modules:
        return
    sys.modules[hidden] = None  # type: ignore[assignment]
    try:
        importlib.import_module(module)
    finally:
        del sys.modules[hidden]
