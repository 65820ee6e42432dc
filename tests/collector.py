"""What the cyclic garbage collector would free that given modules made.

Tests that a parser and its handlers are freed by reference counting (not left in a
cycle for the collector) must not count garbage other threads make meanwhile: a thread
an earlier test left winding down can leave thousands of cyclic objects. So only
objects of the kinds the code under test creates are looked for: expat parsers, and
functions (handlers, closures) defined in the named modules.
"""

from __future__ import annotations

import gc
from types import FunctionType, ModuleType
from xml.parsers.expat import XMLParserType


def cyclic_garbage_of(*modules: ModuleType) -> list[object]:
    """Collect now, and return the expat parsers and the functions of `modules` that the
    collection found unreachable (nothing is kept: gc.garbage is emptied afterwards)."""
    names = {module.__name__ for module in modules}
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        return [
            found
            for found in gc.garbage
            if isinstance(found, XMLParserType)
            or (isinstance(found, FunctionType) and found.__module__ in names)
        ]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
