"""The command line as a new user meets it: version, config paths, errors, tables, help."""

from __future__ import annotations

import asyncio
import io
import json
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.cli import watcher
from tests.conftest import ROOT, WriteConfig
from watcher.config.load import load_config
from watcher.ops.log import configure_logging
from watcher.service.rounds import run_once


def _filled(write_config: WriteConfig) -> Path:
    path = write_config(
        sources=[
            {"name": "seeds", "kind": "files", "path": str(ROOT / "seeds"), "backfill": "3650d"}
        ]
    )
    asyncio.run(run_once(load_config(path, environ={})))
    return path


def test_version_prints_the_installed_version() -> None:
    """`watcher --version` prints the distribution's version and exits 0."""
    result = watcher("--version")
    assert result.returncode == 0, result.stderr
    assert version("supply-watcher") in result.stdout


def test_check_config_takes_config_like_every_other_command(write_config: WriteConfig) -> None:
    """`check-config --config PATH` checks PATH; two different files are refused."""
    path = write_config()
    checked = watcher("check-config", "--config", str(path))
    assert checked.returncode == 0, checked.stderr
    assert f"{path}: OK" in checked.stdout
    other = path.parent / "other.yaml"
    other.write_text(path.read_text())
    both = watcher("check-config", str(other), "--config", str(path))
    assert both.returncode == 2
    assert "two config files" in both.stderr


def test_an_unknown_signal_type_is_an_error_not_an_empty_list(write_config: WriteConfig) -> None:
    """`signals --type` with a type the rules do not define exits 2 naming the known ones."""
    path = write_config()
    result = watcher("signals", "--config", str(path), "--type", "export_controls_typo")
    assert result.returncode == 2
    assert "export_controls_typo" in result.stderr
    assert "export_control" in result.stderr
    assert result.stdout == ""


def test_retrying_an_outbox_id_that_does_not_exist_fails(write_config: WriteConfig) -> None:
    """A missing id exits 1 naming it; a malformed one exits 2 before touching the store."""
    path = _filled(write_config)
    missing = watcher("outbox", "retry", "987654", "D99", "--config", str(path))
    assert missing.returncode == 1
    assert "987654, D99" in missing.stderr
    malformed = watcher("outbox", "retry", "twelve", "--config", str(path))
    assert malformed.returncode == 2
    assert "twelve" in malformed.stderr


def test_a_table_into_a_pipe_is_tab_separated_whole_and_zoned(write_config: WriteConfig) -> None:
    """No box drawing, no cut names: a header, one line per row, times with their zone."""
    path = _filled(write_config)
    result = watcher("items", "--config", str(path), "--since", "3650d")
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split("\t") == ["fetched", "source", "title", "published", "revision"]
    assert len(rows) == 11
    titles = {row.split("\t")[2] for row in rows}
    longest = max(titles, key=len)
    assert len(longest) > 80  # wider than a terminal
    assert "…" not in longest
    assert all(row.split("\t")[0].endswith(" UTC") for row in rows)


def test_help_shows_boolean_options_as_flags() -> None:
    """`run --help` lists `--once` as a flag, with no value placeholder."""
    result = watcher("run", "--help")
    assert result.returncode == 0
    once = next(line for line in result.stdout.splitlines() if "--once" in line)
    assert "<bool>" not in once
    assert "bool" not in result.stdout.lower().replace("boolean", "")


def test_classify_outside_the_project_finds_the_project_config(tmp_path: Path) -> None:
    """Run from another folder, `classify` uses the project's config and says which."""
    document = tmp_path / "report.txt"
    document.write_text("China bans gallium exports\n\nChina banned exports of gallium.\n")
    result = watcher("classify", str(document), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"using {ROOT / 'config' / 'watcher.yaml'}" in result.stderr
    assert "export_control" in result.stdout


def test_a_store_command_outside_the_project_says_how_to_name_the_config(
    tmp_path: Path,
) -> None:
    """Without a config here, a command that would create a database says how to point at one."""
    result = watcher("sources", cwd=tmp_path)
    assert result.returncode == 2
    assert "--config" in result.stderr
    assert "WATCHER_CONFIG" in result.stderr
    assert not (tmp_path / "data").exists()


def test_json_logs_keep_chinese_readable(monkeypatch: pytest.MonkeyPatch) -> None:
    """A JSON log line carries Chinese as characters, not `\\u` escapes."""
    import structlog

    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    configure_logging("info", "json")
    structlog.get_logger("test").info("poll_finished", source="稀土快讯")
    line = out.getvalue().strip()
    assert "稀土快讯" in line
    assert "\\u" not in line
    assert json.loads(line)["source"] == "稀土快讯"
