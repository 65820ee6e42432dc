"""The watcher configuration a scenario runs with, written the way users write theirs.

`bench_config` writes a YAML file into the scenario's temp folder (the default rules
from `config/rules.yaml` included, state under `<workdir>/data`) and loads it with
`watcher.config.load.load_config`, so the service validates it exactly as in
production. Options that only some versions of the service have (`backfill`,
`http.per_host`, `http.max_connections`, `web`, ...) are set only when the schema in
`watcher/config.py` has them, so the harness runs on every branch of the service.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from watcher import config as schema
from watcher.config import WatcherConfig
from watcher.config.load import load_config

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "config" / "rules.yaml"
SUBSCRIBER = "analyst@example.com"
# first polls: every farm item is minutes old, so a month-wide window counts them all new
BACKFILL = "30d"


def has_field(model: type[BaseModel], name: str) -> bool:
    """True when the service's config schema has this field (it changes between branches)."""
    return name in model.model_fields


def bench_config(
    workdir: Path,
    urls: list[str],
    *,
    smtp_port: int | None = None,
    subscribed: bool = False,
    concurrency: int = 100,
    override: Mapping[str, Any] | None = None,
    source_override: Mapping[str, Any] | None = None,
    poll_tick: float | None = None,
    name: str = "watcher.yaml",
) -> WatcherConfig:
    """A validated config polling `urls`; mails go to the sink at `smtp_port` when given.

    `override` is deep-merged over the whole file, `source_override` over every source.
    `poll_tick` (seconds) sets `polling.tick`, how often a daemon that schedules from
    the database looks for due sources, where the service has it.
    """
    source_base: dict[str, Any] = {"kind": "feed", "jitter": "0s"}
    source_model = schema.FeedSource
    if has_field(source_model, "backfill"):
        source_base["backfill"] = BACKFILL
    source_base.update(source_override or {})
    data: dict[str, Any] = {
        "include": [str(RULES)],
        "data_dir": str(workdir / "data"),
        "log": {"level": "warning", "format": "json"},
        "sources": [
            {"name": f"farm-{index:04d}", "url": url, **source_base}
            for index, url in enumerate(urls)
        ],
        "subscribers": [{"email": SUBSCRIBER, "name": "Bench Analyst"}] if subscribed else [],
    }
    if smtp_port is not None:
        data["smtp"] = {"host": "127.0.0.1", "port": smtp_port, "tls": "none", "timeout": "10s"}
    if has_field(WatcherConfig, "web"):
        data["web"] = {"enabled": False}
    if has_field(schema.ServiceConfig, "reload_check"):
        data["service"] = {"reload_check": "0s"}
    # every farm feed is on 127.0.0.1: the per-host limit would otherwise be the bottleneck
    http: dict[str, Any] = {}
    for key in ("max_connections", "per_host"):
        if has_field(schema.HttpConfig, key):
            http[key] = concurrency
    if http:
        data["http"] = http
    polling = getattr(schema, "PollingConfig", None)
    if poll_tick is not None and polling is not None and has_field(polling, "tick"):
        data["polling"] = {"tick": f"{poll_tick * 1000:.0f}ms"}
    merged = merge(data, dict(override or {}))
    path = workdir / name
    workdir.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(merged, sort_keys=False), encoding="utf-8")
    return load_config(path, environ={})


def with_interval(config: WatcherConfig, every: timedelta) -> WatcherConfig:
    """The config with every source polled each `every`, below the 10 s floor users get.

    Only for the farm on 127.0.0.1: `model_copy` skips the validator that keeps users
    polite to real sites.
    """
    sources = [source.model_copy(update={"every": every}) for source in config.sources]
    return config.model_copy(update={"sources": sources})


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """`extra` deep-merged over `base` (mappings merge, everything else replaces)."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out
