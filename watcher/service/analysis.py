"""Classify and sketch a poll's new items in the parse pool, off the event loop.

Classification (`watcher.classify`) and story sketches (`watcher.domain.stories`) are the
CPU-heavy half of a poll after parsing; run in the event loop they would hold every
other poll up and use one core of many. `analyse` runs in the parse pool
(`watcher.concurrency.elastic`: on a parse thread, or in a worker process when the
threads fall behind), under the same deadline as parsing. The rules travel as a `Rules`
value: a digest and the pickled concepts and signals, about 20 KB; a worker builds its
classifier once per digest (35 ms; the first item analysed in a process costs about 0.2 s
of CPU more, in one-off costs such as compiling the story facts' patterns) and keeps it,
so a reloaded config reaches the workers with the next poll. A new worker process builds
the current rules' classifier and pays those one-off costs before it takes its first
task (`Runtime` hands `warm_up` to the pool as its `warm`), so they are never charged to
one item's deadline; a worker started before a reload builds the new rules' classifier
on its first call. The service's own process builds it on its parse threads, when its
first item needs classifying (a task that overruns there is re-run in a warm worker
process): a round with nothing new (every source 304) never builds it nor imports the
engine (measured: about 40 ms of CPU and 2 MB less), nor imports story sketching and
story facts. `classifier_for` builds at most one per digest, under a lock.
"""

from __future__ import annotations

import hashlib
import pickle
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from watcher.classify.lint import log_rule_warnings
from watcher.config import SignalRule, WatcherConfig
from watcher.config.schema import ConceptSpec
from watcher.domain.items import Signal

if TYPE_CHECKING:
    from watcher.classify.engine import Classifier


@dataclass(frozen=True, slots=True)
class Rules:
    """The classification rules of a config, ready to send to a worker."""

    digest: str
    payload: bytes
    saved_in: Path | None = None  # where the built classifier is kept (`watcher.classify.saved`)

    @classmethod
    def from_config(cls, config: WatcherConfig, *, warn: bool = True) -> Rules:
        """The rules (concepts and signals) of a validated config; logs the rules'
        warnings unless `warn` is False.

        Builds no classifier: loading the config has checked every term and every concept
        a rule names (`watcher.config.references`), which is all a build could refuse, so
        a bad rule fails there, naming its file and key.
        """
        payload = pickle.dumps((config.concepts, config.signals), protocol=pickle.HIGHEST_PROTOCOL)
        if warn:
            log_rule_warnings(config)
        return cls(hashlib.sha256(payload).hexdigest(), payload, config.data_dir)


@dataclass(frozen=True, slots=True)
class Analysis:
    """What an item's text says: its signals, its story sketch and that sketch's story keys.

    The sketch travels encoded (`watcher.domain.stories.encode_sketch`), as the item row stores
    it: bytes cost little to send back from a worker. Made on a parse thread of the
    service's own process, the bytes also hold the sketch (`SketchBytes`), so the poll's
    write does not decode it again. Both are None when the item was not sketched
    (clustering off: `analyse(..., sketching=False)`).
    """

    signals: list[Signal]
    fingerprint: bytes | None
    keys: frozenset[int] | None


# this process's classifiers by rules digest: the newest two (a reload's polls in flight
# may still carry the rules before it)
_classifiers: dict[str, Classifier] = {}
_classifiers_lock = threading.Lock()
_KEEP = 2


def classifier_for(rules: Rules, build: Callable[[], Classifier] | None = None) -> Classifier:
    """This process's classifier for `rules`, made once: by `build`, else loaded from
    `rules.saved_in` or built from the payload and saved there (`watcher.classify.saved`).

    Threads asking at once for rules not built yet wait for the one build.
    """
    classifier = _classifiers.get(rules.digest)
    if classifier is not None:
        return classifier
    with _classifiers_lock:
        classifier = _classifiers.get(rules.digest)
        if classifier is None:
            if build is None:
                from watcher.classify.saved import saved_classifier  # not on a round with no item

                concepts, signals = pickle.loads(rules.payload)
                classifier = saved_classifier(rules.saved_in, concepts, signals, _built)
            else:
                classifier = build()
            while len(_classifiers) >= _KEEP:
                del _classifiers[next(iter(_classifiers))]
            _classifiers[rules.digest] = classifier
    return classifier


def _built(concepts: dict[str, ConceptSpec], signals: dict[str, SignalRule]) -> Classifier:
    """The rules' classifier, built and its automata made (by classifying `_WARM_UP_TEXTS`)."""
    from watcher.classify.engine import Classifier

    classifier = Classifier(concepts, signals)
    for text in _WARM_UP_TEXTS:
        classifier.classify(*text)
    return classifier


def analyse(
    rules: Rules, texts: Sequence[tuple[str, str, date | None]], sketching: bool = True
) -> list[Analysis]:
    """The signals, sketch and story keys of every (title, body, date), in order.

    The date (the item's publication, else when it was fetched) tells the classifier an
    old event from news. Without `sketching` (story clustering off) no sketch is made:
    it costs about 2.5 times the classification of an item (story facts), and nothing
    reads it when no story keys are filed.

    Runs in a worker process; `rules.payload` is unpickled only from this package's own
    `Rules.from_config`, never from outside input.
    """
    # story sketching is imported here, on first use: a round with nothing new never
    # analyses an item and so never loads it (issue 20)
    from watcher.domain.stories import index_keys, sketch_text
    from watcher.store.sketch_bytes import SketchBytes

    classifier = classifier_for(rules)
    out = []
    for title, body, when in texts:
        signals = classifier.classify(title, body, when)
        if not sketching:
            out.append(Analysis(signals, None, None))
            continue
        kinds = [(s.type, s.direction.value) for s in signals]
        sketch = sketch_text(title, body, when, kinds)
        keys = index_keys(sketch)
        out.append(Analysis(signals, SketchBytes.of(sketch), keys))
    return out


# English and Chinese text with a date, a figure and a place, so that `warm_up` runs
# every path of classification and story facts an item may take
_WARM_UP_TEXTS = [
    (
        "Ministry tightens export controls on gallium",
        "On 3 May the ministry in Beijing halted exports of 1,200 tonnes of gallium.",
        date(2026, 5, 4),
    ),
    ("商务部对镓实施出口管制", "5月3日,商务部宣布暂停出口1200吨镓。", date(2026, 5, 4)),
]


def sketching(config: WatcherConfig) -> bool:
    """Whether `config`'s items are sketched for stories: story clustering is on (a
    `polling.story_window` above zero)."""
    return config.polling.story_window > timedelta(0)


def warm_up(rules: Rules, sketches: bool = True) -> None:
    """Build `rules`' classifier in this process and analyse two made-up items with it,
    so the first real item does not pay the one-off costs (a worker process's `warm`);
    without `sketches` (clustering off) the story facts' patterns are left uncompiled,
    as the real items will leave them."""
    analyse(rules, _WARM_UP_TEXTS, sketches)
