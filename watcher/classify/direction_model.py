"""A learned second opinion on the direction of an item's news, read from its lead.

The rules (`direction`) decide a signal's direction from the cues they match. On real
text they miss easing news phrased in ways no rule names ("licences granted", "the ban
was reaffirmed as lifted"), so a small logistic-regression model, trained offline on
the dev split of the labelled sets (`make train-direction`, `bench/direction_train.py`),
reads the item's opening (its headline and body, cut at `LEAD_CHARS` characters) and
gives the probability that its news is easing. (Cross-validation on dev: the first 600
characters read better than the headline and one to three sentences.)

Inference is a plain sparse dot product over the binary features of `features`, the
one tokeniser training also uses: lower-cased folded text (OpenCC's simplified Chinese),
words and word pairs, character 4-grams inside words, and Chinese character 1–3-grams.
The vector is L2-normalised (each present feature weighs 1/√n). No numpy at run time:
the weights are a JSON file shipped in the package (`data/direction_model.json`).

How the engine can combine it with the rules: a firm tightening signal whose item the
model reads as easing at P >= `engine.FLAG` is flagged uncertain (severity capped at the
easing cap, the doubt quoting the model), and at P >= `engine.FLIP` becomes easing.

**Not part of the product.** The merge rule, fixed before the model was built, asked
5-fold event-grouped cross-validation on the real dev split (`python -m
bench.direction_cv`) for fewer easing items sent as tightening than the rules alone,
direction accuracy not lower, macro-F1 within 0.005. The rules, written against that
same dev split, already send one easing item as tightening (dev direction 0.990); out
of fold the model reads 0.746 of the directed dev leads right, gives that item P(easing)
0.13, and every FLIP below 0.95 lowers direction accuracy. So `Classifier.from_config`
leaves it off; `watcher eval --direction-model` adds it, for measurement.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

from watcher.classify.text import Sentence

LEAD_CHARS = 600  # how much of an item's text (headline first) the model reads
MODEL_FILE = "direction_model.json"

_WORD = re.compile(r"[a-z][a-z0-9]*(?:'[a-z]+)?|[0-9]+(?:[.,][0-9]+)*")
_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_DIGITS = re.compile(r"[0-9]")


def lead_of(lowered: str, sentences: Sequence[Sentence], has_title: bool) -> str:
    """The opening of an item laid out as the engine lays it out (`lowered`: its folded,
    lower-cased text, headline first): its first `LEAD_CHARS` characters, from its first
    sentence on. (`has_title` is part of the layout the engine passes; the cut is the
    same either way.)"""
    del has_title
    if not sentences:
        return ""
    start = sentences[0].start
    return lowered[start : start + LEAD_CHARS]


def features(lead: str) -> set[str]:
    """The binary features of a lowered, folded lead (training and inference share it)."""
    out: set[str] = set()
    add = out.add
    words = [_DIGITS.sub("0", w) for w in _WORD.findall(lead)]
    previous = "<s>"
    for word in words:
        add("w:" + word)
        add("b:" + previous + " " + word)
        previous = word
        if len(word) >= 4 and word[0] != "0":
            padded = f"<{word}>"
            for i in range(len(padded) - 3):
                add("c:" + padded[i : i + 4])
    for run in _CJK_RUN.findall(lead):
        for n in (1, 2, 3):
            for i in range(len(run) - n + 1):
                add("z:" + run[i : i + n])
    return out


class Opinion(NamedTuple):
    """The model's reading of an item's lead: the probability that its news is easing."""

    easing: float

    def text(self) -> str:
        """How an alert quotes it."""
        if self.easing >= 0.5:
            return f"the direction model reads the lead as easing (p={self.easing:.2f})"
        return f"the direction model reads the lead as tightening (p={1 - self.easing:.2f})"


@dataclass(frozen=True, slots=True)
class DirectionModel:
    """Logistic-regression weights over `features`, and where they come from."""

    bias: float
    weights: dict[str, float]
    provenance: str = ""

    def easing_probability(self, lead: str) -> float:
        """P(the item's news is easing | its lead)."""
        found = features(lead)
        if not found:
            return 1 / (1 + math.exp(-self.bias))
        get = self.weights.get
        total = 0.0
        for feature in found:
            weight = get(feature)
            if weight is not None:
                total += weight
        z = self.bias + total / math.sqrt(len(found))
        return 1 / (1 + math.exp(-z)) if z > -60 else 0.0

    def opinion(self, lead: str) -> Opinion:
        """The model's `Opinion` of a lead."""
        return Opinion(self.easing_probability(lead))

    def to_json(self) -> str:
        """The model as the shipped file holds it (sorted, so training is reproducible)."""
        return (
            json.dumps(
                {
                    "format": 1,
                    "lead_chars": LEAD_CHARS,
                    "provenance": self.provenance,
                    "bias": self.bias,
                    "weights": dict(sorted(self.weights.items())),
                },
                ensure_ascii=False,
                separators=(",", ":"),
            )
            + "\n"
        )

    @classmethod
    def from_json(cls, text: str) -> DirectionModel:
        """A model from `to_json`'s text; `ValueError` when it is not one."""
        data = json.loads(text)
        if data.get("format") != 1 or data.get("lead_chars") != LEAD_CHARS:
            raise ValueError("not a direction model of this version")
        return cls(
            float(data["bias"]),
            {str(k): float(v) for k, v in data["weights"].items()},
            str(data.get("provenance", "")),
        )


@cache
def shipped_model() -> DirectionModel:
    """The model shipped in the package (loaded once, on first use)."""
    from importlib import resources  # only where the model is asked for

    text = resources.files("watcher.classify").joinpath("data", MODEL_FILE).read_text("utf-8")
    return DirectionModel.from_json(text)
