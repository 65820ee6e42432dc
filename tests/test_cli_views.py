"""`watcher sources / signals / items` read the store a real poll filled."""

from __future__ import annotations

import asyncio
import json

from typer.testing import CliRunner

from tests.conftest import ROOT, WriteConfig
from watcher.cli import app
from watcher.config.load import load_config
from watcher.service.rounds import run_once


def _filled(write_config: WriteConfig) -> str:
    path = write_config(
        sources=[
            {"name": "seeds", "kind": "files", "path": str(ROOT / "seeds"), "backfill": "3650d"},
            {"name": "missing", "kind": "files", "path": "/nonexistent"},
        ]
    )
    asyncio.run(run_once(load_config(path, environ={})))
    return str(path)


def test_sources_lists_health_of_each_source(write_config: WriteConfig) -> None:
    """Each source appears with its polls, failures and last error."""
    config = _filled(write_config)
    result = CliRunner().invoke(app, ["sources", "--config", config, "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert rows["seeds"]["failures"] == 0
    assert rows["seeds"]["last_success"]
    assert rows["missing"]["failures"] == 1
    assert "does not exist" in rows["missing"]["last_error"]


def test_signals_filters_by_type_and_shows_evidence(write_config: WriteConfig) -> None:
    """`--type` narrows the list; each line carries its marked evidence."""
    config = _filled(write_config)
    result = CliRunner().invoke(
        app, ["signals", "--config", config, "--type", "quota_delay", "--json"]
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows
    assert {r["type"] for r in rows} == {"quota_delay"}
    assert all("[" in r["evidence"] for r in rows)


def test_items_and_a_bad_since_value(write_config: WriteConfig) -> None:
    """Items are listed newest first; a malformed --since exits 2 with the reason."""
    config = _filled(write_config)
    listed = CliRunner().invoke(app, ["items", "--config", config, "--json"])
    assert listed.exit_code == 0, listed.output
    assert len(listed.stdout.splitlines()) == 11
    bad = CliRunner().invoke(app, ["items", "--config", config, "--since", "lately"])
    assert bad.exit_code == 2
    assert "--since" in bad.stderr
