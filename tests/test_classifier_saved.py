"""A classifier saved in the data folder is loaded by the next process, and only when valid."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from watcher.classify.engine import Classifier
from watcher.classify.saved import SAVED_NAME, _save, saved_classifier, saved_key
from watcher.config import WatcherConfig
from watcher.service.analysis import Rules, _built, analyse

MakeConfig = Callable[..., WatcherConfig]
DEVSET = Path(__file__).parent / "data" / "classify" / "devset.jsonl"
TODAY = date(2026, 12, 4)


class Builds:
    """A `build` for `saved_classifier` that counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, concepts: dict, signals: dict) -> Classifier:  # type: ignore[type-arg]
        self.calls += 1
        return _built(concepts, signals)


def _devset() -> list[tuple[str, str]]:
    lines = DEVSET.read_text(encoding="utf-8").splitlines()
    return [(item["title"], item["body"]) for item in map(json.loads, lines)]


def test_a_saved_classifier_is_loaded_and_classifies_as_a_built_one(
    make_config: MakeConfig, tmp_path: Path
) -> None:
    """The second call loads what the first saved (no build), and every dev-set item gets
    the same signals from it as from a classifier built in place."""
    config = make_config()
    builds = Builds()
    first = saved_classifier(tmp_path, config.concepts, config.signals, builds)
    second = saved_classifier(tmp_path, config.concepts, config.signals, builds)
    assert builds.calls == 1
    assert second is not first
    built = Classifier(config.concepts, config.signals)
    items = _devset()
    got = [second.classify(title, body, TODAY) for title, body in items]
    assert got == [built.classify(title, body, TODAY) for title, body in items]
    assert sum(map(len, got)) > 50  # the dev set fires rules


def test_other_rules_are_built_and_replace_the_saved_classifier(
    make_config: MakeConfig, tmp_path: Path
) -> None:
    """A classifier saved for other rules is not used: the rules' own is built and saved."""
    config = make_config()
    fewer = dict(config.signals)
    fewer.pop(next(iter(fewer)))
    builds = Builds()
    saved_classifier(tmp_path, config.concepts, config.signals, builds)
    saved_classifier(tmp_path, config.concepts, fewer, builds)
    saved_classifier(tmp_path, config.concepts, fewer, builds)
    assert builds.calls == 2
    head = (tmp_path / SAVED_NAME).read_bytes()[:64]
    assert head == saved_key(config.concepts, fewer)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_a_damaged_file_is_built_again(
    make_config: MakeConfig, tmp_path: Path, damage: str
) -> None:
    """A truncated, garbled or empty file under the right key is rebuilt and rewritten."""
    config = make_config()
    builds = Builds()
    saved_classifier(tmp_path, config.concepts, config.signals, builds)
    path = tmp_path / SAVED_NAME
    data = path.read_bytes()
    key_line = data[: data.index(b"\n") + 1]
    damaged = {"truncated": data[: len(data) // 2], "garbage": key_line + b"\x80\x05junk"}
    path.write_bytes(damaged.get(damage, b""))
    classifier = saved_classifier(tmp_path, config.concepts, config.signals, builds)
    assert builds.calls == 2
    assert classifier.classify("China halts gallium exports", "Exports stopped.", TODAY) == (
        Classifier(config.concepts, config.signals).classify(
            "China halts gallium exports", "Exports stopped.", TODAY
        )
    )
    saved_classifier(tmp_path, config.concepts, config.signals, builds)
    assert builds.calls == 2  # saved whole again: the next call loads it


class _Planted:
    """Unpickled, it leaves a mark: what a file planted by another user could do."""

    def __init__(self, mark: Path) -> None:
        self.mark = mark

    def __reduce__(self) -> tuple[object, ...]:
        return (Path.touch, (self.mark,))


def test_a_file_others_may_write_is_never_unpickled(
    make_config: MakeConfig, tmp_path: Path
) -> None:
    """A file under the right key that the group or others may write is not loaded (its
    code does not run): the classifier is built and saved over it, readable by its owner
    alone."""
    import pickle

    config = make_config()
    builds = Builds()
    saved_classifier(tmp_path, config.concepts, config.signals, builds)
    path = tmp_path / SAVED_NAME
    assert path.stat().st_mode & 0o077 == 0
    mark = tmp_path / "ran"
    key = saved_key(config.concepts, config.signals)
    path.write_bytes(key + b"\n" + pickle.dumps(_Planted(mark)))
    path.chmod(0o666)
    saved_classifier(tmp_path, config.concepts, config.signals, builds)
    assert not mark.exists()
    assert builds.calls == 2
    assert path.stat().st_mode & 0o077 == 0
    path.write_bytes(key + b"\n" + pickle.dumps(_Planted(mark)))  # the owner's own file
    path.chmod(0o600)
    saved_classifier(tmp_path, config.concepts, config.signals, builds)
    assert mark.exists()  # the check above is the only guard: a trusted file is loaded


def test_a_missing_folder_is_not_created(make_config: MakeConfig, tmp_path: Path) -> None:
    """Without its folder the classifier is built each time and nothing is written."""
    config = make_config()
    builds = Builds()
    folder = tmp_path / "absent"
    saved_classifier(folder, config.concepts, config.signals, builds)
    saved_classifier(folder, config.concepts, config.signals, builds)
    assert builds.calls == 2
    assert not folder.exists()


def test_the_key_is_the_same_in_every_process(make_config: MakeConfig) -> None:
    """Processes with different hash seeds key the same rules alike (the rules' pickle
    does not: it holds sets of field names in the process's own order)."""
    config = make_config()
    config_path = config.data_dir.parent / "watcher.yaml"
    code = (
        "import sys; from pathlib import Path; from watcher.config import load_config;"
        " from watcher.classify.saved import saved_key;"
        " c = load_config(Path(sys.argv[1]), environ={});"
        " print(saved_key(c.concepts, c.signals).decode())"
    )
    keys = set()
    for seed in ("1", "2", "3"):
        env = os.environ | {"PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", code, str(config_path)],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        keys.add(done.stdout.strip())
    assert keys == {saved_key(config.concepts, config.signals).decode()}


def test_analysing_saves_the_classifier_in_the_data_folder(make_config: MakeConfig) -> None:
    """The service's rules name its data folder: analysing there leaves the classifier."""
    config = make_config()
    config.data_dir.mkdir(parents=True)
    rules = Rules.from_config(config, warn=False)
    assert rules.saved_in == config.data_dir
    fresh = Rules(f"fresh-{uuid.uuid4().hex}", rules.payload, rules.saved_in)  # none held yet
    analyse(fresh, [("China halts gallium exports", "Exports stopped.", TODAY)], False)
    saved = (config.data_dir / SAVED_NAME).read_bytes()
    assert saved.startswith(saved_key(config.concepts, config.signals) + b"\n")


def _rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1])


def test_saving_keeps_no_copy_of_the_automata(make_config: MakeConfig, tmp_path: Path) -> None:
    """Saving three times grows the process by less than one copy of the term automata
    (pickling an automaton itself kept about 8 MB each time), and each automaton is its
    own file beside the classifier's, readable by its owner alone."""
    config = make_config()
    classifier = _built(config.concepts, config.signals)
    key = saved_key(config.concepts, config.signals)
    path = tmp_path / SAVED_NAME
    _save(path, key, classifier)  # the first call's imports and buffers are not counted
    before = _rss_kib()
    for _ in range(3):
        _save(path, key, classifier)
    assert _rss_kib() - before < 4 * 1024
    automata = sorted(tmp_path.glob(f"{SAVED_NAME}.*.automaton"))
    assert len(automata) >= 1
    assert all(each.stat().st_mode & 0o077 == 0 for each in automata)


def test_an_automaton_file_is_trusted_as_the_classifier_file(
    make_config: MakeConfig, tmp_path: Path
) -> None:
    """An automaton file that others may write makes the saved classifier untrusted: it is
    built again and saved over; the automata of other rules are removed at that save."""
    config = make_config()
    builds = Builds()
    saved_classifier(tmp_path, config.concepts, config.signals, builds)
    (automaton,) = tmp_path.glob(f"{SAVED_NAME}.*.0.automaton")
    stale = tmp_path / f"{SAVED_NAME}.0123456789abcdef.0.automaton"
    stale.write_bytes(b"left by other rules")
    automaton.chmod(0o666)
    saved_classifier(tmp_path, config.concepts, config.signals, builds)
    assert builds.calls == 2
    assert not stale.exists()
    assert automaton.stat().st_mode & 0o077 == 0
    saved_classifier(tmp_path, config.concepts, config.signals, builds)
    assert builds.calls == 2
