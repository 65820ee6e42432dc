"""Bad configuration fails before start with file, line, key path and reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import RULES, WriteConfig
from watcher.cli import app
from watcher.config.load import load_config
from watcher.domain.errors import ConfigError


def _error(path: Path, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ=environ or {})
    return str(caught.value)


def test_missing_file_is_named(tmp_path: Path) -> None:
    """A config path that does not exist says so and names the path."""
    message = _error(tmp_path / "nope.yaml")
    assert "nope.yaml" in message
    assert "file not found" in message


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    """Broken YAML reports the file and the line of the problem."""
    path = tmp_path / "bad.yaml"
    path.write_text("sources:\n  - name: a\n    kind: [feed\n", encoding="utf-8")
    message = _error(path)
    assert "bad.yaml" in message
    assert "invalid YAML" in message
    assert "line 4" in message or "line 3" in message


def test_unknown_key_names_file_line_and_path(tmp_path: Path) -> None:
    """A misspelt key is an error pointing at its line and dotted path, never ignored."""
    path = tmp_path / "watcher.yaml"
    path.write_text("smtp:\n  host: mail.example.com\n  prot: 25\n", encoding="utf-8")
    message = _error(path)
    assert f"{path}:3: smtp.prot: unknown key" in message


def test_bad_interval_names_the_source(write_config: WriteConfig) -> None:
    """An interval that is not a duration names the source's key path and what is expected."""
    path = write_config(
        sources=[{"name": "a", "kind": "feed", "url": "https://x.test/", "every": "soon"}]
    )
    message = _error(path)
    assert "sources.0.every" in message
    assert "duration" in message


def test_too_short_interval_is_refused(write_config: WriteConfig) -> None:
    """Polling faster than every 10 s is refused with the reason."""
    path = write_config(
        sources=[{"name": "a", "kind": "feed", "url": "https://x.test/", "every": "1s"}]
    )
    assert "at least 10s" in _error(path)


def test_a_poll_lease_margin_under_a_second_is_refused(write_config: WriteConfig) -> None:
    """polling.lease_margin below 1 s is refused with its key path; 1 s is accepted."""
    message = _error(write_config(polling={"lease_margin": "0.5s"}))
    assert "polling.lease_margin" in message
    assert "at least 1s" in message
    config = load_config(write_config(polling={"lease_margin": "1s"}), environ={})
    assert config.polling.lease_margin.total_seconds() == 1


def test_unknown_source_kind_lists_the_kinds(write_config: WriteConfig) -> None:
    """A source of unknown kind says which kinds exist."""
    path = write_config(sources=[{"name": "a", "kind": "telnet", "url": "https://x.test/"}])
    message = _error(path)
    assert "sources.0" in message
    assert "feed" in message


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    """Several mistakes give several lines, not just the first."""
    path = tmp_path / "watcher.yaml"
    path.write_text(
        "data_dirr: x\nsmtp:\n  port: 99999\nsubscribers:\n  - name: nobody\n", encoding="utf-8"
    )
    message = _error(path)
    assert "data_dirr: unknown key" in message
    assert "smtp.port" in message
    assert "subscribers.0.email: required key is missing" in message


def test_secret_in_file_is_refused(tmp_path: Path) -> None:
    """An SMTP password written in the file is refused with where to put it instead."""
    path = tmp_path / "watcher.yaml"
    path.write_text("smtp:\n  host: relay\n  password: hunter2\n", encoding="utf-8")
    message = _error(path)
    assert "WATCHER_SMTP__PASSWORD" in message
    assert "hunter2" not in message


def test_environment_overrides_the_file(write_config: WriteConfig) -> None:
    """WATCHER_SMTP__HOST and friends override keys; values are typed as YAML."""
    config = load_config(
        write_config(),
        environ={
            "WATCHER_SMTP__HOST": "relay.example.com",
            "WATCHER_SMTP__PORT": "2525",
            "WATCHER_SMTP__PASSWORD": "s3cret",
            "WATCHER_DATABASE_URL": "sqlite+aiosqlite:///elsewhere.db",
        },
    )
    assert config.smtp.host == "relay.example.com"
    assert config.smtp.port == 2525
    assert config.smtp.secret() == "s3cret"
    assert config.database_url == "sqlite+aiosqlite:///elsewhere.db"
    assert "s3cret" not in repr(config)


def test_bad_environment_value_names_the_variable(write_config: WriteConfig) -> None:
    """A wrong value from the environment is reported against the variable, not the file."""
    message = _error(write_config(), {"WATCHER_SMTP__PORT": "many"})
    assert "environment variable WATCHER_SMTP__PORT" in message


def test_rule_with_unknown_concept_names_the_rule(tmp_path: Path) -> None:
    """A rule referring to an undefined concept names the signal and the concept."""
    path = tmp_path / "watcher.yaml"
    path.write_text(
        "concepts:\n  a: [alpha]\nsignals:\n  odd:\n    match: [[a, missing]]\n", encoding="utf-8"
    )
    message = _error(path)
    assert "signals.odd.match.0.1: unknown concept 'missing'" in message


def test_error_in_included_file_names_that_file(tmp_path: Path) -> None:
    """A mistake inside an included rules file is reported with the included file's name."""
    rules = tmp_path / "rules.yaml"
    rules.write_text("concepts:\n  a: ['re:(unclosed']\n", encoding="utf-8")
    main = tmp_path / "watcher.yaml"
    main.write_text("include: [rules.yaml]\n", encoding="utf-8")
    message = _error(main)
    assert f"{rules}:2: concepts.a.0" in message
    assert "invalid regular expression" in message


def test_default_config_is_valid() -> None:
    """The shipped config/watcher.yaml and its rules load without error."""
    config = load_config(RULES.parent / "watcher.yaml", environ={})
    assert {"export_control", "quota_delay", "scrap_shortage", "ore_supply_disruption"} <= set(
        config.signals
    )
    assert config.sources
    assert config.subscribers


def test_check_config_command_exits_non_zero_with_the_message(tmp_path: Path) -> None:
    """`watcher check-config` prints the problems to stderr and exits 2."""
    path = tmp_path / "watcher.yaml"
    path.write_text("sources: 3\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["check-config", str(path)])
    assert result.exit_code == 2
    assert "sources" in result.stderr
    assert "invalid configuration" in result.stderr


def test_shipped_json_schema_is_current() -> None:
    """config/watcher.schema.json is what `watcher config-schema` prints today."""
    result = CliRunner().invoke(app, ["config-schema"])
    assert result.exit_code == 0
    shipped = (RULES.parent / "watcher.schema.json").read_text(encoding="utf-8")
    assert json.loads(shipped) == json.loads(result.stdout), (
        "run: watcher config-schema > config/watcher.schema.json"
    )
    first = (RULES.parent / "watcher.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=./watcher.schema.json"
