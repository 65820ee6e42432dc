"""Prometheus metrics of one running watcher, on a registry of its own.

The daemon owns one `Metrics`; the pipeline and dispatcher report through it. Gauges
that describe the database (outbox depth, failing sources) are refreshed on scrape.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

POLL_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class Metrics:
    """Counters, histograms and gauges named `watcher_*`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.polls = Counter(
            "watcher_polls",
            "Source polls by outcome (ok, not_modified, failed).",
            ["source", "outcome"],
            registry=r,
        )
        self.poll_seconds = Histogram(
            "watcher_poll_duration_seconds",
            "Wall time of one source poll.",
            ["source"],
            buckets=POLL_BUCKETS,
            registry=r,
        )
        self.items_new = Counter(
            "watcher_items_new", "Items seen for the first time.", ["source"], registry=r
        )
        self.signals = Counter(
            "watcher_signals",
            "Signals stored, by type and direction.",
            ["type", "direction"],
            registry=r,
        )
        self.emails = Counter(
            "watcher_emails",
            "Alert emails by outcome (sent, failed, dead).",
            ["outcome"],
            registry=r,
        )
        self.outbox_depth = Gauge(
            "watcher_outbox_pending", "Deliveries waiting to be sent.", registry=r
        )
        self.outbox_oldest = Gauge(
            "watcher_outbox_oldest_due_seconds",
            "Age of the oldest delivery that is due and unsent (0 when none).",
            registry=r,
        )
        self.sources_failing = Gauge(
            "watcher_sources_failing", "Sources whose last poll failed.", registry=r
        )
        self.links_refused = Counter(
            "watcher_links_refused",
            "Article links (or their redirects) refused: they lead to internal addresses.",
            ["source"],
            registry=r,
        )
        self.reloads = Counter(
            "watcher_config_reloads",
            "Config reloads by outcome (applied, rejected).",
            ["outcome"],
            registry=r,
        )

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
