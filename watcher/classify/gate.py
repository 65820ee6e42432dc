"""The precision gate: a small linear model that decides, per rule-proposed signal, whether
to keep it and whether its direction can be trusted.

The rules stay the source of every signal and of its evidence; the gate only removes a
firm (non-speculative) signal whose keep score is under its threshold, and marks the
direction of a kept signal uncertain (severity capped at `severity.EASING_CAP`, the
reason in `direction_doubt`) when its direction score is under that threshold.
Speculative signals pass untouched: they are never sent at a tightening severity.

A score is the logistic of a bias plus the weights of the signal's features that the
model knows (`features`: its type and direction, the concepts and terms its evidence
matched, the evidence's position and script, the engine's uncertain-direction flag; the
words and word pairs or Chinese character pairs of its evidence and of the headline are
there too, for a model trained with them: the shipped one names the groups it reads).
The weights are learned on the labelled sets' dev splits by `python -m bench.train_gate`
and shipped as `gate_weights.json` beside this module; inference is a dictionary look-up
per feature, in pure Python.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from watcher.domain.items import Severity, Signal

WEIGHTS = Path(__file__).with_name("gate_weights.json")
# an uncertain direction is never sent above this (as `severity.EASING_CAP`)
_CAP = Severity.MEDIUM
_TOKENS = re.compile(r"[a-z0-9]+|[\u3400-\u9fff]+")
_CJK = re.compile(r"[\u3400-\u9fff]")
# feature groups `features` can emit; a model names those it was trained with
GROUPS = ("kind", "concepts", "terms", "words", "pairs", "typed", "headline", "position")
_WORD_GROUPS = frozenset({"words", "pairs", "typed"})


def features(signal: Signal, title: str, body: str, groups: Iterable[str] = GROUPS) -> set[str]:
    """The binary features of one signal of an item (`title`, `body` as classified).

    `groups` picks which of `GROUPS` to emit: `kind` (type, direction, flags, evidence
    count, script), `concepts` (the concepts of the evidence's marked spans, alone and
    with the type), `terms` (the marked words as written), `words` (the evidence's words,
    a Chinese run as its characters), `pairs` (adjacent words, Chinese character pairs),
    `typed` (the words again, prefixed by the type), `headline` (the headline's words),
    `position` (where the first evidence sentence starts in the body, in quarters).
    """
    wanted = groups if isinstance(groups, frozenset) else frozenset(groups)
    kind = signal.type
    out: set[str] = set()
    add = out.add
    evidence = signal.evidence
    if "kind" in wanted:
        add(f"T={kind}")
        add(f"T={kind}|D={signal.direction.value}")
        add(f"nev={len(evidence)}")
        if signal.direction_uncertain:
            add("uncertain")
        if any(e.in_title for e in evidence):
            add("in_title")
        if evidence and _CJK.search(evidence[0].sentence):
            add("zh")
    concepts, terms = "concepts" in wanted, "terms" in wanted
    if concepts or terms:
        for item in evidence:
            sentence = item.sentence
            for span in item.spans:
                if concepts:
                    add(f"c={span.concept}")
                    add(f"{kind}|c={span.concept}")
                if terms:
                    add(f"m={sentence[span.start : span.end].lower()}")
    words: list[str] = []
    if not wanted.isdisjoint(_WORD_GROUPS):
        for item in evidence:
            words.extend(_words(item.sentence.lower()))
    if "words" in wanted:
        out.update([f"w={w}" for w in words])
    if "typed" in wanted:
        out.update([f"{kind}|w={w}" for w in words])
    if "pairs" in wanted:
        out.update([f"p={a}_{b}" for a, b in pairwise(words)])
    if "headline" in wanted and title:
        out.update([f"h={w}" for w in _words(title.lower())])
    if "position" in wanted and evidence:
        first = evidence[0]
        if first.in_title:
            add("pos=title")
        else:
            at = body.find(first.sentence[:40])
            add(f"pos={4 * at // (len(body) + 1) if at >= 0 else 'x'}")
    return out


def _words(lowered: str) -> list[str]:
    """Latin words and digits as words; a Chinese run as its single characters."""
    out: list[str] = []
    for token in _TOKENS.findall(lowered):
        if token[0] > "\u3000":
            out.extend(token)
        else:
            out.append(token)
    return out


@dataclass(frozen=True, slots=True)
class Model:
    """One logistic model: bias, weight per known feature, and its decision threshold."""

    bias: float
    weights: dict[str, float]
    threshold: float

    def score(self, found: Iterable[str]) -> float:
        """The probability the model gives the signal with features `found`."""
        get = self.weights.get
        total = self.bias + sum([get(name, 0.0) for name in found])
        if total < -30:
            return 0.0
        return 1.0 / (1.0 + math.exp(-total))


@dataclass(frozen=True, slots=True)
class GateModel:
    """The trained gate: the feature groups it reads, the keep model and the direction model
    (a direction threshold of 0 never marks a direction uncertain)."""

    groups: tuple[str, ...]
    keep: Model
    direction: Model

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GateModel:
        """The model as `bench.train_gate` writes it."""
        return cls(
            groups=tuple(data["groups"]),
            keep=Model(
                float(data["keep"]["bias"]),
                dict(data["keep"]["weights"]),
                float(data["keep"]["threshold"]),
            ),
            direction=Model(
                float(data["direction"]["bias"]),
                dict(data["direction"]["weights"]),
                float(data["direction"]["threshold"]),
            ),
        )


@cache
def shipped_model(path: Path = WEIGHTS) -> GateModel:
    """The model shipped in the package (read once per process)."""
    return GateModel.from_json(json.loads(path.read_text(encoding="utf-8")))


class Gate:
    """A trained model with the thresholds in force (a setting may override the model's)."""

    def __init__(
        self,
        model: GateModel,
        keep_threshold: float | None = None,
        direction_threshold: float | None = None,
    ) -> None:
        self.model = model
        self._groups = frozenset(model.groups)
        self.keep_threshold = model.keep.threshold if keep_threshold is None else keep_threshold
        self.direction_threshold = (
            model.direction.threshold if direction_threshold is None else direction_threshold
        )

    def apply(self, signals: Sequence[Signal], title: str, body: str) -> list[Signal]:
        """The signals the gate keeps, in order, with a distrusted direction marked uncertain.

        A speculative signal is kept as it is. A firm one is dropped when its keep score
        is under the keep threshold; kept, its direction is marked uncertain (and its
        severity capped) when the direction score is under the direction threshold.
        """
        out = []
        for signal in signals:
            if signal.speculative:
                out.append(signal)
                continue
            found = features(signal, title, body, self._groups)
            keep = self.model.keep.score(found)
            if keep < self.keep_threshold:
                continue
            if self.direction_threshold > 0 and not signal.direction_uncertain:
                trust = self.model.direction.score(found)
                if trust < self.direction_threshold:
                    signal = dataclasses.replace(
                        signal,
                        direction_uncertain=True,
                        severity=_CAP if signal.severity.rank > _CAP.rank else signal.severity,
                        direction_doubt=(
                            f"the precision gate trusts its direction at {trust:.2f}"
                            f" (under {self.direction_threshold:.2f}); keep score {keep:.2f}"
                        ),
                    )
            out.append(signal)
        return out
