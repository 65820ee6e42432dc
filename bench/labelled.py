"""The rows of a labelled JSONL set (the real-text corpus, the synthetic sets, the real
story items), read the same way by every bench that replays them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

# (key, title, body, publication day, labels as (type, direction))
Row = tuple[str, str, str, date | None, tuple[tuple[str, str], ...]]


def labelled_rows(path: Path, prefix: str) -> Iterator[Row]:
    """Each non-blank line of `path` as a `Row`, in file order: key `prefix:id` (the
    line number for a row without an id), a missing title as "", the day of `published`
    (None without one), and the row's `labels`."""
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            if not line.strip():
                continue
            row = json.loads(line)
            published = row.get("published")
            day = date.fromisoformat(published[:10]) if published else None
            labels = tuple((s["type"], s["direction"]) for s in row.get("labels") or [])
            yield (
                f"{prefix}:{row.get('id', number)}",
                row.get("title") or "",
                row["body"],
                day,
                labels,
            )
