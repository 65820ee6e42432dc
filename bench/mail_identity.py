"""Rendered alert emails, byte for byte: a fingerprint to compare before and after a change.

Renders a fixed set of alerts with the production renderer (`render_alert_mail`): the
seed reports (`seeds/`, read by the files source) and the bench's own alerts
(`bench.mail_render.alerts`), plus hostile titles and bodies (line breaks, encoded-word
look-alikes, long words, CJK, markup), under four mail settings (signed one-click link,
an unsigned unsubscribe URL, neither, a non-ASCII subscriber name in another zone) and
with story updates, other sources and revisions mixed in. The multipart boundary, the
one random part of an email, is fixed for the run. Prints (or saves) the SHA-256 of
every email and of all of them; `--against FILE` exits 1 naming every email whose bytes
differ from the saved run.

    .venv/bin/python -m bench.mail_identity --save /tmp/before.json
    .venv/bin/python -m bench.mail_identity --against /tmp/before.json
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from bench.configs import bench_config
from bench.mail_render import NOW, alerts
from watcher.classify.engine import Classifier
from watcher.config import FilesSource, WatcherConfig
from watcher.domain.items import Outbound
from watcher.notify.channels.mail import alert as alert_module
from watcher.notify.channels.mail.alert import AlertStyle, render_alert_mail
from watcher.sources.files import read_folder

ROOT = Path(__file__).resolve().parent.parent
BOUNDARY = "===============0123456789012345678=="

_HOSTILE_TITLES = [
    "China bans exports\r\nBcc: victim@example.com",
    "=?utf-8?q?Looks_encoded?= rare earth quota",
    "稀土出口管制 镝和铽 出口许可 " * 4,
    "Zoë Müller – naïve €5,000 · São Paulo dysprosium export ban",
    "x" * 120 + " gallium export controls",
    "<script>alert(1)</script> & \"quoted\" 'germanium' licences",
    "",
    "Update: tungsten\tquota\x00cut\x0b in Jiangxi",
]
_HOSTILE_BODIES = [
    'China bans exports of gallium <a href="javascript:alert(1)">here</a> and'
    " <img src=x onerror=alert(1)> germanium.\r\n--" + BOUNDARY + "\r\nContent-Type: text/html",
    "Export licences for dysprosium " + "=" * 90 + " suspended. Trailing spaces   \n.dot",
    "稀土出口管制。商务部宣布对镝、铽实施出口管制，自即日起生效。" * 6,
    "Gallium exports banned – export-control-related state-of-the-art measures "
    + "supercalifragilisticexpialidocious" * 4,
]


def settings(tmp: Path) -> list[tuple[AlertStyle, WatcherConfig]]:
    """The four mail settings, each as a worker's `AlertStyle` and its config."""
    key = tmp / "links.key"
    key.write_text("identity-key\n", encoding="utf-8")
    signed = {"base_url": "https://watch.example", "secret_file": str(key)}
    overrides: list[dict[str, object]] = [
        {"public": signed, "mail": {"domain": "watch.example"}},
        {"mail": {"unsubscribe_url": "https://watch.example/unsub"}},
        {},
        {
            "public": signed,
            "subscribers": [
                {
                    "email": "zoe@example.com",
                    "name": "Zoë Müller, Analyst",
                    "timezone": "Asia/Tokyo",
                }
            ],
        },
    ]
    made = []
    for index, override in enumerate(overrides):
        folder = tmp / str(index)
        folder.mkdir()
        config = bench_config(folder, [], subscribed=True, override=override)
        made.append((AlertStyle.of(config), config))
    return made


def seed_alerts(config: WatcherConfig) -> list[Outbound]:
    """An alert for every seed report and feed entry that fires a default rule."""
    source = FilesSource(kind="files", name="seeds", path=ROOT / "seeds")
    items = asyncio.run(read_folder(source)).items
    classifier = Classifier.from_config(config, warn=False)
    found = []
    for index, item in enumerate(items):
        signals = classifier.classify(item.title, item.body)
        if signals:
            message_id = f"<seed{index:04d}.1@watch.example>"
            found.append(Outbound(message_id, "s", (index,), 0, item, tuple(signals)))
    return found


def hostile_alerts(base: list[Outbound]) -> list[Outbound]:
    """The first alerts' signals with hostile titles, bodies and links."""
    found = []
    rng = random.Random(11)
    links = [
        None,
        "javascript:alert(1)",
        "file:///srv/reports/q2%20note.md",
        "https://a.example/x y",
    ]
    for index in range(48):
        model = base[index % len(base)]
        item = replace(
            model.item,
            title=_HOSTILE_TITLES[index % len(_HOSTILE_TITLES)],
            body=_HOSTILE_BODIES[rng.randrange(len(_HOSTILE_BODIES))],
            link=links[index % len(links)],
        )
        found.append(replace(model, item=item, message_id=f"<hostile{index:04d}@watch.example>"))
    return found


def varied(batch: list[Outbound]) -> list[Outbound]:
    """Story updates, other sources, revisions and missing dates mixed in."""
    out = []
    for index, outbound in enumerate(batch):
        if index % 5 == 1:
            outbound = replace(outbound, story_news="figure 12%; day 03-04")
        if index % 3 == 2:
            outbound = replace(outbound, also_reported_by=("farm-0003", "Reuters – 路透"))
        if index % 7 == 3:
            outbound = replace(outbound, revision=2, earlier_types=("export_control",))
        if index % 11 == 4:
            outbound = replace(outbound, revision=3)
        if index % 13 == 5:
            outbound = replace(outbound, item=replace(outbound.item, published=None))
        out.append(outbound)
    return out


def fingerprints(n: int) -> list[str]:
    """The SHA-256 of every rendered email, in a fixed order."""
    alert_module._BOUNDARY = BOUNDARY  # the one random part of an email, fixed for the run
    with tempfile.TemporaryDirectory() as tmp:
        styles = settings(Path(tmp))
        base = seed_alerts(styles[0][1]) + alerts(styles[0][1], n)
        batch = varied(base + hostile_alerts(base))
        hashes = []
        for index, outbound in enumerate(batch):
            style, config = styles[index % len(styles)]
            subscriber = config.subscribers[0]
            sent = render_alert_mail(outbound, style, subscriber, NOW)
            hashes.append(hashlib.sha256(sent.data).hexdigest())
        return hashes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400, help="bench alerts besides the seeds")
    parser.add_argument("--save", type=Path, help="write the fingerprints here")
    parser.add_argument("--against", type=Path, help="compare with fingerprints saved here")
    args = parser.parse_args(argv)
    hashes = fingerprints(args.n)
    total = hashlib.sha256("".join(hashes).encode("ascii")).hexdigest()
    if args.save:
        args.save.write_text(json.dumps({"total": total, "emails": hashes}) + "\n", "utf-8")
    result: dict[str, object] = {"emails": len(hashes), "total": total}
    if args.against:
        saved = json.loads(args.against.read_text("utf-8"))["emails"]
        differ = [i for i, (a, b) in enumerate(zip(saved, hashes, strict=False)) if a != b]
        result["differ"] = differ if len(saved) == len(hashes) else "count differs"
    print(json.dumps(result))
    if args.against and result["differ"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
