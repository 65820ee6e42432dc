"""Probe routes of the daemon: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import json
from typing import Protocol

from watcher.ops.metrics import Metrics
from watcher.ops.web import Handler, Response

HEALTH_PATH, READY_PATH, METRICS_PATH = "/healthz", "/readyz", "/metrics"
JSON = "application/json"
PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8"


class Probed(Protocol):
    """What the probes ask of the running service (`watcher.service.daemon.Daemon`)."""

    metrics: Metrics

    def health(self) -> tuple[bool, dict[str, object]]:
        """Whether the service is alive, with the details that say why."""
        ...

    async def ready(self) -> tuple[bool, dict[str, object]]:
        """Whether the service can do its work now, with the details that say why."""
        ...

    async def refresh_gauges(self) -> None:
        """Read the gauges that describe the database, before a scrape."""
        ...


def probe_routes(daemon: Probed) -> dict[str, Handler]:
    """`/healthz`, `/readyz` and `/metrics` for `daemon`."""

    async def healthz() -> Response:
        ok, details = daemon.health()
        return (200 if ok else 503), JSON, json.dumps({"ok": ok, **details}).encode()

    async def readyz() -> Response:
        ok, details = await daemon.ready()
        return (200 if ok else 503), JSON, json.dumps({"ok": ok, **details}).encode()

    async def metrics() -> Response:
        await daemon.refresh_gauges()
        return 200, PROMETHEUS, daemon.metrics.render()

    return {HEALTH_PATH: healthz, READY_PATH: readyz, METRICS_PATH: metrics}
