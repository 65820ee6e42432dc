"""The story-pair tests' sample: the first dev pairs of the real set, sketched."""

from __future__ import annotations

from bench.stories import RealItem, load_real, real_sketches
from watcher.domain.stories import Sketch

Real = tuple[dict[str, RealItem], dict[str, Sketch], list[dict[str, str]]]


def first_dev_pairs(count: int) -> Real:
    """The first `count` dev pairs of the real set, with their items and the items'
    sketches (made without signals), as `bench.stories` scores them."""
    items, pairs = load_real()
    chosen = [p for p in pairs if p["split"] == "dev"][:count]
    needed = {p[k] for p in chosen for k in ("a", "b")}
    mine = {key: item for key, item in items.items() if key in needed}
    return mine, real_sketches(mine), chosen
