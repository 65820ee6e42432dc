"""`watcher backtest` on a real SQLite database filled by a real poll of a files source."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from watcher.cli import app
from watcher.config import WatcherConfig
from watcher.config.load import load_config
from watcher.service.backtest import (
    APPEARS,
    CHANGES,
    DISAPPEARS,
    Backtest,
    format_backtest,
    run_backtest,
)
from watcher.service.rounds import run_once
from watcher.store.db import open_database

DOCUMENTS = {
    "scrap.md": "# Recyclers short of NdFeB swarf\n\nRecyclers in Ganzhou are short of swarf.\n",
    "gate.md": "# Kanpaiti gate closed\n\nThe border gate was closed, halting rare earth ore.",
    "cut.md": "# Magnet makers cut production\n\nNdFeB magnet makers cut production in May.\n",
    "price.md": "# Dysprosium flat\n\nDysprosium oxide was unchanged on the week.\n",
}
PRODUCTION_CUT = {
    "concepts": {
        "producer": ["magnet maker*", "producer*", "smelter*"],
        "output_cut": ["{cut,cuts,slashed,reduced} {production,output}"],
        # the edit under test: recyclers "short of" no longer counts as scarcity
        "scarcity": ["scarce", "shortage*"],
    },
    "signals": {
        "production_cut": {
            "label": "Production cut",
            "match": [["producer", "output_cut"]],
            "context": ["critical_minerals"],
        }
    },
}


async def _backtest(config: WatcherConfig, window: timedelta, now: datetime) -> Backtest:
    """`run_backtest` on the config's own database."""
    async with open_database(config.database_url) as db:
        return await run_backtest(db, config, window, now)


def _poll(tmp_path: Path, write_config: Callable[..., Path]) -> tuple[Path, dict[str, Any]]:
    """Fill the database with one poll of a folder of reports; return the config and its data."""
    folder = tmp_path / "reports"
    folder.mkdir()
    for name, text in DOCUMENTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    path = write_config(sources=[{"name": "reports", "kind": "files", "path": str(folder)}])
    return path, yaml.safe_load(path.read_text(encoding="utf-8"))


def _variant(tmp_path: Path, data: dict[str, Any], **changes: Any) -> WatcherConfig:
    """The same configuration (same database) with other rules, written beside it."""
    path = tmp_path / "next.yaml"
    path.write_text(yaml.safe_dump({**data, **changes}, allow_unicode=True), encoding="utf-8")
    return load_config(path, environ={})


async def test_unchanged_rules_change_nothing(
    tmp_path: Path, write_config: Callable[..., Path]
) -> None:
    """Backtesting the rules that stored the signals finds every stored signal again."""
    path, _ = _poll(tmp_path, write_config)
    config = load_config(path, environ={})
    assert await run_once(config) == 0
    result = await _backtest(config, timedelta(days=30), datetime.now(UTC))
    assert result.items == len(DOCUMENTS)
    by_type = {d.type: d for d in result.types}
    assert by_type["scrap_shortage"].stored == by_type["scrap_shortage"].now == 1
    assert by_type["ore_supply_disruption"].stored == 1
    assert all(not d.changes for d in result.types)
    assert "no change" in format_backtest(result)


async def test_a_rule_edit_shows_alerts_that_appear_and_disappear(
    tmp_path: Path, write_config: Callable[..., Path]
) -> None:
    """A new signal type appears and a narrowed concept makes a stored alert disappear."""
    path, data = _poll(tmp_path, write_config)
    assert await run_once(load_config(path, environ={})) == 0
    edited = _variant(tmp_path, data, **PRODUCTION_CUT)
    result = await _backtest(edited, timedelta(days=30), datetime.now(UTC))
    by_type = {d.type: d for d in result.types}
    (appeared,) = by_type["production_cut"].of_kind(APPEARS)
    assert appeared.item.item.title == "Magnet makers cut production"
    assert appeared.before is None
    assert appeared.after is not None
    (gone,) = by_type["scrap_shortage"].of_kind(DISAPPEARS)
    assert gone.item.item.title == "Recyclers short of NdFeB swarf"
    assert not by_type["ore_supply_disruption"].changes
    assert not by_type["export_control"].of_kind(CHANGES)
    report = format_backtest(result)
    assert "production_cut: 0 stored, 1 with these rules — 1 appears" in report
    assert "  + Magnet makers cut production [tightening]" in report
    assert "      > [Magnet makers] [cut production]" in report
    assert "scrap_shortage: 1 stored, 0 with these rules — 1 disappears" in report
    assert "  - Recyclers short of NdFeB swarf [tightening]" in report


async def test_the_window_counts_from_fetch_time(
    tmp_path: Path, write_config: Callable[..., Path]
) -> None:
    """Items fetched before the window are left out."""
    path, _ = _poll(tmp_path, write_config)
    config = load_config(path, environ={})
    assert await run_once(config) == 0
    later = datetime.now(UTC) + timedelta(days=40)
    result = await _backtest(config, timedelta(days=30), later)
    assert result.items == 0


def test_backtest_command(tmp_path: Path, write_config: Callable[..., Path]) -> None:
    """`watcher backtest --since 30d --config OTHER.yaml` prints the report."""
    path, data = _poll(tmp_path, write_config)
    assert asyncio.run(run_once(load_config(path, environ={}))) == 0
    _variant(tmp_path, data, **PRODUCTION_CUT)
    result = CliRunner().invoke(
        app, ["backtest", "--since", "30d", "--config", str(tmp_path / "next.yaml")]
    )
    assert result.exit_code == 0, result.output
    assert f"Backtest on {len(DOCUMENTS)} stored items" in result.stdout
    assert "production_cut: 0 stored, 1 with these rules — 1 appears" in result.stdout
    bad = CliRunner().invoke(app, ["backtest", "--since", "soon", "--config", str(path)])
    assert bad.exit_code == 2
    assert "--since" in bad.stderr
