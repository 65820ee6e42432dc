"""Inter-labeller agreement on the real-text corpus's 100-item double-labelled sample.

`python -m bench.agreement` compares `tests/data/realtext/second_labels.jsonl` (labelled
independently, by SIGNALS.md alone) with the corpus's labels for the same items: exact
agreement per item, and per signal type Cohen's kappa on "the item reports this type"
(speculative labels count as no signal, as in `watcher eval`) and direction agreement
where both labellers saw the type.
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "realtext" / "corpus.jsonl"
SECOND = ROOT / "tests" / "data" / "realtext" / "second_labels.jsonl"
TYPES = ("export_control", "quota_delay", "scrap_shortage", "ore_supply_disruption")


def _signals(labels: list[dict[str, object]]) -> dict[str, str]:
    """Type → direction of the labels that are news (speculative ones left out)."""
    return {str(x["type"]): str(x["direction"]) for x in labels if not x.get("speculative")}


def _kappa(pairs: list[tuple[bool, bool]]) -> float:
    """Cohen's kappa of two labellers' yes/no answers."""
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    yes_a = sum(a for a, _ in pairs) / n
    yes_b = sum(b for _, b in pairs) / n
    expected = yes_a * yes_b + (1 - yes_a) * (1 - yes_b)
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)


def main() -> None:
    """Print the agreement figures."""
    first = {j["id"]: j for j in map(json.loads, CORPUS.read_text(encoding="utf-8").splitlines())}
    second = [json.loads(line) for line in SECOND.read_text(encoding="utf-8").splitlines()]
    exact = sum(_signals(first[s["id"]]["labels"]) == _signals(s["labels"]) for s in second)
    print(f"{len(second)} items labelled twice; identical signals (type and direction): {exact}")
    print(f"{'type':24} {'kappa':>6} {'both saw':>9} {'same direction':>15}")
    for kind in TYPES:
        pairs = []
        directions = []
        for s in second:
            a, b = _signals(first[s["id"]]["labels"]), _signals(s["labels"])
            pairs.append((kind in a, kind in b))
            if kind in a and kind in b:
                directions.append(a[kind] == b[kind])
        same = f"{sum(directions)}/{len(directions)}"
        print(f"{kind:24} {_kappa(pairs):6.3f} {len(directions):9d} {same:>15}")
    any_pairs = [
        (bool(_signals(first[s["id"]]["labels"])), bool(_signals(s["labels"]))) for s in second
    ]
    print(f"{'any signal':24} {_kappa(any_pairs):6.3f}")


if __name__ == "__main__":
    main()
