"""The classifier a `run --once` process built, cached for the next: same signals, or none."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.conftest import ROOT
from watcher.config import WatcherConfig
from watcher.service import analysis, classifier_cache
from watcher.service.analysis import Rules, analyse, classifier_for, save_built

MakeConfig = Callable[..., WatcherConfig]
DEVSET = ROOT / "tests" / "data" / "classify" / "devset.jsonl"

# in a fresh process (its own string hashing): the config's rules with the cache folder
# given; "save" classifies the first half of the texts and caches the classifier it
# built, "classify" prints every text's signals and whether the classifier was built
_PROCESS = """
import json, sys
from datetime import date
from pathlib import Path
from watcher.config.load import load_config
from watcher.service import analysis
config_path, cache, mode, texts_path = sys.argv[1:]
config = load_config(Path(config_path), environ={})
rules = analysis.Rules.from_config(config, cache=Path(cache) if cache != "-" else None)
texts = [(t, b, date(2026, 5, 4)) for t, b in json.loads(Path(texts_path).read_text())]
if mode == "save":
    analysis.analyse(rules, texts[: len(texts) // 2], False)
    analysis.save_built(rules)
    print(json.dumps({"content": rules.content}))
else:
    out = [[repr(s) for s in a.signals] for a in analysis.analyse(rules, texts, False)]
    print(json.dumps({"signals": out, "built": rules.digest in analysis._built}))
"""


def _texts(tmp_path: Path) -> Path:
    rows = [json.loads(line) for line in DEVSET.read_text(encoding="utf-8").splitlines()]
    texts = [[r["title"], r["body"]] for r in rows if r.get("split") == "dev"]
    assert len(texts) > 100
    path = tmp_path / "texts.json"
    path.write_text(json.dumps(texts), encoding="utf-8")
    return path


def _process(config: Path, cache: str, mode: str, texts: Path, seed: str) -> dict[str, object]:
    env = os.environ | {"PYTHONHASHSEED": seed}
    out = subprocess.run(
        [sys.executable, "-c", _PROCESS, str(config), cache, mode, str(texts)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    result: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return result


def test_a_cached_classifier_gives_every_signal_a_new_build_gives(
    make_config: MakeConfig, tmp_path: Path
) -> None:
    """A process saves the classifier it built and warmed on half the dev texts; another
    process (another string hashing) loads it instead of building, and classifies every
    dev text exactly as a process that builds its own; the rules' `content` key is the
    same in every process, where the payload's digest is not."""
    config = make_config()
    path = tmp_path / "watcher.yaml"
    cache = str(tmp_path / "cache")
    texts = _texts(tmp_path)
    saved = _process(path, cache, "save", texts, "1")
    assert len(list(Path(cache).glob("classifier-*.pickle"))) == 1
    cached = _process(path, cache, "classify", texts, "2")
    built = _process(path, "-", "classify", texts, "3")
    assert cached["built"] is False
    assert built["built"] is True
    assert cached["signals"] == built["signals"]
    assert any(built["signals"])  # type: ignore[arg-type]
    assert saved["content"] == Rules.from_config(config, cache=Path(cache)).content


def _fresh_rules(make_config: MakeConfig, cache: Path, drop: int) -> Rules:
    """Rules no other test built (one signal type dropped), cached in `cache`."""
    config = make_config()
    name = list(config.signals)[drop]
    fewer = config.model_copy(
        update={"signals": {k: v for k, v in config.signals.items() if k != name}}
    )
    return Rules.from_config(fewer, cache=cache)


def _forget(rules: Rules) -> None:
    analysis._classifiers.pop(rules.digest, None)
    analysis._built.discard(rules.digest)


def test_an_untrusted_or_broken_cache_file_is_built_over(
    make_config: MakeConfig, tmp_path: Path
) -> None:
    """A cached file others may write, or that does not unpickle, is not used: the
    classifier is built as without a cache. A loaded classifier is not saved again."""
    cache = tmp_path / "cache"
    rules = _fresh_rules(make_config, cache, -2)
    texts = [("Ministry halts gallium exports", "Exports of gallium were halted.", None)]
    expected = [a.signals for a in analyse(rules, texts, False)]
    assert rules.digest in analysis._built
    save_built(rules)
    (path,) = cache.glob("classifier-*.pickle")
    assert path == classifier_cache.path_for(cache, rules.content)
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)

    _forget(rules)
    assert classifier_for(rules) is not None
    assert rules.digest not in analysis._built  # loaded, not built
    written = path.stat().st_mtime_ns
    save_built(rules)
    assert path.stat().st_mtime_ns == written

    _forget(rules)
    path.chmod(0o666)
    assert [a.signals for a in analyse(rules, texts, False)] == expected
    assert rules.digest in analysis._built  # built: the file was not trusted

    _forget(rules)
    path.chmod(0o600)
    path.write_bytes(b"not a pickle")
    assert [a.signals for a in analyse(rules, texts, False)] == expected
    assert rules.digest in analysis._built
    save_built(rules)  # the broken file is replaced
    _forget(rules)
    classifier_for(rules)
    assert rules.digest not in analysis._built


def test_without_a_cache_folder_nothing_is_written(make_config: MakeConfig, tmp_path: Path) -> None:
    """`Rules.from_config` without `cache` (the daemon's reloads, the tools) neither
    loads nor saves."""
    config = make_config()
    rules = Rules.from_config(config)
    assert rules.cache is None
    assert rules.content == ""
    analyse(rules, [("Gallium exports halted", "", None)], False)
    save_built(rules)
    assert not list(tmp_path.rglob("classifier-*.pickle"))
