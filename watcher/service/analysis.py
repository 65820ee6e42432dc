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

With story clustering on, a poll with `Sketcher.AWAY` items or more (a first poll, a
backfill) is classified in the parse pool and sketched in the `Sketcher`'s own process,
off the service's GIL (`watcher.service.pipeline`); the sketches are the same bytes.
"""

from __future__ import annotations

import asyncio
import hashlib
import pickle
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from watcher.classify.lint import log_rule_warnings
from watcher.config import SignalRule, WatcherConfig
from watcher.config.schema import ConceptSpec
from watcher.domain.items import Signal

if TYPE_CHECKING:
    from watcher.classify.engine import Classifier

log = structlog.get_logger("watcher.worker")


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


def classified(rules: Rules, texts: Sequence[tuple[str, str, date | None]]) -> list[list[Signal]]:
    """The signals of every (title, body, date), in order (`analyse` without sketching)."""
    classifier = classifier_for(rules)
    return [classifier.classify(title, body, when) for title, body, when in texts]


# an item to sketch: its title, body, date and the (type, direction) of its signals
Sketchable = tuple[str, str, date | None, list[tuple[str, str]]]


# an item's sketch encoded (`encode_sketch`) and its story keys (`index_keys`)
Sketched = tuple[bytes, frozenset[int]]


def sketched(texts: Sequence[Sketchable]) -> list[Sketched]:
    """The encoded sketch and story keys of every (title, body, date, signal kinds)."""
    from watcher.domain.stories import encode_sketch, index_keys, sketch_text

    out = []
    for title, body, when, kinds in texts:
        sketch = sketch_text(title, body, when, kinds)
        out.append((encode_sketch(sketch), index_keys(sketch)))
    return out


def _sketcher_ready() -> None:
    """A new sketcher process's initializer: die with the service, leave Ctrl-C to it
    (the terminal sends SIGINT to the whole process group), and pay the one-off costs
    (imports, the story facts' patterns) before the first poll's items."""
    import signal

    from watcher.concurrency.pool import _die_with_parent

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    sketched([(title, body, when, []) for title, body, when in _WARM_UP_TEXTS])


class Sketcher:
    """One worker process that sketches items (`sketched`), off the service's GIL.

    Scenario 7 (the cold round of 200 templated feeds) spends about 2 s of its 5 s of
    CPU sketching, on parse threads that share one GIL with the event loop and the
    SQLite writer. The parse pool's worker processes (`ElasticWorkers`) would take it,
    but start a forkserver that imports every parser first (about 1 s of CPU, 1.7 s
    with two warm workers) and pickle each task's rules: with the whole analysis sent
    to them (parse threads, 8+ items a poll) the round's wall was 1.52 × and its CPU
    1.47 × main's (4 alternated pairs, 2026-12-08), everything in them 1.08 × and
    1.29 ×. This process is spawned with story sketching alone (about 0.2 s of CPU
    from its start to its first sketch), started when a poll first has `AWAY` items or
    more to sketch (smaller polls are analysed in the parse pool, as before), and it
    stops after `idle` seconds with nothing to do (a daemon's backfill is over), or
    with the `Runtime` (`close`). Not `enabled` (`parse_workers: 0`: no worker
    processes), it is never started.

    The items are classified on the parse pool as before; their signal kinds come
    here with the text. A sketcher that fails (it died, or did not answer within the
    deadline) is stopped and the poll's items are sketched on the parse pool, as
    without it; the next big poll starts another.
    """

    AWAY = 8  # a poll with this many items to sketch sends them here

    def __init__(self, deadline: float, idle: float, *, enabled: bool = True) -> None:
        self.deadline = deadline
        self.idle = idle  # 0 or less: up until `close`
        self.enabled = enabled
        self.failures = 0
        self._executor: Any = None  # a ProcessPoolExecutor while the process is up
        self._busy = 0
        self._retire: asyncio.TimerHandle | None = None
        self._closed = False

    @property
    def up(self) -> bool:
        """True while the process is started (from its first poll until it retires)."""
        return self._executor is not None

    def wanted(self, items: int) -> bool:
        """Whether `items` items of a poll should be sketched here (a small poll's are
        not, so that a daemon's sketcher retires once its backfill is over)."""
        return self.enabled and not self._closed and items >= self.AWAY

    async def sketch(self, texts: Sequence[Sketchable]) -> list[Sketched] | None:
        """`sketched(texts)` in the process (started if need be); None when it failed."""
        import concurrent.futures
        import multiprocessing

        if self._retire is not None:
            self._retire.cancel()
            self._retire = None
        if self._executor is None:
            self._executor = concurrent.futures.ProcessPoolExecutor(
                1, mp_context=multiprocessing.get_context("spawn"), initializer=_sketcher_ready
            )
        executor = self._executor
        self._busy += 1
        try:
            future = executor.submit(sketched, texts)
            done: list[Sketched] = await asyncio.wait_for(
                asyncio.wrap_future(future), 2 * self.deadline
            )
            return done
        except Exception as exc:  # a dead process, a timeout: sketched on the parse pool
            self.failures += 1
            log.warning("sketcher_failed", error=repr(exc)[:200], failures=self.failures)
            if self._executor is executor:
                self._stop()
            return None
        finally:
            self._busy -= 1
            if not self._busy and self._executor is not None and self.idle > 0:
                self._retire = asyncio.get_running_loop().call_later(self.idle, self._stop)

    def _stop(self, wait: bool = False) -> None:
        """Stop the process now (killed: its work is pure, nothing is lost); with `wait`,
        return once the executor's threads have ended (`close`: none is left behind)."""
        if self._retire is not None:
            self._retire.cancel()
            self._retire = None
        executor, self._executor = self._executor, None
        if executor is None:
            return
        for process in list(getattr(executor, "_processes", {}).values()):
            process.kill()
        executor.shutdown(wait=wait, cancel_futures=True)

    def close(self) -> None:
        """Stop the process and sketch nothing more here."""
        self._closed = True
        self._stop(wait=True)


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
