"""Digest schedules and subscriber settings in the config: accepted forms, clear errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from watcher.config.load import load_config
from watcher.domain.cron import CronFields, parse_schedule
from watcher.domain.errors import ConfigError

WriteConfig = Callable[..., Path]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("daily 08:00", CronFields("0", "8", "*", "*", "*")),
        ("daily 7:05", CronFields("5", "7", "*", "*", "*")),
        ("weekly mon 08:00", CronFields("0", "8", "*", "*", "mon")),
        ("Weekly Friday 17:30", CronFields("30", "17", "*", "*", "fri")),
        ("0 8 * * 1-5", CronFields("0", "8", "*", "*", "mon,tue,wed,thu,fri")),
        ("0 8 * * 0", CronFields("0", "8", "*", "*", "sun")),
        ("0 8 * * 7", CronFields("0", "8", "*", "*", "sun")),
        ("0 8 * * 5-7", CronFields("0", "8", "*", "*", "fri,sat,sun")),
        ("0 8 * * sun-tue", CronFields("0", "8", "*", "*", "sun,mon,tue")),
        ("*/15 6-18 1,15 jan-mar *", CronFields("*/15", "6-18", "1,15", "jan-mar", "*")),
    ],
)
def test_schedules_become_cron_fields_with_named_weekdays(text: str, expected: CronFields) -> None:
    """Shorthands and crontab lines; weekday numbers use crontab's meaning (0 and 7 = Sunday)."""
    assert parse_schedule(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hourly", "expected 'daily 08:00'"),
        ("daily 24:00", "not a time of day"),
        ("weekly someday 08:00", "not a day of the week"),
        ("60 8 * * *", "minute: 60 is outside 0-59"),
        ("0 8 * * 8", "day of week: 8 is outside 0-7"),
        ("0 8 * foo *", "month: 'foo' is not a number"),
        ("0 8 * * */0", "step"),
    ],
)
def test_a_bad_schedule_says_what_is_accepted(text: str, message: str) -> None:
    """Every malformed schedule raises a ValueError naming the problem."""
    with pytest.raises(ValueError, match=message.replace("*", r"\*")):
        parse_schedule(text)


def test_subscriber_settings_are_checked_with_their_key_path(write_config: WriteConfig) -> None:
    """Bad schedule, unknown time zone and a repeated address are config errors with keys."""
    path = write_config(
        subscribers=[
            {"email": "a@example.com", "mode": "digest", "schedule": "daily 25:00"},
            {"email": "b@example.com", "timezone": "Mars/Olympus"},
            {"email": "c@example.com", "mode": "sometimes"},
        ]
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    text = str(caught.value)
    assert "subscribers.0.schedule" in text
    assert "subscribers.1.timezone" in text
    assert "subscribers.2.mode" in text

    path = write_config(subscribers=[{"email": "a@example.com"}, {"email": "A@example.com"}])
    with pytest.raises(ConfigError, match="listed twice"):
        load_config(path, environ={})


def test_the_shipped_config_and_its_digest_example_are_valid(tmp_path: Path) -> None:
    """config/watcher.yaml loads, and so does its commented weekly-digest subscriber."""
    shipped = Path(__file__).parent.parent / "config"
    assert load_config(shipped / "watcher.yaml", environ={}).subscribers
    lines = (shipped / "watcher.yaml").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if "- email: buyer@example.com" in line)
    example = [line.replace("  # ", "  ", 1) for line in lines[start:] if line.startswith("  # ")]
    (tmp_path / "rules.yaml").write_text((shipped / "rules.yaml").read_text(encoding="utf-8"))
    (tmp_path / "watcher.yaml").write_text("\n".join([*lines, *example]) + "\n", encoding="utf-8")
    config = load_config(tmp_path / "watcher.yaml", environ={})
    buyer = config.subscriber("buyer@example.com")
    assert buyer is not None
    assert (buyer.mode, buyer.schedule, buyer.timezone) == (
        "digest",
        "weekly mon 08:00",
        "Europe/Berlin",
    )
