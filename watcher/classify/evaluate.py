"""Measure the rules against a labelled set: per-type precision, recall, F1, direction, errors.

The labelled file is JSON lines, one item per line: `id`, `split`, `title`, `body` and
`labels`, a list of `{"type", "direction"}` with `"speculative": true` where it applies;
optionally `lang` (figures are also given per language) and `published` (an ISO date,
passed to the classifier so it can tell background from news).

Semantics, per signal type T (the types are every type labelled anywhere in the file):

- a **gold positive** is a label of type T without `speculative: true`;
- a **prediction** is a signal of type T with `speculative == false`;
- an item with a speculative gold label of type T is **don't care** for T: it is left
  out of T's confusion counts, whatever the classifier says about it;
- precision = TP / (TP + FP), recall = TP / (TP + FN), F1 their harmonic mean; with
  nothing predicted precision is 1, with nothing to find recall is 1;
- **direction accuracy** = over true positives, the share whose direction is right;
- **macro-F1** = the mean of the per-type F1;
- **easing sent as tightening** = items whose news is easing (at least one gold label
  easing, none tightening, speculative ones aside) for which the classifier gives any
  non-speculative tightening signal, of whatever type: the alert that costs the
  product an analyst's trust. Of those, the ones whose every such signal said its
  direction was uncertain (so was sent at no more than the easing cap, saying so) are
  counted apart as **flagged**: still errors, but not sent at a tightening severity.
  `uncertain` counts the signals that said their direction was uncertain, and how many
  of those had it wrong;
- **speculative detection** counts the gold speculative labels for which the classifier
  gave a speculative signal of that type (reported apart from the main counts).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Protocol

from watcher.domain.items import Direction, Signal


class Predictor(Protocol):
    """Anything that classifies a title and body, like `Classifier`."""

    def classify(self, title: str, body: str, published: date | None = None) -> list[Signal]: ...


@dataclass(frozen=True, slots=True)
class Label:
    """One gold label of an item."""

    type: str
    direction: str
    speculative: bool = False


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled item."""

    id: str
    split: str
    title: str
    body: str
    labels: tuple[Label, ...]
    lang: str = ""
    published: date | None = None

    @property
    def is_easing_news(self) -> bool:
        """True when the item's firm labels are all easing (and there is one)."""
        firm = [x.direction for x in self.labels if not x.speculative]
        return bool(firm) and all(d == Direction.EASING.value for d in firm)


@dataclass(frozen=True, slots=True)
class Error:
    """A disagreement on one item and type.

    `missed`, `false alarm` and `wrong direction` count against precision, recall or
    direction; `not speculative` (a speculative label the classifier did not flag as
    speculative) only against speculative detection.
    """

    id: str
    kind: str
    type: str
    expected: str
    got: str
    title: str
    evidence: tuple[str, ...] = ()


@dataclass(slots=True)
class TypeScore:
    """Confusion counts of one signal type, and the measures derived from them."""

    type: str
    tp: int = 0
    fp: int = 0
    fn: int = 0
    right_direction: int = 0
    speculative_gold: int = 0
    speculative_found: int = 0

    @property
    def precision(self) -> float:
        """TP / (TP + FP); 1.0 when nothing was predicted."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """TP / (TP + FN); 1.0 when there was nothing to find."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall; 0.0 when both are 0."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def direction_accuracy(self) -> float:
        """Share of true positives with the right direction; 1.0 with no true positive."""
        return self.right_direction / self.tp if self.tp else 1.0


@dataclass(slots=True)
class Evaluation:
    """The scores of one slice of the labelled set (and of each language in it)."""

    split: str
    items: int
    types: list[TypeScore]
    errors: list[Error] = field(default_factory=list)
    easing_as_tightening: list[str] = field(default_factory=list)
    """Ids of easing items that got a firm tightening signal."""
    easing_as_tightening_flagged: int = 0
    """Of `easing_as_tightening`, items whose every tightening signal was flagged uncertain."""
    uncertain: int = 0
    uncertain_wrong: int = 0
    languages: dict[str, Evaluation] = field(default_factory=dict)

    @property
    def macro_f1(self) -> float:
        """Mean of the per-type F1."""
        return sum(t.f1 for t in self.types) / len(self.types) if self.types else 0.0

    @property
    def min_precision(self) -> float:
        """The lowest precision of any type."""
        return min((t.precision for t in self.types), default=0.0)

    @property
    def direction_accuracy(self) -> float:
        """Right directions over all true positives of all types."""
        tp = sum(t.tp for t in self.types)
        return sum(t.right_direction for t in self.types) / tp if tp else 1.0


def load_examples(path: Path) -> list[Example]:
    """The labelled items of a JSON-lines file; raise `ValueError` naming the bad line."""
    examples = []
    with path.open(encoding="utf-8") as stream:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                labels = tuple(
                    Label(str(x["type"]), str(x["direction"]), bool(x.get("speculative")))
                    for x in row.get("labels", [])
                )
                published = row.get("published")
                examples.append(
                    Example(
                        id=str(row["id"]),
                        split=str(row.get("split", "dev")),
                        title=str(row.get("title") or ""),
                        body=str(row.get("body") or ""),
                        labels=labels,
                        lang=str(row.get("lang") or ""),
                        published=date.fromisoformat(published[:10]) if published else None,
                    )
                )
            except (json.JSONDecodeError, KeyError, TypeError, AttributeError, ValueError) as exc:
                raise ValueError(f"{path}:{number}: not a labelled item: {exc!r}") from None
    return examples


def evaluate(examples: Sequence[Example], predictor: Predictor, split: str = "all") -> Evaluation:
    """Classify the examples of `split` (`all` for every one) and score them by type.

    With more than one language among them, `languages` holds the same scores per language.
    """
    types = sorted({label.type for example in examples for label in example.labels})
    chosen = [e for e in examples if split == "all" or e.split == split]
    outcomes = [(e, predictor.classify(e.title, e.body, published=e.published)) for e in chosen]
    result = score_outcomes(split, types, outcomes)
    languages = sorted({e.lang for e in chosen if e.lang})
    if len(languages) > 1:
        for lang in languages:
            mine = [(e, s) for e, s in outcomes if e.lang == lang]
            result.languages[lang] = score_outcomes(split, types, mine)
    return result


def score_outcomes(
    split: str, types: list[str], outcomes: Sequence[tuple[Example, list[Signal]]]
) -> Evaluation:
    """Score already classified examples by `types` (no per-language scores): what
    `evaluate` does after classifying, for callers that rescore one classification many
    times (`bench.eval_noise`'s resamples)."""
    scores = {name: TypeScore(name) for name in types}
    result = Evaluation(split=split, items=len(outcomes), types=list(scores.values()))
    for example, found in outcomes:
        signals = {s.type: s for s in found}
        for name in types:
            result.errors.extend(_score(scores[name], example, signals.get(name)))
        tightening = [s for s in found if s.direction is Direction.TIGHTENING and not s.speculative]
        if example.is_easing_news and tightening:
            result.easing_as_tightening.append(example.id)
            result.easing_as_tightening_flagged += all(s.direction_uncertain for s in tightening)
        for signal in found:
            if signal.direction_uncertain and not signal.speculative:
                result.uncertain += 1
                gold = [x for x in example.labels if x.type == signal.type and not x.speculative]
                result.uncertain_wrong += bool(gold) and gold[0].direction != signal.direction
    return result


def _score(score: TypeScore, example: Example, signal: Signal | None) -> Iterable[Error]:
    """Add one item's outcome for one type to `score`; yield the error it makes, if any."""
    gold = [x for x in example.labels if x.type == score.type]
    if any(x.speculative for x in gold):
        score.speculative_gold += 1
        if signal is not None and signal.speculative:
            score.speculative_found += 1
        else:
            flagged = f"{signal.direction.value} (firm)" if signal is not None else "-"
            yield _error(
                example,
                score.type,
                "not speculative",
                f"{gold[0].direction} (speculative)",
                flagged,
                signal,
            )
        return
    firm = signal if signal is not None and not signal.speculative else None
    expected = gold[0].direction if gold else None
    got = firm.direction.value if firm is not None else None
    if expected and got:
        score.tp += 1
        if expected == got:
            score.right_direction += 1
        else:
            yield _error(example, score.type, "wrong direction", expected, got, firm)
    elif expected:
        score.fn += 1
        yield _error(example, score.type, "missed", expected, "-", None)
    elif got:
        score.fp += 1
        yield _error(example, score.type, "false alarm", "-", got, firm)


def _error(
    example: Example, type_: str, kind: str, expected: str, got: str, signal: Signal | None
) -> Error:
    evidence = tuple(e.marked() for e in signal.evidence) if signal is not None else ()
    if signal is not None and signal.direction_uncertain:
        got = f"{got} (uncertain)"
    return Error(example.id, kind, type_, expected, got, example.title, evidence)


def format_evaluation(result: Evaluation, *, errors: bool = True) -> str:
    """The scores as a table, a summary line, one line per language, then the errors."""
    lines = [
        f"== split {result.split}: {result.items} items ==",
        f"{'type':<24}{'TP':>4}{'FP':>4}{'FN':>4}{'prec':>8}{'recall':>8}{'F1':>8}"
        f"{'dir.acc':>9}{'spec':>7}",
    ]
    for t in result.types:
        lines.append(
            f"{t.type:<24}{t.tp:>4}{t.fp:>4}{t.fn:>4}{t.precision:>8.3f}{t.recall:>8.3f}"
            f"{t.f1:>8.3f}{t.direction_accuracy:>9.3f}{t.speculative_found:>4}/{t.speculative_gold}"
        )
    lines.append(_summary(result))
    for lang, part in result.languages.items():
        per_type = " ".join(
            f"{t.type}={t.precision:.2f}/{t.recall:.2f}/{t.f1:.2f}" for t in part.types
        )
        lines.append(f"  {lang:<8} {part.items:>4} items · {_summary(part)}")
        lines.append(f"  {'':<8} P/R/F1 {per_type}")
    if errors:
        counted = sum(e.kind != "not speculative" for e in result.errors)
        lines.append(
            f"errors: {counted} (+ {len(result.errors) - counted} speculative labels not flagged)"
        )
        for e in result.errors:
            lines.append(
                f"  {e.id:<6}{e.kind:<16}{e.type}: expected {e.expected}, got {e.got}  | {e.title}"
            )
            lines.extend(f"        > {sentence}" for sentence in e.evidence)
        if result.easing_as_tightening:
            lines.append(f"easing sent as tightening: {', '.join(result.easing_as_tightening)}")
    return "\n".join(lines)


def _summary(result: Evaluation) -> str:
    tp = sum(t.tp for t in result.types)
    right = sum(t.right_direction for t in result.types)
    spec = sum(t.speculative_found for t in result.types)
    spec_gold = sum(t.speculative_gold for t in result.types)
    return (
        f"macro-F1 {result.macro_f1:.3f} · min precision {result.min_precision:.3f}"
        f" · direction accuracy {result.direction_accuracy:.3f} ({right}/{tp})"
        f" · easing sent as tightening {len(result.easing_as_tightening)}"
        f" ({result.easing_as_tightening_flagged} flagged uncertain)"
        f" · uncertain {result.uncertain} ({result.uncertain_wrong} wrong)"
        f" · speculative detected {spec}/{spec_gold}"
    )
