"""The classifier's modules compiled by mypyc (watcher/compiled.py, setup.py): in use after
the install, never used once older than their sources, left out under WATCHER_PURE=1,
part of the saved classifier's key, and pickled with the classifier."""

from __future__ import annotations

import importlib
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from watcher import compiled
from watcher.classify.engine import Classifier
from watcher.config.load import load_config

ROOT = Path(__file__).resolve().parent.parent
BUILT = compiled.extension_path(compiled.COMPILED[0]) is not None
PURE = os.environ.get(compiled.PURE_ENV) == "1"
needs_extensions = pytest.mark.skipif(not BUILT, reason="no compiled extensions (WATCHER_PURE=1)")


def _env(tree: Path, *, pure: bool) -> dict[str, str]:
    """This environment with `tree` first on the path, and `WATCHER_PURE=1` only if `pure`."""
    env = {k: v for k, v in os.environ.items() if k != compiled.PURE_ENV}
    env["PYTHONPATH"] = str(tree)
    if pure:
        env[compiled.PURE_ENV] = "1"
    return env


def _files(tree: Path, *, pure: bool = False) -> dict[str, str]:
    """Each compiled module's file as a fresh interpreter imports it from `tree`."""
    env = _env(tree, pure=pure)
    code = (
        "import importlib, sys\n"
        "for name in sys.argv[1:]:\n"
        "    print(name, importlib.import_module(name).__file__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *compiled.COMPILED],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(line.split(" ", 1) for line in done.stdout.splitlines())


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the package with its extensions and their shared library, times kept."""
    shutil.copytree(ROOT / "watcher", tmp_path / "watcher", copy_function=shutil.copy2)
    runtime = compiled.runtime_path()
    assert runtime is not None
    shutil.copy2(runtime, tmp_path)
    return tmp_path


@pytest.mark.skipif(PURE, reason="WATCHER_PURE=1 runs the sources on purpose")
def test_the_installed_extensions_are_current_and_in_use() -> None:
    """After `make test`'s install every compiled module runs from its extension: none is
    older than its source (else `make` rebuilds it; an edit after that is caught here)."""
    assert BUILT, "no extensions: run `make test` (it builds them) or set WATCHER_PURE=1"
    assert compiled.stale_reasons() == []
    assert not compiled.source_forced()
    for name in compiled.COMPILED:
        assert importlib.import_module(name).__file__ == compiled.extension_path(name), name


@needs_extensions
def test_a_source_newer_than_its_extension_puts_every_module_back_on_source(tree: Path) -> None:
    """One edited source (newer than its extension): all the compiled modules are imported
    from their sources, since compiled modules call each other in C."""
    assert all(not path.endswith(".py") for path in _files(tree).values())
    edited = tree / "watcher" / "classify" / "matcher.py"
    extension = compiled.extension_path("watcher.classify.matcher")
    assert extension is not None
    later = os.stat(extension).st_mtime_ns + 1_000_000_000
    os.utime(edited, ns=(later, later))
    files = _files(tree)
    assert files == {name: str(tree / (name.replace(".", "/") + ".py")) for name in files}
    assert len(files) == len(compiled.COMPILED)


@needs_extensions
def test_a_missing_extension_puts_every_module_back_on_source(tree: Path) -> None:
    """An extension removed while the others stay: every module from its source."""
    relative = Path(str(compiled.extension_path("watcher.classify.text"))).relative_to(ROOT)
    (tree / relative).unlink()
    assert all(path.endswith(".py") for path in _files(tree).values())


@needs_extensions
def test_watcher_pure_imports_the_sources(tree: Path) -> None:
    """WATCHER_PURE=1: the sources, though the extensions are current."""
    assert all(path.endswith(".py") for path in _files(tree, pure=True).values())


@needs_extensions
def test_the_saved_classifier_key_covers_the_extensions(tree: Path) -> None:
    """The saved classifier's key changes with a rebuilt extension (its time) and between
    compiled and source modules, so neither loads a classifier pickled by the other."""

    def key(*, pure: bool = False) -> str:
        env = _env(tree, pure=pure)
        code = (
            "from watcher.classify.saved import saved_key\n"
            "from watcher.config.load import load_config\n"
            "config = load_config({!r})\n"
            "print(saved_key(config.concepts, config.signals).decode())\n"
        ).format(str(ROOT / "config" / "watcher.yaml"))
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=tree,  # `-c` puts the working folder first on the path
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    before = key()
    assert key() == before
    assert key(pure=True) != before
    runtime = next(tree.glob(f"{compiled.GROUP}__mypyc*"))
    later = runtime.stat().st_mtime_ns + 1_000_000_000
    os.utime(runtime, ns=(later, later))
    assert key() != before


def test_a_pickled_classifier_classifies_as_the_one_it_was_made_from() -> None:
    """The compiled classes pickle (mypyc `serializable`) with all their state: the copy
    finds the same signals, in compiled and in source runs alike."""
    classifier = Classifier.from_config(load_config(ROOT / "config" / "watcher.yaml"), warn=False)
    text = (
        "China's commerce ministry said on Tuesday it would ban exports of gallium and "
        "germanium to the United States. Separately, floods halted two rare earth mines."
    )
    signals = classifier.classify("China bans gallium exports", text)
    assert signals
    copy = pickle.loads(pickle.dumps(classifier))
    assert type(copy) is Classifier
    assert copy.classify("China bans gallium exports", text) == signals


def test_the_makefile_rebuilds_on_every_compiled_source() -> None:
    """`make`'s rebuild of the extensions depends on every compiled module's source."""
    done = subprocess.run(
        [
            "make",
            "-s",
            "--no-print-directory",
            "--eval",
            "show: ; @echo $(COMPILED_SOURCES)",
            "show",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    listed = set(done.stdout.split())
    wanted = {name.replace(".", "/") + ".py" for name in compiled.COMPILED}
    assert listed == wanted | {"watcher/compiled.py"}
