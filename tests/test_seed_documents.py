"""The demo documents in seeds/ carry exactly the signals, and directions, they were written for."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT
from watcher.classify.engine import Classifier
from watcher.config.load import load_config
from watcher.sources.files import split_title

TIGHT, EASE = "tightening", "easing"
EXPECTED = {
    "01-medium-heavy-oxide-output-may-2025.md": {
        "export_control": TIGHT,
        "quota_delay": TIGHT,
        "scrap_shortage": TIGHT,
        "ore_supply_disruption": TIGHT,
    },
    "02-export-control-notice.md": {"export_control": TIGHT},
    "03-mining-quota-announcement.md": {"quota_delay": TIGHT},
    "04-ndfeb-scrap-market.md": {"scrap_shortage": TIGHT},
    "05-weekly-price-wrap-no-signal.md": {},
    "06-myanmar-border-reopens.md": {"ore_supply_disruption": EASE},
}
CLASSIFIER = Classifier.from_config(load_config(ROOT / "config" / "watcher.yaml", environ={}))


@pytest.mark.parametrize(("name", "expected"), EXPECTED.items())
def test_seed_document_signals(name: str, expected: dict[str, str]) -> None:
    """Each seed report yields its intended signal types with their directions, nothing else."""
    title, body = split_title((ROOT / "seeds" / name).read_text(encoding="utf-8"))
    found = {s.type: s.direction.value for s in CLASSIFIER.classify(title, body)}
    assert found == expected
