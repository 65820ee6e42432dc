"""Render the README's example alert and digest from the seeds, through the real pipeline.

    .venv/bin/python docs/make_examples.py      # writes docs/examples/*.{txt,html,eml}

Polls `seeds/` into a scratch database with two subscribers (one immediate, one daily
digest in Europe/Berlin), sends to the mail drop, and a day later produces the digest.
The HTML files are the emails' HTML parts, for screenshots (see README).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from watcher.config import WatcherConfig
from watcher.config.load import load_config
from watcher.service.rounds import dispatch_all, poll_with_deadline, produce_due_digests
from watcher.service.runtime import Runtime

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "examples"
ALERT_TITLE = "China tightens licence reviews for gallium and germanium shipments"
CONFIG = """
include: [{rules}]
data_dir: {data}
log: {{level: warning, format: json}}
mail:
  from: "Supply Watcher <alerts@watch.example.com>"
  domain: watch.example.com
  unsubscribe_url: https://watch.example.com/unsubscribe
sources:
  - {{name: seeds, kind: files, path: {seeds}, backfill: 3650d}}
subscribers:
  - {{email: analyst@example.com, name: Example Analyst, timezone: Europe/Berlin}}
  - email: buyer@example.com
    name: Example Buyer
    mode: digest
    schedule: daily 08:00
    timezone: Europe/Berlin
    include_speculative: true
"""


async def render(config: WatcherConfig) -> None:
    """Poll, send the alerts, then a day later produce and send the digest."""
    now = datetime.now(UTC)
    async with Runtime(config, clock=lambda: now) as rt:
        for source in config.sources:
            await poll_with_deadline(rt, source)
        await dispatch_all(rt)
    tomorrow = now + timedelta(days=1)
    async with Runtime(config, clock=lambda: tomorrow) as rt:
        await produce_due_digests(rt)
        await dispatch_all(rt)


def save(raw: bytes, name: str) -> None:
    """The .eml as written, its text part and its HTML part under docs/examples/."""
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.eml").write_bytes(raw)
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    for subtype, suffix in (("plain", "txt"), ("html", "html")):
        part = message.get_body((subtype,))
        assert part is not None
        (OUT / f"{name}.{suffix}").write_text(str(part.get_content()), encoding="utf-8")


def main() -> None:
    """Write docs/examples/alert.* and docs/examples/digest.*."""
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        shutil.copytree(ROOT / "seeds", work / "seeds")
        (work / "watcher.yaml").write_text(
            CONFIG.format(
                rules=ROOT / "config" / "rules.yaml", data=work / "data", seeds=work / "seeds"
            )
        )
        config = load_config(work / "watcher.yaml", environ={})
        asyncio.run(render(config))
        for path in sorted((work / "data" / "maildrop").glob("*.eml")):
            raw = path.read_bytes()
            subject = str(message_from_bytes(raw, policy=policy.default)["Subject"])
            if "Digest" in subject:
                save(raw, "digest")
            elif subject.startswith(ALERT_TITLE[:50]):  # a long headline is cut to fit
                save(raw, "alert")
    print(f"wrote {sorted(p.name for p in OUT.iterdir())}")


if __name__ == "__main__":
    main()
