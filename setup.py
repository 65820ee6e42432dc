"""The classifier's hot modules compiled to C extensions by mypyc (`watcher.compiled`).

pyproject.toml holds the project's metadata; this file only adds the extensions, so that
`pip install .` and `pip install -e .` (make run, make test, the image) build them. mypyc
comes from the build requirements (pyproject.toml, [build-system]) and type-checks the
compiled modules alone: installed packages it does not find (pip builds in an isolated
environment) are `Any` to it, and other modules' errors are not its business (mypy, with
the project's own config, checks the whole package). `WATCHER_PURE=1` at install time
builds no extension (the service then runs the modules' Python source).
"""

from __future__ import annotations

import os
import runpy

from setuptools import setup
from setuptools.command.build_ext import build_ext

# the one list of modules, read without importing the package (pip's build environment
# has none of its dependencies)
_HERE = os.path.dirname(os.path.abspath(__file__))
_LISTED = runpy.run_path(os.path.join(_HERE, "watcher", "compiled.py"))
COMPILED: tuple[str, ...] = _LISTED["COMPILED"]
GROUP: str = _LISTED["GROUP"]


def extensions() -> list[object]:
    """The mypyc extensions of the `COMPILED` modules, none under `WATCHER_PURE=1`."""
    if os.environ.get("WATCHER_PURE") == "1":
        return []
    from mypyc.build import mypycify

    sources = [name.replace(".", "/") + ".py" for name in COMPILED]
    flags = ["--config-file=", "--ignore-missing-imports", "--follow-imports=silent"]
    return list(mypycify([*flags, *sources], group_name=GROUP, opt_level="3"))


class BuildExt(build_ext):
    """Builds the extensions, then dates every one of them now, also those setuptools
    found up to date and those mypyc left alone (a comment edited: the same C): the guard
    against stale extensions (`watcher.compiled`) compares their times with the sources'."""

    def run(self) -> None:
        super().run()
        for extension in self.extensions:
            name = self.get_ext_filename(extension.name)
            for path in (os.path.join(self.build_lib, name), os.path.join(_HERE, name)):
                if os.path.exists(path):
                    os.utime(path)


setup(ext_modules=extensions(), cmdclass={"build_ext": BuildExt})
