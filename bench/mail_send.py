"""Rendering and sending alert emails alone, for instruction counts: `python -m bench.mail_send`.

    python -m bench.mail_send --save ALERTS.pickle [--n 400]    # once, in any tree
    python -m bench.mail_send --load ALERTS.pickle [--send 400]  # in each tree, e.g. under
        valgrind --tool=callgrind (instructions do not depend on the machine's load)

`--save` classifies the bench's own items (`bench.mail_render.alerts`) and pickles the
alerts with the rendering settings, so that the measured run imports no rule engine
and classifies nothing. `--load` renders the first `--send` alerts as the dispatcher
does (`render_each`, one call per 16) and sends them through the production transport
(`SmtpTransport`: aiosmtplib, one connection, `mail_transaction`) to an aiosmtpd sink
in its own process (not measured); a send the sink refuses raises. Run it with
`--send 0` too: the difference is the instructions of rendering and sending alone.
Prints the process CPU seconds of the render-and-send stretch.
"""

from __future__ import annotations

import argparse
import asyncio
import pickle
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.configs import bench_config
from bench.sink import free_port

CHUNK = 16
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def save(path: Path, n: int) -> None:
    """Classify the bench's items into `n` alerts; pickle them with the mail settings."""
    from bench.mail_render import alerts
    from watcher.notify.channels.mail.alert import AlertStyle

    with tempfile.TemporaryDirectory() as tmp:
        config = bench_config(Path(tmp), [], subscribed=True)
        blob = (alerts(config, n), AlertStyle.of(config), config.subscribers[0])
    path.write_bytes(pickle.dumps(blob))


async def render_and_send(blob: bytes, count: int, port: int) -> float:
    """Render the first `count` pickled alerts and send them; the stretch's process CPU
    seconds."""
    from watcher.config import SmtpConfig
    from watcher.notify.channels.mail import render_each
    from watcher.notify.channels.mail.alert import render_alert_mail
    from watcher.notify.channels.mail.transport import SmtpTransport

    batch, style, subscriber = pickle.loads(blob)
    batch = batch[:count]
    smtp = SmtpConfig(host="127.0.0.1", port=port, tls="none", timeout=timedelta(seconds=30))
    start = time.process_time()
    async with SmtpTransport(smtp) as transport:
        for i in range(0, len(batch), CHUNK):
            now = NOW
            pairs = [(outbound, subscriber) for outbound in batch[i : i + CHUNK]]
            for mail in render_each(render_alert_mail, pairs, style, now):
                assert not isinstance(mail, Exception), mail
                await transport.send(mail)
    return time.process_time() - start


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--save", type=Path)
    p.add_argument("--load", type=Path)
    p.add_argument("--n", type=int, default=400)
    p.add_argument("--send", type=int, default=400)
    args = p.parse_args(argv)
    if args.save:
        save(args.save, args.n)
        return 0
    port = free_port()
    sink = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink",
         "-l", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        cpu = asyncio.run(render_and_send(args.load.read_bytes(), args.send, port))
    finally:
        sink.terminate()
        sink.wait()
    print(f"{args.send} alerts rendered and sent: {cpu:.3f} s CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
