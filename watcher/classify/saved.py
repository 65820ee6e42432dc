"""A built classifier kept in the data folder, so that the next process loads it.

Every `watcher run --once` is a fresh process, and the first item it classifies used to
build the rules' classifier: its term automata and their tables, about 0.3 s of CPU, a
tenth of a round with new items on the peer farm (issue 20). Loading the classifier
built by an earlier round costs about 0.1 s (its automata read by pyahocorasick's own
`load`, about 0.09 s: see `_Pickler`). The file (`SAVED_NAME` in `data_dir`)
starts with one line, the key it was saved under, then the pickle; it is loaded only
under the same key, which covers everything the built object depends on: the rules
(as JSON), the interpreter's version, and the size and modification time of pyahocorasick's
extension, of every module of the `watcher` package (as the interpreter's bytecode
cache trusts a source's size and time) and of the files the compiled modules run from
(`watcher.compiled.in_use`: their mypyc extensions and shared library, or their sources
when `WATCHER_PURE=1` or a stale extension leaves them out), so a rebuilt extension, or
a switch between compiled and source modules, rebuilds the classifier. Any other
file, a truncated or unreadable one among them, is rebuilt and saved again. A folder
that does not exist is not created: such a service (PostgreSQL, no data folder) builds
its classifier each time, as before.

The file is a pickle, and unpickling can run code, so it is trusted only as the
service's own: it is read back only from the service's data folder (which holds its
database), only when this process's user owns it and no other user may write it (as
OpenSSH treats its key files); any other file is left alone, logged and rebuilt in
memory. It is written with mode 0600 under a temporary name and renamed into place, so
a reader sees a whole file or the one before it.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING

import ahocorasick
import pydantic_core
import structlog

from watcher.compiled import in_use
from watcher.config import SignalRule
from watcher.config.schema import ConceptSpec

if TYPE_CHECKING:
    from watcher.classify.engine import Classifier

Concepts = dict[str, ConceptSpec]
Signals = dict[str, SignalRule]
Build = Callable[[Concepts, Signals], "Classifier"]

SAVED_NAME = "classifier.pickle"
_PACKAGE = Path(__file__).resolve().parent.parent  # the `watcher` package
# what reading a damaged, stale or foreign file may raise (unpickling runs no code of
# ours but class lookups, so these are its failures)
_UNREADABLE = (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError,
               IndexError, TypeError, ValueError)  # fmt: skip

log = structlog.get_logger(__name__)


def saved_key(concepts: Concepts, signals: Signals) -> bytes:
    """The key the classifier of these rules is saved under, as this process's code
    would build it (see the module's docstring); hex digits.

    The rules go in as JSON, in the config's order: their pickle (`Rules.digest`) holds
    each model's set of fields given, whose order changes from process to process.
    """
    parts = [pydantic_core.to_json([concepts, signals]).decode(), sys.version]
    # resolved: the same file reached through a symbolic link (a venv's) is the same
    parts.append(_stamp(Path(ahocorasick.__file__).resolve()))
    parts += sorted(_stamp(path) for path in _PACKAGE.rglob("*.py"))
    parts += ["compiled modules:", *(_stamp(Path(path)) for path in in_use())]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest().encode()


def _stamp(path: Path) -> str:
    status = path.stat()
    return f"{path} {status.st_size} {status.st_mtime_ns}"


def saved_classifier(
    folder: Path | None, concepts: Concepts, signals: Signals, build: Build
) -> Classifier:
    """The classifier of these rules saved in `folder` by this code, else
    `build(concepts, signals)`, saved there for the next process (when `folder` exists).

    `build` must return the classifier fully built (its automata made: classify
    something first), since it is saved as it is.
    """
    if folder is None:
        return build(concepts, signals)
    path = folder / SAVED_NAME
    key = saved_key(concepts, signals)
    loaded = _load(path, key)
    if loaded is not None:
        return loaded
    classifier = build(concepts, signals)
    if folder.is_dir():
        _save(path, key, classifier)
    return classifier


def _load(path: Path, key: bytes) -> Classifier | None:
    """The classifier in `path` when it was saved under `key`; None for any other file."""
    try:
        with path.open("rb") as file:  # streamed: the file's bytes are never held whole
            refusal = _untrusted(os.fstat(file.fileno()))
            if refusal:
                raise _Refused(path, refusal)
            if file.readline() != key + b"\n":
                return None
            classifier: Classifier = _Unpickler(file, path, key).load()
    except FileNotFoundError:
        return None
    except _Refused as exc:
        log.warning("saved_classifier_refused", path=str(exc.path), reason=exc.reason)
        return None
    except _UNREADABLE as exc:
        log.warning("saved_classifier_unreadable", path=str(path), error=repr(exc))
        return None
    return classifier


class _Refused(Exception):
    """A file of the saved classifier that is not to be trusted (`_untrusted`)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(path, reason)
        self.path, self.reason = path, reason


def _automata_prefix(path: Path, key: bytes) -> str:
    """How the names of the automata files of the classifier saved in `path` under `key`
    begin: beside it, named by the key, so that files of different keys never mix."""
    return f"{path.name}.{key[:16].decode()}."


def _automaton_path(path: Path, key: bytes, index: int) -> Path:
    """Where the `index`-th term automaton of the classifier saved in `path` under `key`
    is kept (`_automata_prefix`)."""
    return path.with_name(f"{_automata_prefix(path, key)}{index}.automaton")


class _Pickler(pickle.Pickler):
    """Pickles a classifier with each term automaton saved beside it by the automaton's
    own `save`, streamed to its file: pickling an automaton (pyahocorasick 2.3.1) leaks the
    whole serialised trie, about 8 MB of this one, at every dump (pyahocorasick issue 219,
    its fix unreleased; `tests/test_classifier_saved.py` measures it), which a small
    container cannot spare."""

    def __init__(self, file: IO[bytes], path: Path, key: bytes) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.path, self.key, self.automata = path, key, 0

    def persistent_id(self, obj: object) -> tuple[str, int] | None:
        if not isinstance(obj, ahocorasick.Automaton):
            return None
        index, self.automata = self.automata, self.automata + 1
        target = _automaton_path(self.path, self.key, index)
        temporary = target.with_name(f".{target.name}-{os.getpid()}")
        try:
            obj.save(str(temporary), pickle.dumps)
            os.chmod(temporary, 0o600)
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
        return ("automaton", index)


class _Unpickler(pickle.Unpickler):
    """Loads what `_Pickler` wrote, each automaton from its file, trusted as the
    classifier's own file is (`_untrusted`)."""

    def __init__(self, file: IO[bytes], path: Path, key: bytes) -> None:
        super().__init__(file)
        self.path, self.key = path, key

    def persistent_load(self, pid: object) -> ahocorasick.Automaton:
        if not (isinstance(pid, tuple) and len(pid) == 2 and pid[0] == "automaton"):
            raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")
        target = _automaton_path(self.path, self.key, int(pid[1]))
        refusal = _untrusted(target.stat())
        if refusal:
            raise _Refused(target, refusal)
        return ahocorasick.load(str(target), pickle.loads)


def _untrusted(status: os.stat_result) -> str | None:
    """Why a file with this status must not be unpickled, or None: it must be a regular
    file owned by this process's user that neither its group nor others may write."""
    if not stat.S_ISREG(status.st_mode):
        return "not a regular file"
    if status.st_uid != os.geteuid():
        return f"owned by uid {status.st_uid}, not {os.geteuid()}"
    if status.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"writable by other users (mode {stat.S_IMODE(status.st_mode):o})"
    return None


def _save(path: Path, key: bytes, classifier: Classifier) -> None:
    """`classifier` into `path` under `key` (its automata beside it), whole or not at all;
    the automata of other keys are removed. A failure is logged."""
    try:
        with tempfile.NamedTemporaryFile(
            dir=path.parent, prefix=f".{path.name}-", delete=False
        ) as file:
            temporary = Path(file.name)
            try:
                file.write(key + b"\n")
                _Pickler(file, path, key).dump(classifier)
            except BaseException:
                file.close()
                temporary.unlink(missing_ok=True)
                raise
        os.replace(temporary, path)
        ours = _automata_prefix(path, key)
        for other in path.parent.glob(f"{path.name}.*.automaton"):
            if not other.name.startswith(ours):
                other.unlink(missing_ok=True)
    except (OSError, pickle.PicklingError, TypeError) as exc:
        log.warning("saved_classifier_not_written", path=str(path), error=repr(exc))
