"""Probe routes of the daemon: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from watcher.web import Handler, Response

if TYPE_CHECKING:
    from watcher.daemon import Daemon

HEALTH_PATH, READY_PATH, METRICS_PATH = "/healthz", "/readyz", "/metrics"
JSON = "application/json"
PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8"


def probe_routes(daemon: Daemon) -> dict[str, Handler]:
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
