"""Story clustering, scored by pairs on tests/data/stories: `python -m bench.stories`.

The items are clustered exactly as the store does it, in publication order: the earlier
items of other sources within the window that share keys with the new one
(`watcher.domain.stories.shortlist`, hot keys left out), then `watcher.domain.stories.best_story`
over those.
"""

from __future__ import annotations

import itertools
import re
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from watcher.domain.stories import (
    Candidate,
    Posting,
    best_story,
    hot_keys,
    index_keys,
    shortlist,
    sketch_text,
)

SETS = Path(__file__).resolve().parent.parent / "tests" / "data" / "stories"
DATA = SETS / "stories.yaml"
HELDOUT = SETS / "heldout.yaml"
WINDOW = timedelta(days=7)
_SENTENCE = re.compile(r"(?<=[.!?。！？])\s*")


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


def cluster(items: list[LabelledItem]) -> list[int]:
    """A story number per item, assigned as the store would in publication order."""
    order = sorted(range(len(items)), key=lambda i: items[i].published)
    story_of = [0] * len(items)
    seen: dict[int, Candidate] = {}
    filed: dict[int, list[Posting]] = {}
    for index in order:
        item = items[index]
        sketch = sketch_text(item.title, item.body)
        keys = index_keys(sketch)
        postings = {
            key: [
                p
                for p in filed.get(key, ())
                if seen[p.item_id].source != item.source
                and abs(seen[p.item_id].when - item.published) <= WINDOW
            ]
            for key in keys
        }
        hot = hot_keys(postings)
        candidates = [seen[i] for i in shortlist(keys, postings, hot)]
        found = best_story(sketch, item.source, item.published, WINDOW, candidates)
        story_of[index] = found if found is not None else index + 1
        seen[index] = Candidate(story_of[index], item.source, item.published, sketch)
        for key in keys - hot:
            filed.setdefault(key, []).append(Posting(index, story_of[index]))
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


def main() -> int:
    """Print pairs precision and recall of each set and of both; list mistakes with -v."""
    sets = {"tuning set": load_items(DATA), "held-out set": load_items(HELDOUT)}
    sets["both"] = sets["tuning set"] + sets["held-out set"]
    for name, items in sets.items():
        predicted = cluster(items)
        result = score(items, predicted)
        print(
            f"story clustering, {name}: {result.items} items in {result.stories} stories,"
            f" {result.gold_pairs} same-story pairs; pairs precision {result.precision:.3f},"
            f" recall {result.recall:.3f}"
        )
        if "-v" in sys.argv:
            for line in mistakes(items, predicted):
                print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
