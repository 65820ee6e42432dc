"""Train the direction model (`watcher/classify/direction_model.py`) on the dev splits.

`make train-direction` (or `python -m bench.direction_train`) rewrites
`watcher/classify/data/direction_model.json` deterministically from the dev rows of the
real-text corpus and of the synthetic set; `--check` only tells whether the shipped file
is what training produces now. Held-back rows are never read into training.

An item's target is the direction of its news: easing when every label (speculative
ones included) is easing, tightening when every one is tightening; items without labels
or with both directions are left out. Its input is its lead as the engine reads it
(`direction_model.lead_of`), through the shared tokeniser (`direction_model.features`).
scikit-learn (a dev dependency) fits an L2 logistic regression; only the weights of
features seen in at least `MIN_DF` training leads are kept, rounded to `DIGITS` digits.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from watcher.classify.direction_model import MODEL_FILE, DirectionModel, features, lead_of
from watcher.classify.engine import _layout
from watcher.domain.folding import fold, lower_folded

ROOT = Path(__file__).resolve().parent.parent
REALTEXT = ROOT / "tests" / "data" / "realtext" / "corpus.jsonl"
SYNTHETIC = ROOT / "tests" / "data" / "classify" / "devset.jsonl"
SHIPPED = ROOT / "watcher" / "classify" / "data" / MODEL_FILE
C = 64.0  # inverse L2 strength (grouped CV on dev: AUC 0.79 at 16–256)
MIN_DF = 2
DIGITS = 4
CLASS_WEIGHT = "balanced"


@dataclass(frozen=True, slots=True)
class Row:
    """One labelled row of a labelled set, as training and cross-validation read it."""

    id: str
    split: str
    title: str
    body: str
    easing: bool | None  # the direction of its news; None: no labels, or both ways
    event: str
    source: str  # "real" or "synthetic"

    @property
    def lead(self) -> str:
        """The lead as the engine reads it."""
        return lead_text(self.title, self.body)


def lead_text(title: str, body: str) -> str:
    """An item's lead, laid out, folded and lower-cased exactly as the engine does."""
    text, sentences = _layout(title, body)
    return lead_of(lower_folded(fold(text)), sentences, len(text) != len(body))


def news_direction(labels: Iterable[dict[str, object]]) -> bool | None:
    """True for easing news, False for tightening, None for neither or both."""
    directions = {str(label["direction"]) for label in labels}
    if directions == {"easing"}:
        return True
    if directions == {"tightening"}:
        return False
    return None


def load_rows(path: Path, source: str) -> list[Row]:
    """Every row of a labelled JSON-lines file."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        data = json.loads(line)
        rows.append(
            Row(
                id=str(data["id"]),
                split=str(data.get("split", "dev")),
                title=str(data.get("title") or ""),
                body=str(data.get("body") or ""),
                easing=news_direction(data.get("labels", [])),
                event=str(data.get("event") or f"{source}:{data['id']}"),
                source=source,
            )
        )
    return rows


def training_rows(synthetic: bool = True) -> list[Row]:
    """The dev rows with a direction: real corpus, then (unless not wanted) synthetic."""
    rows = load_rows(REALTEXT, "real")
    if synthetic:
        rows += load_rows(SYNTHETIC, "synthetic")
    return [r for r in rows if r.split == "dev" and r.easing is not None]


def provenance(rows: Sequence[Row]) -> str:
    """A hash of what training reads and how: the rows' ids, texts and targets, and the
    hyper-parameters. The shipped file names it; a test recomputes it."""
    digest = hashlib.sha256(f"C={C} min_df={MIN_DF} digits={DIGITS} cw={CLASS_WEIGHT}".encode())
    for row in rows:
        digest.update(json.dumps([row.id, row.title, row.body, row.easing]).encode())
    return "sha256:" + digest.hexdigest()[:16]


def train(rows: Sequence[Row], *, c: float = C) -> DirectionModel:
    """Fit the model on `rows` (deterministic: lbfgs, sorted vocabulary)."""
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    docs = [features(row.lead) for row in rows]
    counts: dict[str, int] = {}
    for doc in docs:
        for feature in doc:
            counts[feature] = counts.get(feature, 0) + 1
    vocabulary = sorted(f for f, n in counts.items() if n >= MIN_DF)
    column = {f: i for i, f in enumerate(vocabulary)}
    data, indices, indptr = [], [], [0]
    for doc in docs:
        value = 1 / math.sqrt(len(doc)) if doc else 0.0
        kept = sorted(column[f] for f in doc if f in column)
        indices.extend(kept)
        data.extend([value] * len(kept))
        indptr.append(len(indices))
    matrix = csr_matrix((data, indices, indptr), shape=(len(docs), len(vocabulary)))
    target = [int(bool(row.easing)) for row in rows]
    fitted = LogisticRegression(
        C=c, class_weight=CLASS_WEIGHT, max_iter=5000, solver="lbfgs", tol=1e-8
    ).fit(matrix, target)
    weights = {
        f: round(float(w), DIGITS)
        for f, w in zip(vocabulary, fitted.coef_[0], strict=True)
        if round(float(w), DIGITS) != 0.0
    }
    model = DirectionModel(round(float(fitted.intercept_[0]), DIGITS), weights, provenance(rows))
    # the plain-Python inference must read what scikit-learn fitted (same tokeniser, same
    # normalisation); only the rounding of the weights may move a probability
    for row, expected in zip(rows, fitted.predict_proba(matrix)[:, 1], strict=True):
        if abs(model.easing_probability(row.lead) - float(expected)) > 0.01:
            raise AssertionError(f"inference disagrees with training on {row.id}")
    return model


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the shipped file differs")
    args = parser.parse_args(argv)
    rows = training_rows()
    text = train(rows).to_json()
    if args.check:
        same = SHIPPED.exists() and SHIPPED.read_text(encoding="utf-8") == text
        print(f"{SHIPPED.relative_to(ROOT)}: {'up to date' if same else 'differs from training'}")
        return 0 if same else 1
    SHIPPED.parent.mkdir(exist_ok=True)
    SHIPPED.write_text(text, encoding="utf-8")
    easing = sum(bool(r.easing) for r in rows)
    print(
        f"wrote {SHIPPED.relative_to(ROOT)}: {len(rows)} dev leads ({easing} easing),"
        f" {len(json.loads(text)['weights'])} weights, {len(text.encode()) // 1024} KB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
