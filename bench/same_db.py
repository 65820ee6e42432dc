"""Compare two SQLite files a round wrote: the same items, signals, stories, outbox rows?

`python -m bench.same_db A.sqlite B.sqlite` prints, per table, how many rows each file
holds and how many differ, and exits 1 when any does. Row ids, timestamps and message
IDs differ from run to run (polls finish in another order, uuids are random), so each
row is compared by what it says, with every id replaced by what it points at: an item
by (source, identity), a story by the sorted items it holds, a signal by its item and
type. Items compare every column but `id`, `fetched_at`, `published` (the farm dates
its entries from when it started) and `story_id` (replaced by the story's items);
signals every column but `id` and `created_at`; outbox rows every column but `id`,
`message_id` and the times, with `edition` as the item it names (0 stays 0), and which
outbox rows share a message ID ("messages").
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections import Counter, defaultdict
from collections.abc import Hashable
from pathlib import Path

ItemKey = tuple[str, str]
Rows = Counter[Hashable]

_ITEM_SKIP = {"id", "fetched_at", "published", "story_id"}
_SIGNAL_SKIP = {"id", "created_at", "item_id", "story_id"}
_DELIVERY_SKIP = {
    "id",
    "message_id",
    "next_attempt_at",
    "created_at",
    "sent_at",
    "lease_owner",
    "lease_until",
    "story_id",
    "item_id",
    "signal_id",
    "edition",
}


def _rows(conn: sqlite3.Connection, table: str) -> list[sqlite3.Row]:
    return list(conn.execute(f"SELECT * FROM {table}"))  # fixed table names


def _values(row: sqlite3.Row, skip: set[str]) -> tuple[tuple[str, object], ...]:
    return tuple((k, row[k]) for k in row.keys() if k not in skip)  # noqa: SIM118


def contents(path: Path) -> dict[str, Rows]:
    """Each table's rows as id-free tuples, counted (a multiset per table)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        items = _rows(conn, "items")
        key_of: dict[int, ItemKey] = {r["id"]: (r["source"], r["identity"]) for r in items}
        members: dict[int, list[ItemKey]] = defaultdict(list)
        for r in items:
            members[r["story_id"]].append(key_of[r["id"]])
        story_of = {sid: tuple(sorted(keys)) for sid, keys in members.items()}
        stories = {r["id"]: r for r in _rows(conn, "stories")}
        signals = _rows(conn, "signals")
        signal_of = {r["id"]: (key_of[r["item_id"]], r["type"]) for r in signals}
        deliveries = _rows(conn, "deliveries")
        out: dict[str, Rows] = {
            "items": Counter(
                (key_of[r["id"]], story_of[r["story_id"]], _values(r, _ITEM_SKIP)) for r in items
            ),
            "stories": Counter((story_of.get(sid, ()), r["title"]) for sid, r in stories.items()),
            "signals": Counter(
                (key_of[r["item_id"]], story_of.get(r["story_id"], ()), _values(r, _SIGNAL_SKIP))
                for r in signals
            ),
            "deliveries": Counter(
                (
                    story_of[r["story_id"]],
                    key_of[r["item_id"]],
                    signal_of[r["signal_id"]],
                    key_of[r["edition"]] if r["edition"] else 0,
                    _values(r, _DELIVERY_SKIP),
                )
                for r in deliveries
            ),
        }
        # one message per (recipient, item): which outbox rows share a message ID
        groups: dict[str, list[Hashable]] = defaultdict(list)
        for r in deliveries:
            groups[r["message_id"]].append((key_of[r["item_id"]], r["signal_type"]))
        out["messages"] = Counter(tuple(sorted(g)) for g in groups.values())  # type: ignore[type-var]
        return out
    finally:
        conn.close()


def differences(a: dict[str, Rows], b: dict[str, Rows]) -> dict[str, tuple[int, int, int]]:
    """Per table: rows in A, rows in B, rows in one and not the other (counted)."""
    return {
        table: (
            sum(a[table].values()),
            sum(b[table].values()),
            sum(((a[table] - b[table]) + (b[table] - a[table])).values()),
        )
        for table in a
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    args = parser.parse_args(argv)
    found = differences(contents(args.a), contents(args.b))
    for table, (in_a, in_b, differ) in found.items():
        print(f"{table:12} A {in_a:7}  B {in_b:7}  differing {differ}")
    return 1 if any(d for _, _, d in found.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
