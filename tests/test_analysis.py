"""Classification and sketches in the parser workers give what the event loop would."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from watcher.classify.engine import Classifier
from watcher.config import WatcherConfig
from watcher.domain.stories import decode_sketch, sketch_text
from watcher.service.analysis import Analysis, Rules, analyse
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


def test_new_rules_replace_the_classifier_a_worker_kept(make_config: MakeConfig) -> None:
    """A config whose rules changed (a reload) is classified with the new rules."""
    config = make_config()
    fewer = config.model_copy(
        update={"signals": {k: v for k, v in config.signals.items() if k != "export_control"}}
    )
    assert _got(analyse(Rules.from_config(config), TEXTS)) == _expected(config)
    assert _got(analyse(Rules.from_config(fewer), TEXTS)) == _expected(fewer)
    assert _expected(fewer) != _expected(config)
