"""The real-text corpus's data contract (tests/data/realtext/).

`corpus.jsonl` is the labelled set that classifier figures are reported on, and its
README states what it holds. These tests pin what every later extension must keep: unique,
well-formed ids; the schema's fields and values; labels drawn from SIGNALS.md's four types
and two directions; a category that agrees with the labels; the split rule (a hash of the
event slug, so one event never straddles dev and held-back); at least 35 % held back; a
source URL on every passage; and README figures that are the file's own counts.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent / "data" / "realtext"
CORPUS = HERE / "corpus.jsonl"
README = HERE / "README.md"
SECOND = HERE / "second_labels.jsonl"
SIGNALS = Path(__file__).resolve().parent.parent.parent / "shared" / "SIGNALS.md"

TYPES = ("export_control", "quota_delay", "scrap_shortage", "ore_supply_disruption")
DIRECTIONS = ("tightening", "easing")
LANGS = {"en": "English", "zh-Hans": "simplified Chinese", "zh-Hant": "traditional Chinese"}
FIELDS = {
    "id",
    "split",
    "lang",
    "url",
    "published",
    "title",
    "body",
    "extent",
    "labels",
    "category",
    "event",
    "why",
}
SPLIT_SALT = "realtext-split-2026:"


def _rows() -> list[dict[str, Any]]:
    """Every passage of the corpus, in file order."""
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


ROWS = _rows()


def _split_of(event: str) -> str:
    """The split the README's rule gives an event slug."""
    digest = hashlib.sha256((SPLIT_SALT + event).encode("utf-8")).hexdigest()
    return "heldout" if int(digest, 16) % 100 < 40 else "dev"


def _is_negative(row: dict[str, Any]) -> bool:
    """A passage with no label at all (the README's "confusable negatives")."""
    return not row["labels"]


def _is_speculative_only(row: dict[str, Any]) -> bool:
    """A passage whose every label is speculative."""
    return bool(row["labels"]) and all(x.get("speculative") for x in row["labels"])


def test_ids_are_unique_and_follow_the_scheme() -> None:
    """`enNNN` for English, `zhNNN` for both Chinese scripts; no id twice."""
    ids = [r["id"] for r in ROWS]
    assert len(ids) == len(set(ids))
    for row in ROWS:
        prefix = "en" if row["lang"] == "en" else "zh"
        assert re.fullmatch(prefix + r"\d{3,}", row["id"]), row["id"]


def test_every_passage_has_the_schema_fields_with_valid_values() -> None:
    """Exactly the schema's fields; values of the documented form; a real source URL."""
    for row in ROWS:
        where = row.get("id")
        assert set(row) == FIELDS, where
        assert row["lang"] in LANGS, where
        assert row["split"] in ("dev", "heldout"), where
        assert row["extent"] in ("whole", "excerpt"), where
        assert re.fullmatch(r"https?://\S+", row["url"]), where
        assert row["published"] is None or re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["published"])
        assert isinstance(row["title"], str), where
        assert isinstance(row["body"], str), where
        assert row["body"].strip(), where
        assert isinstance(row["why"], str), where
        assert row["why"].strip(), where
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", row["event"]), where


def test_no_source_page_is_used_twice() -> None:
    """One passage per page, so no page is counted twice in a figure."""
    urls = Counter(r["url"] for r in ROWS)
    assert [u for u, n in urls.items() if n > 1] == []


def test_labels_use_only_the_signal_types_and_directions() -> None:
    """Each label is a SIGNALS.md type and direction, optionally `speculative: true`."""
    for row in ROWS:
        seen = set()
        for label in row["labels"]:
            assert set(label) <= {"type", "direction", "speculative"}, row["id"]
            assert label["type"] in TYPES, row["id"]
            assert label["direction"] in DIRECTIONS, row["id"]
            assert label.get("speculative", True) is True, row["id"]
            key = (label["type"], label["direction"])
            assert key not in seen, f"{row['id']} repeats {key}"
            seen.add(key)


@pytest.mark.skipif(not SIGNALS.is_file(), reason=f"{SIGNALS} is absent outside the team's box")
def test_the_types_are_the_ones_signals_md_defines() -> None:
    """The four type names and two directions appear in SIGNALS.md's table."""
    text = SIGNALS.read_text(encoding="utf-8")
    for name in (*TYPES, *DIRECTIONS):
        assert name in text, name


def test_category_agrees_with_the_labels() -> None:
    """Negatives carry `hard_negative:<kind>`; the other categories follow the labels."""
    for row in ROWS:
        labels, category = row["labels"], row["category"]
        if not labels:
            assert re.fullmatch(r"hard_negative:[a-z_]+", category), row["id"]
        elif _is_speculative_only(row):
            assert category == "speculative", row["id"]
        elif len(labels) > 1:
            assert category == "mixed", row["id"]
        elif labels[0]["direction"] == "easing":
            assert category == "easing", row["id"]
        else:
            assert category == "positive", row["id"]


def test_split_follows_the_event_hash_rule() -> None:
    """Every passage sits where the hash of its event slug puts it."""
    wrong = [r["id"] for r in ROWS if r["split"] != _split_of(r["event"])]
    assert wrong == []


def test_at_least_35_percent_is_held_back() -> None:
    """Enough held-back text to report figures on."""
    heldout = sum(r["split"] == "heldout" for r in ROWS)
    assert heldout / len(ROWS) >= 0.35


def test_second_labels_refer_to_corpus_passages() -> None:
    """The agreement sample's ids all exist in the corpus."""
    ids = {r["id"] for r in ROWS}
    second = [json.loads(x) for x in SECOND.read_text(encoding="utf-8").splitlines() if x]
    assert {s["id"] for s in second} <= ids


def _readme() -> str:
    return README.read_text(encoding="utf-8")


def test_readme_totals_match_the_file() -> None:
    """The opening sentence's total and per-language counts are the file's."""
    text = _readme()
    langs = Counter(r["lang"] for r in ROWS)
    match = re.search(
        r"holds\s+(\d+)\s+passages.*?(\d+)\s+in\s+English,\s+(\d+)\s+in\s+simplified\s+Chinese"
        r".*?(\d+)\s+in\s+traditional\s+Chinese",
        text,
        re.S,
    )
    assert match, "the README's opening counts are missing"
    assert [int(g) for g in match.groups()] == [
        len(ROWS),
        langs["en"],
        langs["zh-Hans"],
        langs["zh-Hant"],
    ]


def test_readme_split_table_matches_the_file() -> None:
    """Each row of the dev / heldout / all table is the file's count."""
    text = _readme()
    for lang, name in [*LANGS.items(), ("all", "all")]:
        rows = [r for r in ROWS if lang == "all" or r["lang"] == lang]
        dev = sum(r["split"] == "dev" for r in rows)
        match = re.search(rf"^\| {name} \| (\d+) \| (\d+) \| (\d+) \|$", text, re.M)
        assert match, f"no split-table row for {name}"
        assert [int(g) for g in match.groups()] == [dev, len(rows) - dev, len(rows)], name


def test_readme_negative_and_speculative_counts_match_the_file() -> None:
    """The negatives sentence (count, total, rounded share) and the speculative count."""
    text = _readme()
    negatives = sum(_is_negative(r) for r in ROWS)
    match = re.search(
        r"(\d+)\s+of\s+the\s+(\d+)\s+passages\s+\((\d+)\s+%\)\s+are\s+confusable\s+negatives", text
    )
    assert match, "the negatives sentence is missing"
    share = round(100 * negatives / len(ROWS))
    assert [int(g) for g in match.groups()] == [negatives, len(ROWS), share]
    speculative = sum(_is_speculative_only(r) for r in ROWS)
    match = re.search(r"(\d+)\s+passages\s+carry\s+only\s+speculative\s+labels", text)
    assert match, "the speculative sentence is missing"
    assert int(match.group(1)) == speculative


def test_readme_signal_table_matches_the_file() -> None:
    """Each type's non-speculative tightening and easing labels, dev / heldout."""
    text = _readme()
    counts: Counter[tuple[str, str, str]] = Counter()
    for row in ROWS:
        for label in row["labels"]:
            if not label.get("speculative"):
                counts[(label["type"], label["direction"], row["split"])] += 1
    for kind in TYPES:
        match = re.search(rf"^\| {kind} \| (\d+) / (\d+) \| (\d+) / (\d+) \|$", text, re.M)
        assert match, f"no signal-table row for {kind}"
        want = [
            counts[(kind, "tightening", "dev")],
            counts[(kind, "tightening", "heldout")],
            counts[(kind, "easing", "dev")],
            counts[(kind, "easing", "heldout")],
        ]
        assert [int(g) for g in match.groups()] == want, kind
