"""What a config edit changes, as the daemon will apply and log it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from watcher.config import WatcherConfig
from watcher.service.reload import config_fingerprint, diff_configs

MakeConfig = Callable[..., WatcherConfig]
FEED = {"name": "a", "kind": "feed", "url": "https://a.test/rss"}


def test_identical_configs_differ_in_nothing(make_config: MakeConfig) -> None:
    """Re-reading an unchanged file yields an empty diff."""
    assert diff_configs(make_config(sources=[FEED]), make_config(sources=[FEED])).empty


def test_sources_added_removed_and_rescheduled_are_named(make_config: MakeConfig) -> None:
    """The diff lists sources by name: added, removed, changed (e.g. a new interval)."""
    old = make_config(sources=[FEED, {**FEED, "name": "b"}])
    new = make_config(sources=[{**FEED, "every": "1h"}, {**FEED, "name": "c"}])
    diff = diff_configs(old, new)
    assert diff.sources_added == ("c",)
    assert diff.sources_removed == ("b",)
    assert diff.sources_changed == ("a",)
    assert not diff.rules_changed


def test_rule_subscriber_and_restart_changes_are_flagged(make_config: MakeConfig) -> None:
    """Rules, subscribers, live settings and restart-only settings are told apart."""
    old = make_config()
    new = make_config(
        concepts={"extra": ["thing"]},
        subscribers=[{"email": "other@example.com"}],
        dispatcher={"every": "1m"},
        database={"url": "sqlite+aiosqlite:///other.db"},
    )
    diff = diff_configs(old, new)
    assert diff.rules_changed
    assert diff.subscribers_changed
    assert diff.settings_changed == ("dispatcher",)
    assert diff.restart_required == ("database",)
    assert diff.as_log()["restart_required"] == ["database"]


def test_fingerprint_follows_included_files(tmp_path: Path) -> None:
    """Editing an included rules file changes the fingerprint of the main config."""
    (tmp_path / "rules.yaml").write_text("concepts: {a: [x]}\n", encoding="utf-8")
    main = tmp_path / "watcher.yaml"
    main.write_text("include: [rules.yaml]\n", encoding="utf-8")
    before = config_fingerprint(main)
    assert before == config_fingerprint(main)
    (tmp_path / "rules.yaml").write_text("concepts: {a: [y]}\n", encoding="utf-8")
    assert config_fingerprint(main) != before
    assert config_fingerprint(tmp_path / "absent.yaml") == ""


def test_public_links_apply_live_but_its_listener_needs_a_restart(
    make_config: MakeConfig,
) -> None:
    """A new feed filter is live; turning the public endpoint on or moving it needs a restart."""
    old = make_config()
    feeds = make_config(public={"feeds": {"all": {}}}, webhook={"timeout": "5s"})
    diff = diff_configs(old, feeds)
    assert set(diff.settings_changed) == {"public", "webhook"}
    assert diff.restart_required == ()
    moved = diff_configs(old, make_config(public={"enabled": True, "port": 9000}))
    assert moved.restart_required == ("public",)
