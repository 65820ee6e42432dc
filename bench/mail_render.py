"""Rendering alert emails alone: CPU per alert and bytes per email, from the bench's text.

Alerts are built from the farm's own items (`bench.templated` notes and `bench.textgen`
trade-press items), classified by the default rules, and rendered with the production
renderer (`render_alert_mail`, as the dispatcher calls it in a worker) for one
subscriber with a signed one-click link. Prints JSON: milliseconds per alert (the best
of `--repeat` passes over `--n` alerts, `time.process_time`), mean email size in
bytes, and how many subjects read back other than they were rendered.

    .venv/bin/python -m bench.mail_render --n 400 --repeat 5
    .venv/bin/python -m bench.mail_render --profile 30     # cProfile, the top 30 entries
"""

from __future__ import annotations

import argparse
import cProfile
import email.policy
import json
import pstats
import tempfile
import time
from datetime import UTC, datetime
from email.parser import BytesParser
from pathlib import Path

from bench.configs import SUBSCRIBER, bench_config
from bench.templated import templated_item
from bench.textgen import make_item
from watcher.classify.engine import Classifier
from watcher.config import WatcherConfig
from watcher.domain.items import Item, Outbound
from watcher.notify.channels.mail.alert import AlertStyle, render_alert_mail, subject_for
from watcher.notify.channels.mail.outgoing import Outgoing

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
EPOCH = int(NOW.timestamp())


def alerts(config: WatcherConfig, n: int, seed: int = 7) -> list[Outbound]:
    """`n` alerts: every item of the bench's generators that fires a default rule."""
    classifier = Classifier.from_config(config, warn=False)
    found: list[Outbound] = []
    index = 0
    while len(found) < n:
        made = (
            templated_item(seed, index % 10, index, EPOCH)
            if index % 2
            else make_item(seed, index % 10, index, signal=True)
        )
        index += 1
        signals = classifier.classify(made.title, made.body)
        if not signals:
            continue
        item = Item(
            source=f"farm-{index % 10:04d}",
            title=made.title,
            body=made.body,
            link=f"https://farm.example/{index % 10}/{index}",
            published=NOW,
        )
        message_id = f"<{index:032x}.1@watch.example>"
        found.append(Outbound(message_id, SUBSCRIBER, (index,), 0, item, tuple(signals)))
    return found


def render_all(batch: list[Outbound], style: AlertStyle, config: WatcherConfig) -> list[Outgoing]:
    """Every alert of `batch` rendered as the dispatcher renders it."""
    subscriber = config.subscribers[0]
    return [render_alert_mail(outbound, style, subscriber, NOW) for outbound in batch]


def subject_losses(batch: list[Outbound], sent: list[Outgoing], style: AlertStyle) -> int:
    """How many sent subjects a mail client decodes other than the subject rendered."""
    parser = BytesParser(policy=email.policy.default)
    lost = 0
    for outbound, outgoing in zip(batch, sent, strict=True):
        shown = str(parser.parsebytes(outgoing.data, headersonly=True)["Subject"])
        if shown != subject_for(outbound, style):
            lost += 1
    return lost


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400, help="alerts per pass")
    parser.add_argument("--repeat", type=int, default=5, help="passes; the best is reported")
    parser.add_argument("--profile", type=int, default=0, help="cProfile: print this many rows")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        key = Path(tmp) / "links.key"
        key.write_text("bench-key\n", encoding="utf-8")
        config = bench_config(
            Path(tmp),
            [],
            subscribed=True,
            override={
                "public": {"base_url": "https://watch.example", "secret_file": str(key)},
                "mail": {"domain": "watch.example"},
            },
        )
        style = AlertStyle.of(config)
        batch = alerts(config, args.n)
        sent = render_all(batch, style, config)  # warm: templates compiled, caches filled
        if args.profile:
            profile = cProfile.Profile()
            profile.runcall(render_all, batch, style, config)
            pstats.Stats(profile).sort_stats("cumulative").print_stats(args.profile)
            return
        best = float("inf")
        for _ in range(args.repeat):
            start = time.process_time()
            render_all(batch, style, config)
            best = min(best, time.process_time() - start)
        print(
            json.dumps(
                {
                    "alerts": len(batch),
                    "ms_per_alert": round(best * 1000 / len(batch), 4),
                    "mean_bytes": round(sum(len(o.data) for o in sent) / len(sent), 1),
                    "subjects_read_back_otherwise": subject_losses(batch, sent, style),
                }
            )
        )


if __name__ == "__main__":
    main()
