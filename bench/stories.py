"""Story clustering, scored by pairs on tests/data/stories: `python -m bench.stories`.

First the real pair set (tests/data/stories/real: public pages, labelled by a helper who
never read this code): pair precision, recall and missed alerts on its dev and held-back
splits, with their targets. Then the older synthetic sets (whole stories, pairs of items).

The items are clustered as the store does it, in publication order: the earlier items
of other sources within the window that share keys with the new one
(`watcher.domain.stories.shortlist`, hot keys left out), then `watcher.domain.stories.best_story`
over those. Each item is filed under `filing_keys` and looks up `lookup_keys` (its
`index_keys` and its `script_keys`), as the store does (`watcher.store.poll`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml

from bench.eval_noise import Interval, interval, paired_difference, resamples
from watcher.classify.engine import Classifier
from watcher.config import load_config
from watcher.domain.items import Signal
from watcher.domain.stories import (
    COPY,
    CORROBORATED,
    REWRITE,
    Candidate,
    Sketch,
    _containment,
    _jaccard,
    _share_specific,
    _translated,
    best_story,
    contradictions,
    filing_keys,
    hot_keys,
    lookup_keys,
    shortlist,
    sketch_text,
)
from watcher.domain.story_facts import described

CONFIG = Path(__file__).resolve().parent.parent / "config" / "watcher.yaml"
SETS = Path(__file__).resolve().parent.parent / "tests" / "data" / "stories"
DATA = SETS / "stories.yaml"
HELDOUT = SETS / "heldout.yaml"
WINDOW = timedelta(days=7)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])\s*")  # not "A$1.8": a decimal point


@dataclass(frozen=True)
class LabelledItem:
    """One expanded item of the set with its gold story."""

    story: str
    source: str
    published: datetime
    title: str
    body: str


@dataclass(frozen=True)
class Score:
    """Pairs precision and recall of a clustering against the gold stories."""

    items: int
    stories: int
    gold_pairs: int
    predicted_pairs: int
    true_pairs: int

    @property
    def precision(self) -> float:
        """Share of predicted same-story pairs that are gold pairs."""
        return self.true_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        """Share of gold same-story pairs that were predicted."""
        return self.true_pairs / self.gold_pairs if self.gold_pairs else 1.0


def load_items(path: Path = DATA) -> list[LabelledItem]:
    """Every story's original and its variants, expanded as README.md describes."""
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = []
    for story in data["stories"]:
        when = datetime.fromisoformat(str(story["date"]).replace("Z", "+00:00"))
        paragraphs = [p.strip() for p in story["body"].strip().split("\n\n")]
        items.append(
            LabelledItem(
                story["id"], story["source"], when, story["title"], "\n\n".join(paragraphs)
            )
        )
        for variant in story.get("variants") or []:
            items.append(
                LabelledItem(
                    story["id"],
                    variant["source"],
                    when + timedelta(hours=variant.get("after", 0)),
                    variant["title"],
                    _variant_body(variant, paragraphs),
                )
            )
    return items


def _variant_body(variant: dict[str, Any], paragraphs: list[str]) -> str:
    kind = variant["kind"]
    if kind == "rewrite":
        return str(variant["body"]).strip()
    if kind == "teaser":
        sentences = [s for s in _SENTENCE.split(" ".join(paragraphs)) if s]
        return " ".join(sentences[: variant["sentences"]])
    if kind == "reprint":
        kept = paragraphs[: variant.get("paragraphs", len(paragraphs))]
        text = variant.get("prefix", "") + "\n\n".join(kept)
        return f"{text}\n\n{variant['suffix']}" if variant.get("suffix") else text
    raise ValueError(f"unknown variant kind {kind!r}")


def cluster(
    items: list[LabelledItem], classify: Callable[[str, str, date], list[Signal]] | None = None
) -> list[int]:
    """A story number per item, assigned as the store would in publication order.

    `classify` gives an item's signals, which its sketch carries as in the service
    (`default_classifier`); without it the items have none.
    """
    order = sorted(range(len(items)), key=lambda i: items[i].published)
    story_of = [0] * len(items)
    seen: dict[int, Candidate] = {}
    filed: dict[int, list[int]] = {}  # key -> the items filed under it
    for index in order:
        item = items[index]
        day = item.published.date()
        signals = classify(item.title, item.body, day) if classify is not None else []
        kinds = [(s.type, s.direction.value) for s in signals]
        sketch = sketch_text(item.title, item.body, day, kinds)
        keys = lookup_keys(sketch)
        postings = {
            key: [
                i
                for i in filed.get(key, ())
                if seen[i].source != item.source and abs(seen[i].when - item.published) <= WINDOW
            ]
            for key in keys
        }
        hot = hot_keys(postings)
        candidates = [seen[i] for i in shortlist(keys, postings, hot)]
        found = best_story(sketch, item.source, item.published, WINDOW, candidates)
        story_of[index] = found.story_id if found is not None else index + 1
        seen[index] = Candidate(story_of[index], item.source, item.published, sketch)
        for key in filing_keys(sketch) - hot:
            filed.setdefault(key, []).append(index)
    return story_of


def score(items: list[LabelledItem], predicted: list[int]) -> Score:
    """Pairs precision and recall of `predicted` against the items' gold stories."""
    gold = predicted_pairs = true = 0
    for a, b in itertools.combinations(range(len(items)), 2):
        same_gold = items[a].story == items[b].story
        same_predicted = predicted[a] == predicted[b]
        gold += same_gold
        predicted_pairs += same_predicted
        true += same_gold and same_predicted
    return Score(len(items), len({i.story for i in items}), gold, predicted_pairs, true)


def mistakes(items: list[LabelledItem], predicted: list[int]) -> list[str]:
    """Readable lines for every wrongly joined or wrongly split pair."""
    out = []
    for a, b in itertools.combinations(range(len(items)), 2):
        gold, guess = items[a].story == items[b].story, predicted[a] == predicted[b]
        if gold != guess:
            what = "split" if gold else "joined"
            out.append(
                f"{what}: [{items[a].source}] {items[a].title}"
                f" | [{items[b].source}] {items[b].title}"
            )
    return out


REAL = SETS / "real"
TARGETS = {"precision": 0.98, "recall": 0.85, "missed": 0}


@dataclass(frozen=True)
class RealItem:
    """An item of the real pair set (tests/data/stories/real/items.jsonl)."""

    id: str
    source: str
    published: date | None
    title: str
    body: str
    event: str


@dataclass(frozen=True)
class PairScore:
    """How the clustering decides the labelled pairs of one split.

    A pair is predicted joined when the later item, placed as the store places it
    (`shortlist` through the index keys, then `best_story`), joins the earlier one's
    story. `missed` counts pairs whose later item must be sent (`different`, or
    `same_update`) but was joined without news (`Placement.adds` empty): an alert
    nobody gets. `extra_updates` counts `same` pairs sent as an update anyway.
    """

    pairs: int
    gold_joins: int
    joined: int
    true_joins: int
    missed: int
    extra_updates: int

    @property
    def precision(self) -> float:
        """Share of joined pairs that report one event."""
        return self.true_joins / self.joined if self.joined else 1.0

    @property
    def recall(self) -> float:
        """Share of pairs reporting one event that were joined."""
        return self.true_joins / self.gold_joins if self.gold_joins else 1.0


def load_real(
    path: Path = REAL,
) -> tuple[dict[str, RealItem], list[dict[str, str]]]:
    """The real items by id, and the labelled pairs (each with its `split`)."""
    items = {}
    for line in (path / "items.jsonl").read_text(encoding="utf-8").splitlines():
        raw = json.loads(line)
        published = date.fromisoformat(raw["published"]) if raw.get("published") else None
        items[raw["id"]] = RealItem(
            raw["id"], raw["outlet"], published, raw.get("title") or "", raw["body"], raw["event"]
        )
    pairs = [json.loads(line) for line in (path / "pairs.jsonl").read_text().splitlines()]
    return items, pairs


def real_sketches(
    items: dict[str, RealItem],
    classify: Callable[[str, str, date | None], list[Signal]] | None = None,
) -> dict[str, Sketch]:
    """Each item's sketch as the parser worker makes it: text, date, its signals."""
    out = {}
    for key, item in items.items():
        signals = classify(item.title, item.body, item.published) if classify else []
        out[key] = sketch_text(
            item.title,
            item.body,
            item.published,
            [(s.type, s.direction.value) for s in signals],
        )
    return out


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one labelled pair is decided: does the later item join the earlier one's
    story, and is it then swallowed (joined and adds nothing: no alert, no update)?"""

    joined: bool
    swallowed: bool


def decide(
    items: dict[str, RealItem],
    sketches: dict[str, Sketch],
    pair: dict[str, str],
    window: timedelta = WINDOW,
) -> Outcome:
    """Decide one pair as the store would: does the later item join the earlier's story?

    An undated item's moment is unknown here (in the service it is its fetch time), so
    the window is applied only when both are dated: undated pairs are always compared.
    """
    a, b = items[pair["a"]], items[pair["b"]]
    first, later = sketches[a.id], sketches[b.id]
    when_a = _moment(a.published or b.published)
    when_b = _moment(b.published or a.published)
    postings = {key: [0] for key in filing_keys(first)}
    candidates = [Candidate(1, a.source + "#a", when_a, first)]
    found = None
    if shortlist(lookup_keys(later), postings):
        found = best_story(later, b.source + "#b", when_b, window, candidates)
    return Outcome(found is not None, found is not None and not found.adds)


def tally(pairs: list[dict[str, str]], outcomes: list[Outcome]) -> PairScore:
    """The figures of `pairs` decided as `outcomes` (one each, in order)."""
    gold = joined = true = missed = extra = 0
    for pair, outcome in zip(pairs, outcomes, strict=True):
        same = pair["relation"] != "different"
        gold += same
        joined += outcome.joined
        true += same and outcome.joined
        missed += outcome.swallowed and pair["relation"] != "same"
        extra += outcome.joined and not outcome.swallowed and pair["relation"] == "same"
    return PairScore(len(pairs), gold, joined, true, missed, extra)


def score_pairs(
    items: dict[str, RealItem],
    sketches: dict[str, Sketch],
    pairs: list[dict[str, str]],
    window: timedelta = WINDOW,
) -> PairScore:
    """Decide every pair as the store would (`decide`) and count (`tally`)."""
    return tally(pairs, [decide(items, sketches, pair, window) for pair in pairs])


def pair_intervals(
    items: dict[str, RealItem],
    sketches: dict[str, Sketch],
    pairs: list[dict[str, str]],
    *,
    samples: int = 1000,
    seed: int = 0,
) -> dict[str, tuple[float, float, float]]:
    """Precision, recall and missed alerts of `pairs` with 95 % bootstrap intervals.

    Each pair is decided once (`decide`); resamples draw the earlier item's
    **events** with replacement, every pair of a drawn event with it (pairs of one
    event are not independent: `event_groups`). Returns name → (point, 2.5th, 97.5th
    percentile).
    """
    outcomes = [decide(items, sketches, pair) for pair in pairs]
    groups = event_groups(items, pairs)
    point = _figures(pairs, outcomes, range(len(pairs)))
    draws = [_figures(pairs, outcomes, drawn) for drawn in resamples(groups, samples, seed)]
    spreads = {name: interval(point[k], [d[k] for d in draws]) for k, name in enumerate(FIGURES)}
    return {name: (i.point, i.low, i.high) for name, i in spreads.items()}


FIGURES = ("precision", "recall", "missed")


def event_groups(items: dict[str, RealItem], pairs: list[dict[str, str]]) -> dict[str, list[int]]:
    """The resampling unit of the pair figures: each earlier item's event → the indices
    of its pairs in `pairs`."""
    groups: dict[str, list[int]] = {}
    for index, pair in enumerate(pairs):
        groups.setdefault(items[pair["a"]].event, []).append(index)
    return groups


def _figures(
    pairs: list[dict[str, str]], outcomes: list[Outcome], picked: Iterable[int]
) -> tuple[float, float, float]:
    """Precision, recall and missed alerts of the pairs at `picked` (repeats count again)."""
    chosen = list(picked)
    total = tally([pairs[i] for i in chosen], [outcomes[i] for i in chosen])
    return total.precision, total.recall, float(total.missed)


def _pair_key(pair: dict[str, str]) -> str:
    return f"{pair['a']} {pair['b']}"


def save_outcomes(pairs: list[dict[str, str]], outcomes: list[Outcome], path: Path) -> None:
    """Write each pair's outcome (joined, swallowed; ids only, no text) to `path` (JSON),
    for `--against-saved` in another tree."""
    rows = {
        _pair_key(pair): [outcome.joined, outcome.swallowed]
        for pair, outcome in zip(pairs, outcomes, strict=True)
    }
    path.write_text(json.dumps(rows, sort_keys=True), encoding="utf-8")


def load_outcomes(pairs: list[dict[str, str]], path: Path) -> list[Outcome]:
    """The outcomes `save_outcomes` wrote, in the order of `pairs`; raises ValueError when
    a pair is missing from the file, so a pairing is never silently partial."""
    rows = json.loads(path.read_text(encoding="utf-8"))
    missing = [pair for pair in pairs if _pair_key(pair) not in rows]
    if missing:
        raise ValueError(f"{path}: {len(missing)} of {len(pairs)} pairs not saved")
    return [Outcome(*map(bool, rows[_pair_key(pair)])) for pair in pairs]


@dataclass(frozen=True)
class PairedDifference:
    """One figure of two runs on the same pairs: each run's value with its interval, the
    difference A − B with its interval (the same event resamples for both runs), and the
    share of resamples in which the difference is above zero."""

    name: str
    a: Interval
    b: Interval
    difference: Interval
    above: float


def paired_differences(
    items: dict[str, RealItem],
    pairs: list[dict[str, str]],
    runs: tuple[list[Outcome], list[Outcome]],
    *,
    samples: int = 1000,
    seed: int = 0,
) -> list[PairedDifference]:
    """Precision, recall and missed alerts of two runs (A, B) over the same `pairs`, and
    their differences A − B, with 95 % intervals from resampling events (`event_groups`,
    as `pair_intervals` does); both runs are scored on every same resample (paired)."""
    first, second = runs
    points = [_figures(pairs, run, range(len(pairs))) for run in runs]
    draws: list[tuple[tuple[float, ...], tuple[float, ...]]] = [
        (_figures(pairs, first, drawn), _figures(pairs, second, drawn))
        for drawn in resamples(event_groups(items, pairs), samples, seed)
    ]
    out = []
    for k, name in enumerate(FIGURES):
        drawn_a, drawn_b = [a[k] for a, _ in draws], [b[k] for _, b in draws]
        difference, above = paired_difference(points[0][k], points[1][k], drawn_a, drawn_b)
        out.append(
            PairedDifference(
                name,
                interval(points[0][k], drawn_a),
                interval(points[1][k], drawn_b),
                difference,
                above,
            )
        )
    return out


def _print_paired(name: str, differences: list[PairedDifference]) -> None:
    """Each run's figures with intervals, then the paired differences A − B."""

    def shown(figure: str, spread: Interval) -> str:
        return spread.as_count() if figure == "missed" else str(spread)

    for label, pick in (("A (this tree)", 0), ("B (saved)", 1)):
        print(
            f"story pairs, {name}, {label}: "
            + " · ".join(f"{d.name} {shown(d.name, (d.a, d.b)[pick])}" for d in differences)
        )
    for d in differences:
        print(
            f"story pairs, {name}, A − B, {d.name}: {shown(d.name, d.difference)}"
            f" · above zero in {d.above:.0%}"
        )


def _moment(day: date | None) -> datetime:
    return datetime.combine(day or date(2000, 1, 1), time(12), tzinfo=UTC)


def why(a: RealItem, b: RealItem, first: Sketch, later: Sketch) -> str:
    """Which gate decides the pair: not shortlisted, the contradicting kinds, or the
    evidence figures (containment over `COPY`, word Jaccard over `REWRITE`, and over
    `CORROBORATED` with a shared specific)."""
    gates = []
    if not shortlist(lookup_keys(later), {key: [0] for key in filing_keys(first)}):
        gates.append("not shortlisted")
    apart = contradictions(first, later)
    if apart:
        gates.append("contradicts: " + ", ".join(apart))
    words = _jaccard(first.words, later.words)
    gates.append(
        f"copy {_containment(first, later) / COPY:.2f} rewrite {words / REWRITE:.2f}"
        f" corroborated {words / CORROBORATED if _share_specific(first, later) else 0.0:.2f}"
        f" translated {_translated(first, later):.2f}"
    )
    return "; ".join(gates)


def dev_errors(
    items: dict[str, RealItem], sketches: dict[str, Sketch], pairs: list[dict[str, str]]
) -> list[str]:
    """Readable lines for every wrong dev decision (held-back pairs never listed): the
    pair, the gate that decided it (`why`) and both items' facts and openings."""
    out = []
    for pair in pairs:
        if pair["split"] != "dev":
            continue
        one = score_pairs(items, sketches, [pair])
        if one.joined == one.gold_joins and not one.missed:
            continue
        what = "missed alert" if one.missed else ("split" if one.gold_joins else "joined")
        a, b = items[pair["a"]], items[pair["b"]]
        out.append(
            f"{what}: {pair['relation']}/{pair.get('kind', '')} {a.id} {b.id}:"
            f" {why(a, b, sketches[a.id], sketches[b.id])}"
        )
        for item in (a, b):
            facts = described(item.title, item.body, sketches[item.id].facts, item.published)
            text = " ".join(f"{item.title} {item.body}".split())[:300]
            out.append(f"    {item.id} [{item.source} {item.published}] {text}")
            out.append(f"      facts: {facts}")
    return out


def dev_events_pairs(
    items: dict[str, RealItem], sketches: dict[str, Sketch]
) -> tuple[int, list[str]]:
    """Every pair of items of dev events, labelled or not, decided as `score_pairs` does
    (the earlier item first): how many pairs of one event joined, and a line for each
    pair of two events that joined. Labelled pairs are a few hundred; this is every
    pair of the split's items, a broader check of precision on dev alone (events
    are held back by the rule in the set's README.md: never listed here)."""
    events = {key: item.event for key, item in items.items() if not _held_back(item.event)}
    right, wrong = 0, []
    for first, later in itertools.combinations(sorted(events), 2):
        a, b = items[first], items[later]
        if a.published and b.published and a.published > b.published:
            first, later = later, first
        same = events[first] == events[later]
        pair = {"a": first, "b": later, "relation": "same" if same else "different"}
        if score_pairs(items, sketches, [pair]).joined:
            if same:
                right += 1
            else:
                wrong.append(f"joined: {first} {later} ({events[first]} | {events[later]})")
    return right, wrong


HELD_BACK_SHARE = 45  # an event is held back when its hash mod 100 is below this


def _held_back(event: str) -> bool:
    """True for an event of the held-back split (the rule in the set's README.md)."""
    digest = hashlib.sha256(f"stories-split-0:{event}".encode()).hexdigest()
    return int(digest, 16) % 100 < HELD_BACK_SHARE


def default_classifier() -> Callable[[str, str, date | None], list[Signal]]:
    """The shipped rules (config/watcher.yaml) as a function of (title, body, date)."""
    config = load_config(CONFIG, environ={})
    return Classifier.from_config(config, warn=False).classify


def _print_pairs(name: str, result: PairScore) -> None:
    """One line of pair figures with the issue's targets."""
    print(
        f"story pairs, {name}: {result.pairs} pairs ({result.gold_joins} same"
        f" event); precision {result.precision:.3f} (target ≥ {TARGETS['precision']}),"
        f" recall {result.recall:.3f} (target ≥ {TARGETS['recall']}), missed alerts"
        f" {result.missed} (target {TARGETS['missed']}); updates for plain copies"
        f" {result.extra_updates}"
    )


def _path_option(name: str) -> Path | None:
    """The path given after `name` on the command line, if any."""
    if name not in sys.argv:
        return None
    at = sys.argv.index(name) + 1
    if at >= len(sys.argv):
        raise SystemExit(f"{name} needs a file")
    return Path(sys.argv[at])


FLAGS = frozenset({"--dev", "--dev-errors", "--dev-all", "--noise", "-v"})
PATH_OPTIONS = frozenset({"--save", "--against-saved"})


def _check_options(args: list[str]) -> None:
    """Refuse an option `main` does not know (`--help` among them), printing its
    docstring: an unknown option must not fall through to the run that prints the
    held-back split."""
    at = 0
    while at < len(args):
        if args[at] in PATH_OPTIONS:
            at += 2
            continue
        if args[at] not in FLAGS:
            raise SystemExit(f"{main.__doc__}\nunknown option: {args[at]}")
        at += 1


def _compare(
    items: dict[str, RealItem],
    sketches: dict[str, Sketch],
    pairs: list[dict[str, str]],
    splits: tuple[str, ...],
    saving: Path | None,
    against: Path | None,
) -> int:
    """`--save` and `--against-saved`: this tree's outcomes of the splits' pairs saved,
    or compared paired with a saved run (figures and differences, never a pair)."""
    chosen = [p for p in pairs if p["split"] in splits]
    outcomes = [decide(items, sketches, pair) for pair in chosen]
    if saving:
        save_outcomes(chosen, outcomes, saving)
        print(f"saved {len(chosen)} pairs' outcomes ({', '.join(splits)}) to {saving}")
    if against:
        saved = load_outcomes(chosen, against)
        for split in splits:
            at = [i for i, pair in enumerate(chosen) if pair["split"] == split]
            mine, theirs = [outcomes[i] for i in at], [saved[i] for i in at]
            subset = [chosen[i] for i in at]
            _print_pairs(f"real set, {split}, A (this tree)", tally(subset, mine))
            _print_pairs(f"real set, {split}, B (saved)", tally(subset, theirs))
            _print_paired(split, paired_differences(items, subset, (mine, theirs)))
    return 0


def main() -> int:
    """Print held-back pair precision, recall and missed alerts with their targets.

    The dev split is printed too; `-v` lists the dev split's wrong decisions (never
    the held-back split's: rules are written against dev only), `--dev` prints the dev
    split alone (for tuning: held-back figures are looked at rarely), `--dev-errors`
    its wrong decisions with the gate that decided each, `--dev-all` every pair of dev
    events' items that joined across two events (`dev_events_pairs`), `--noise` each
    split's figures with 95 % intervals from resampling its events (`pair_intervals`).
    Then the synthetic sets.

    `--save FILE` writes each pair's outcome (`save_outcomes`: joined, swallowed; no
    text) of the splits printed, and `--against-saved FILE` (a save made in another
    tree) prints each split's figures of both runs and their paired differences
    (`paired_differences`): aggregates only, so the held-back split can be compared
    under the set's rule. Either prints the pair figures alone.
    """
    _check_options(sys.argv[1:])
    items, pairs = load_real()
    sketches = real_sketches(items, default_classifier())
    if "--dev-errors" in sys.argv:  # the dev split's wrong decisions and why, alone
        print("\n".join(dev_errors(items, sketches, pairs)))
        return 0
    if "--dev-all" in sys.argv:  # every pair of dev events' items, labelled or not
        right, wrong = dev_events_pairs(items, sketches)
        print(f"all pairs of dev events: {right} of one event joined, {len(wrong)} of two")
        print("\n".join(wrong))
        return 0
    splits = ("dev",) if "--dev" in sys.argv else ("dev", "heldout")
    saving, against = _path_option("--save"), _path_option("--against-saved")
    if saving or against:
        return _compare(items, sketches, pairs, splits, saving, against)
    for split in splits:
        chosen = [p for p in pairs if p["split"] == split]
        _print_pairs(f"real set, {split}", score_pairs(items, sketches, chosen))
        if "--noise" in sys.argv:  # how far these figures move by chance
            spread = pair_intervals(items, sketches, chosen)
            print(
                "  95 % intervals (events resampled): "
                + " · ".join(
                    f"{k} {p:.3f} [{lo:.3f}, {hi:.3f}]" for k, (p, lo, hi) in spread.items()
                )
            )
        for batch in sorted({p["batch"] for p in chosen if "batch" in p}):
            fresh = [p for p in chosen if p.get("batch") == batch]
            _print_pairs(
                f"real set, {split}, batch {batch} alone", score_pairs(items, sketches, fresh)
            )
        if split == "dev" and "-v" in sys.argv:
            for pair in chosen:
                one = score_pairs(items, sketches, [pair])
                if one.joined != one.gold_joins or one.missed:
                    print(f"  {pair['relation']} {pair['a']} {pair['b']}: joined={one.joined}")
    sets = {"tuning set": load_items(DATA), "held-out set": load_items(HELDOUT)}
    sets["both"] = sets["tuning set"] + sets["held-out set"]
    for name, labelled in sets.items():
        predicted = cluster(labelled)
        synthetic = score(labelled, predicted)
        print(
            f"story clustering, {name}: {synthetic.items} items in {synthetic.stories} stories,"
            f" {synthetic.gold_pairs} same-story pairs; pairs precision"
            f" {synthetic.precision:.3f}, recall {synthetic.recall:.3f}"
        )
        if "-v" in sys.argv:
            for line in mistakes(labelled, predicted):
                print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
