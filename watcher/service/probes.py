"""Probe routes of the daemon: liveness, readiness and Prometheus metrics; their server.

The probe port is the daemon's only listening socket. When it is taken, a port set on
purpose (`web.port` in the file or `WATCHER_WEB__PORT`, as the image does for its
HEALTHCHECK) stops the start with one line naming the port, its holder when known, and
the ways out; the default port (8080, often taken on a laptop) falls back to a free
port with a warning that says the same, so `make run` never depends on it.
"""

from __future__ import annotations

import errno
import json
from collections.abc import Mapping
from typing import Protocol

import structlog

from watcher.config.schema import WebConfig
from watcher.domain.errors import ServiceError
from watcher.ops.metrics import Metrics
from watcher.ops.ports import port_holder
from watcher.ops.web import Handler, ProbeServer, Response

log = structlog.get_logger("watcher.probes")

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


async def start_probe_server(web: WebConfig, routes: Mapping[str, Handler]) -> ProbeServer:
    """The probe server listening on `web.host:web.port`, or on a free port (see above).

    Raises `ServiceError` when a port set on purpose is taken or cannot be bound.
    """
    server = ProbeServer(web.host, web.port, routes)
    try:
        await server.start()
        return server
    except OSError as exc:
        where = f"{web.host}:{web.port}"
        if exc.errno != errno.EADDRINUSE:
            raise ServiceError(
                f"probe server cannot listen on {where}: {exc.strerror or exc}; set web.host"
                " / web.port (WATCHER_WEB__HOST, WATCHER_WEB__PORT) or web.enabled: false"
            ) from None
        holder = port_holder(web.port)
        taken = f"probe port {where} is in use" + (f" by {holder}" if holder else "")
    ways = "set web.port (WATCHER_WEB__PORT) to a free port or 0 for any, or web.enabled: false"
    if "port" in web.model_fields_set:
        raise ServiceError(f"{taken}; {ways}")
    server = ProbeServer(web.host, 0, routes)
    await server.start()
    log.warning(
        "probe_port_taken",
        message=f"{taken}; the probes are on port {server.port} instead ({ways})",
        wanted=web.port,
        port=server.port,
        holder=holder,
    )
    return server
