"""The easing guard's cheap trigger never skips evidence a full scan would find.

The guard (`easing`) reads a sentence for easing events only when the term matcher's one
pass found an `ANCHOR` word in it, and only near those words; the rest of the item is
skipped. These tests hold that shortcut against the full scan (`easing_events` with no
anchors: every expression over the whole sentence) on every sentence of the dev items of
the labelled sets (synthetic and real text) and of the guard's own direction cases: a
sentence with evidence by the full scan holds an anchor, and the anchored reading finds
the same events in it. No item is named: the property is checked on whatever the sets
hold.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import yaml

from tests.conftest import ROOT
from watcher.classify.easing import ANCHOR, ANCHOR_TERMS, easing_events
from watcher.classify.engine import _layout  # the classifier's own layout of an item
from watcher.classify.matcher import TermMatcher
from watcher.classify.text import split_sentences
from watcher.domain.folding import fold, lower_folded

DATA = ROOT / "tests" / "data"
LABELLED = (
    DATA / "classify" / "devset.jsonl",
    DATA / "classify" / "tiny_eval.jsonl",
    DATA / "realtext" / "corpus.jsonl",
)
CASES = DATA / "classify" / "direction_doubt.yaml"


def _dev_items() -> Iterator[tuple[str, str]]:
    """(title, body) of every dev item of the labelled sets (never a held-back one) and
    of every direction case."""
    for path in LABELLED:
        with path.open(encoding="utf-8") as rows:
            for line in rows:
                if line.strip():
                    row = json.loads(line)
                    if row.get("split", "dev") == "dev":
                        yield row.get("title") or "", row.get("body") or ""
    for case in yaml.safe_load(CASES.read_text(encoding="utf-8")):
        yield case.get("title") or "", case.get("body") or ""


@pytest.fixture(scope="module")
def anchors() -> TermMatcher:
    matcher = TermMatcher()
    for term in ANCHOR_TERMS:
        matcher.add(term, ANCHOR)
    return matcher


def test_the_sets_are_read(anchors: TermMatcher) -> None:
    """The property below is checked on many sentences, some of them with evidence."""
    items = list(_dev_items())
    assert len(items) > 1_000
    with_evidence = 0
    for title, body in items[:300]:
        text, sentences = _layout(title, body)
        lowered = lower_folded(fold(text))
        with_evidence += sum(1 for s in sentences if easing_events(lowered, s.start, s.end))
    assert with_evidence > 20


def test_the_anchored_reading_finds_what_the_full_scan_finds(anchors: TermMatcher) -> None:
    """Every sentence with easing evidence by the full scan holds an anchor word, and the
    reading near the anchors finds the same events: the trigger skips nothing."""
    missed: list[str] = []
    for title, body in _dev_items():
        text, sentences = _layout(title, body)
        if not sentences:
            continue
        folded = fold(text)
        lowered = lower_folded(folded)
        found, keys = anchors.bucket(folded, lowered, sentences)
        for index, (start, end) in enumerate(sentences):
            full = sorted(easing_events(lowered, start, end))
            spans = [(s, e) for s, e, labels in found[index] if ANCHOR in labels]
            near = sorted(easing_events(lowered, start, end, spans)) if spans else []
            if full != near or (full and ANCHOR not in keys[index]):
                missed.append(f"{lowered[start:end]!r}: full {full}, anchored {near}")
    assert missed == []


def test_a_missing_anchor_word_would_be_caught() -> None:
    """The check above can fail: a matcher without the anchor of an event skips it."""
    matcher = TermMatcher()
    for term in ANCHOR_TERMS:
        if term != "resum*":
            matcher.add(term, ANCHOR)
    text = lower_folded(fold("The Grasberg mine resumed operations on Monday."))
    sentences = split_sentences(text)
    found, keys = matcher.bucket(text, text, sentences)
    assert easing_events(text, 0, len(text))
    assert ANCHOR not in keys[0]
    assert not any(ANCHOR in labels for _, _, labels in found[0])
