"""Classification and sketches in the parser workers give what the event loop would."""

from __future__ import annotations

import pickle
import threading
import time
import uuid
from collections.abc import Callable
from datetime import date

from watcher.classify.engine import Classifier
from watcher.config import WatcherConfig
from watcher.domain.stories import decode_sketch, sketch_text
from watcher.service.analysis import Analysis, Rules, _classifiers, analyse, classifier_for
from watcher.service.runtime import Runtime

MakeConfig = Callable[..., WatcherConfig]

TODAY = date(2026, 12, 4)
TEXTS: list[tuple[str, str, date | None]] = [
    (
        "China tightens export controls on dysprosium",
        "Beijing imposed export licences on dysprosium and terbium oxide, halting shipments.",
        TODAY,
    ),
    (
        "Lynas halts Mount Weld after flooding",
        "Heavy rain flooded the pit; mining has stopped.",
        TODAY,
    ),
    ("Quarterly results", "Revenue rose on higher prices.", None),
]


def _expected(config: WatcherConfig) -> list[tuple[list[str], object]]:
    classifier = Classifier.from_config(config, warn=False)
    out: list[tuple[list[str], object]] = []
    for title, body, day in TEXTS:
        signals = classifier.classify(title, body, day)
        kinds = [(s.type, s.direction.value) for s in signals]  # the sketch carries them
        out.append(([s.rule for s in signals], sketch_text(title, body, day, kinds)))
    return out


def _got(results: list[Analysis]) -> list[tuple[list[str], object]]:
    return [([s.rule for s in r.signals], decode_sketch(r.fingerprint)) for r in results]


async def test_a_worker_classifies_and_sketches_as_the_event_loop_would(
    make_config: MakeConfig,
) -> None:
    """The same signals and sketches, computed in a real worker process."""
    config = make_config()
    async with Runtime(config) as rt:
        results = await rt.parsers.run("classifying", analyse, rt.rules, TEXTS)
    assert _got(results) == _expected(config)
    assert any(rules for rules, _ in _got(results))  # the texts do fire rules


def test_without_sketching_the_signals_are_the_same_and_no_sketch_is_made(
    make_config: MakeConfig,
) -> None:
    """Story clustering off (`sketching=False`): each item's signals as with sketching, and
    neither a sketch nor story keys."""
    config = make_config()
    rules = Rules.from_config(config)
    sketched = analyse(rules, TEXTS)
    plain = analyse(rules, TEXTS, False)
    assert [r.signals for r in plain] == [r.signals for r in sketched]
    assert all(r.fingerprint is None and r.keys is None for r in plain)
    assert all(r.fingerprint and r.keys for r in sketched)


def test_new_rules_replace_the_classifier_a_worker_kept(make_config: MakeConfig) -> None:
    """A config whose rules changed (a reload) is classified with the new rules."""
    config = make_config()
    fewer = config.model_copy(
        update={"signals": {k: v for k, v in config.signals.items() if k != "export_control"}}
    )
    assert _got(analyse(Rules.from_config(config), TEXTS)) == _expected(config)
    assert _got(analyse(Rules.from_config(fewer), TEXTS)) == _expected(fewer)
    assert _expected(fewer) != _expected(config)


def test_threads_racing_on_new_rules_build_one_classifier(make_config: MakeConfig) -> None:
    """Eight parse threads asking at once for rules not built yet all get one classifier."""
    config = make_config()
    payload = pickle.dumps((config.concepts, config.signals))
    rules = Rules(f"fresh-{uuid.uuid4().hex}", payload)  # a digest no cache holds
    builds = []

    def build() -> Classifier:
        builds.append(threading.get_ident())
        time.sleep(0.05)  # a slow build: every thread arrives while it runs
        return Classifier(config.concepts, config.signals)

    start = threading.Barrier(8)
    got: list[Classifier] = []

    def ask() -> None:
        start.wait()
        got.append(classifier_for(rules, build))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got) == 8
    assert len(builds) == 1
    assert all(classifier is got[0] for classifier in got)


def test_rules_build_no_classifier_until_an_item_is_classified(make_config: MakeConfig) -> None:
    """`Rules.from_config` builds no classifier; the first analysis builds one, then reuses it."""
    config = make_config()
    last = list(config.signals)[-1]
    fewer = config.model_copy(
        update={"signals": {k: v for k, v in config.signals.items() if k != last}}
    )  # rules no other test builds
    rules = Rules.from_config(fewer)
    assert rules.digest not in _classifiers
    assert _got(analyse(rules, TEXTS)) == _expected(fewer)
    first = _classifiers[rules.digest]

    def build() -> Classifier:
        raise AssertionError("a second classifier was built")

    assert classifier_for(rules, build) is first
