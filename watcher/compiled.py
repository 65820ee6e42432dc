"""The modules compiled to C extensions by mypyc, and the guard against a stale one.

`setup.py` compiles the classifier's hot modules (`COMPILED`) with mypyc when the project
is installed (`pip install .` or `-e .`: make run, make test, the image); each extension
(`matcher.cpython-311-….so`) sits beside its `.py`, and Python imports an extension
before a source of the same name. Their shared runtime is one library at the top of the
install (`GROUP__mypyc….so`, beside the `watcher` folder).

An extension built from an older source would silently run the old code after an edit
of the `.py`. So when this package is a source tree (not under `site-packages`, where
nothing is edited and an install's files get arbitrary times), `use_source_if_stale`
(run as `watcher` is imported, before any of these modules) compares each extension's
modification time with its source's: if any source is newer, or an extension is missing
while others are there, every one of these modules is imported from its source, all or
none, since compiled modules of one group call each other's C functions directly, not
through the module a stale one would be replaced by. `WATCHER_PURE=1` does the same on
purpose (the tests run both ways). `make` rebuilds the extensions when a source changes.

This file imports only the standard library: `setup.py` reads `COMPILED` from it in
pip's build environment, where the service's dependencies are not installed.
"""

from __future__ import annotations

import importlib.machinery
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import ModuleType

# hot modules of classification (callgrind: the interpreter loop over these is most of
# an item's cost); a module that imports another one of the list calls it in C
COMPILED: tuple[str, ...] = (
    "watcher.classify.background",
    "watcher.classify.direction",
    "watcher.classify.easing",
    "watcher.classify.engine",
    "watcher.classify.figures",
    "watcher.classify.matcher",
    "watcher.classify.rules",
    "watcher.classify.text",
)
GROUP = "watcher_compiled"  # the shared library's name: GROUP__mypyc.<suffix>
PURE_ENV = "WATCHER_PURE"  # "1": import every COMPILED module from its source

_TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # holds `watcher`


def source_path(module: str) -> str:
    """The `.py` file of a `COMPILED` module."""
    return os.path.join(_TOP, *module.split(".")) + ".py"


def extension_path(module: str) -> str | None:
    """The extension built for a `COMPILED` module, None when there is none."""
    base = os.path.join(_TOP, *module.split("."))
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        if os.path.exists(base + suffix):
            return base + suffix
    return None


def runtime_path() -> str | None:
    """The compiled modules' shared library, None when there is none."""
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = os.path.join(_TOP, f"{GROUP}__mypyc{suffix}")
        if os.path.exists(path):
            return path
    return None


def is_installed_copy() -> bool:
    """True when this package is an installed copy (under site- or dist-packages)."""
    return os.path.basename(_TOP) in ("site-packages", "dist-packages")


def stale_reasons() -> list[str]:
    """Why the extensions must not be used (empty: they may): a source newer than its
    extension, an extension missing beside others. Always empty for an installed copy."""
    if is_installed_copy():
        return []
    found = {module: extension_path(module) for module in COMPILED}
    if not any(found.values()):
        return []
    reasons = []
    for module, extension in found.items():
        if extension is None:
            reasons.append(f"{module}: no extension")
        elif os.stat(source_path(module)).st_mtime_ns > os.stat(extension).st_mtime_ns:
            reasons.append(f"{module}: {os.path.basename(extension)} is older than its source")
    return reasons


class _SourceFirst:
    """Finds the `COMPILED` modules as their `.py` files, ahead of their extensions (a
    meta path finder)."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in COMPILED:
            return None
        import importlib.util

        return importlib.util.spec_from_file_location(fullname, source_path(fullname))


def source_forced() -> bool:
    """True when the `COMPILED` modules are imported from their sources in this process."""
    return any(isinstance(finder, _SourceFirst) for finder in sys.meta_path)


def use_source_if_stale() -> None:
    """Import the `COMPILED` modules from their sources when `WATCHER_PURE=1` or any
    extension is stale (`stale_reasons`); once per process, before any of them is imported."""
    if source_forced():
        return
    if os.environ.get(PURE_ENV) == "1" or stale_reasons():
        sys.meta_path.insert(0, _SourceFirst())


def in_use() -> list[str]:
    """The files the `COMPILED` modules run from in this process (or would, not yet
    imported): each extension, or each source when they are forced or there are none;
    the shared library when extensions are used."""
    if source_forced() or extension_path(COMPILED[0]) is None:
        return [source_path(module) for module in COMPILED]
    files = [extension_path(module) or source_path(module) for module in COMPILED]
    runtime = runtime_path()
    return [*files, runtime] if runtime else files


if TYPE_CHECKING:
    from mypy_extensions import mypyc_attr as mypyc_attr
else:

    def mypyc_attr(*args: object, **kwargs: object) -> object:
        """mypyc's class options (`@mypyc_attr(serializable=True)`: a compiled class that
        pickles); mypyc reads them when compiling, and run as Python they do nothing, so
        the service needs no mypy_extensions."""
        return lambda cls: cls
