"""The rules' classifier kept in the data folder between `run --once` processes.

Building the classifier of the default rules and paying its one-off costs (the term
automata and patterns built as the first items need them) took about 0.27 s of CPU in
every `run --once` round that had an item to classify: about 7 % of a new-items round
over 200 feeds (400 items). Unpickling the same classifier, already warm, takes about
35 ms. So a `run --once` process that built a classifier writes it, as its round ends
(no poll in flight, nothing classifying), to `<data_dir>/cache/`, and the next process
with the same rules and the same code loads it instead of building it.

The file's name is a digest of everything the pickled objects depend on: the rules
(`Rules.content`), the source of the packages whose objects it holds (`watcher.classify`,
`watcher.domain`, `watcher.config`), the interpreter's version and the versions of
pydantic and pyahocorasick. Another digest is another file; writing one removes the
others. A classifier classifies the same however much of it was built lazily before,
so a warm copy gives the same signals as a new build (tests/test_classifier_cache.py).

Loading a pickle runs code it names, so a file is loaded only when it is a regular file
owned by this process's user and writable by no one else (the folder is made with mode
0700, the file written with 0600); anything else, and any error reading it, is ignored
and the classifier is built as before. Only the service's own processes write and read
these files.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import stat
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from watcher.classify.engine import Classifier

log = structlog.get_logger("watcher.classifier_cache")
FOLDER = "cache"
PREFIX = "classifier-"
SUFFIX = ".pickle"
# the packages whose classes and constants a pickled classifier holds
_PACKAGES = ("classify", "domain", "config")


def folder(data_dir: Path) -> Path:
    """Where a config's cached classifiers live."""
    return data_dir / FOLDER


def path_for(directory: Path, rules_key: str) -> Path:
    """The file of the classifier of rules `rules_key` built by this code."""
    key = hashlib.sha256(rules_key.encode() + b"\0" + _code_digest()).hexdigest()
    return directory / f"{PREFIX}{key[:32]}{SUFFIX}"


def load(directory: Path, rules_key: str) -> Classifier | None:
    """The cached classifier of `rules_key`, or None when there is none to trust."""
    from watcher.classify.engine import Classifier

    path = path_for(directory, rules_key)
    try:
        with path.open("rb") as handle:
            info = os.fstat(handle.fileno())
            if not _trusted(info):
                log.warning("classifier_cache_untrusted", path=str(path))
                return None
            classifier = pickle.load(handle)
    except FileNotFoundError:
        return None
    except Exception as exc:  # a cache is never worth a failed round: build instead
        log.warning("classifier_cache_unreadable", path=str(path), error=repr(exc))
        return None
    return classifier if isinstance(classifier, Classifier) else None


def save(directory: Path, rules_key: str, classifier: Classifier) -> None:
    """Write `classifier` as the cached one for `rules_key`, replacing any other.

    The caller must hold the classifier still (nothing classifying with it meanwhile).
    Written to a temporary file and renamed, so a reader sees a whole file or none.
    A failure is logged and otherwise ignored.
    """
    path = path_for(directory, rules_key)
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        data = pickle.dumps(classifier, protocol=pickle.HIGHEST_PROTOCOL)
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=SUFFIX)
        try:
            with os.fdopen(handle, "wb") as out:  # mkstemp makes it 0600
                out.write(data)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        for other in directory.glob(f"{PREFIX}*{SUFFIX}"):
            if other != path:
                with contextlib.suppress(OSError):
                    other.unlink()
    except Exception as exc:
        log.warning("classifier_cache_not_written", path=str(path), error=repr(exc))


def _trusted(info: os.stat_result) -> bool:
    return (
        stat.S_ISREG(info.st_mode)
        and info.st_uid == os.getuid()
        and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )


_code: bytes | None = None


def _code_digest() -> bytes:
    """A digest of the code a pickled classifier depends on (computed once a process)."""
    global _code
    if _code is None:
        import ahocorasick
        import pydantic

        import watcher

        digest = hashlib.sha256()
        digest.update(sys.version.encode() + b"\0" + pydantic.VERSION.encode() + b"\0")
        library = Path(ahocorasick.__file__ or "")
        with contextlib.suppress(OSError):
            info = library.stat()
            digest.update(f"{library}:{info.st_size}:{info.st_mtime_ns}".encode())
        root = Path(watcher.__file__).parent
        for package in _PACKAGES:
            for source in sorted((root / package).rglob("*.py")):
                digest.update(str(source.relative_to(root)).encode() + b"\0")
                digest.update(source.read_bytes())
        _code = digest.digest()
    return _code
