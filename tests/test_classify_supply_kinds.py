"""Kinds of export-control and ore-disruption wording (tests/data/classify/supply_kinds.yaml)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import yaml

from tests.conftest import DATA, ROOT
from watcher.classify.engine import Classifier
from watcher.config.load import load_config

CASES: list[dict[str, Any]] = yaml.safe_load(
    (DATA / "classify" / "supply_kinds.yaml").read_text(encoding="utf-8")
)


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    """The classifier of config/watcher.yaml (default rules included)."""
    return Classifier.from_config(load_config(ROOT / "config" / "watcher.yaml", environ={}))


@pytest.mark.parametrize("case", CASES, ids=[c["kind"] for c in CASES])
def test_kind_of_wording_gives_its_signals(classifier: Classifier, case: dict[str, Any]) -> None:
    """The sentence, as an item published on 2025-12-01, gives exactly the listed signals."""
    signals = classifier.classify("", case["text"], published=date(2025, 12, 1))
    found = [
        f"{s.type}/{s.direction.value}{'/speculative' if s.speculative else ''}" for s in signals
    ]
    assert found == case["signals"]
