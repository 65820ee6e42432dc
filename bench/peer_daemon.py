"""The watcher as a running service, driven round by round: `python -m bench.peer_daemon CONFIG`.

The peer scenario (`bench.peer`) compares a service that stays up between rounds with
rss2email, which cron starts for every round. This process opens the watcher's
`Runtime` on CONFIG once (database, HTTP client, worker pool on first use), prints one
JSON line `{"ready": true, "startup": {...}}`, then for every line `round` it reads on
stdin runs one whole round (`watcher.service.rounds.one_round`: every source polled,
what is due delivered; then the heap's freed pages handed back, as `watcher run` does
when its polls go quiet) and prints one JSON line of figures:

- `wall`, `cpu`: seconds of the round; CPU of this process and all its descendants;
- `peak_pss_mb`: the largest PSS sum of this process tree sampled during the round;
- `exit`: the round's code (0: every poll and delivery went well).

The line `quit` (or the end of stdin) closes the runtime and ends the process. The
driver owns the farm and the SMTP sink, so neither costs this process CPU.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

from bench.measure import MB, RssSampler, Stopwatch, settle_start_up


def _say(figures: dict[str, Any]) -> None:
    print(json.dumps(figures), flush=True)


async def serve(config_path: str) -> None:
    """Open the runtime, answer `round` lines until `quit` or end of input."""
    # imported here, not at the top: the parser workers re-run this main module
    # (`bench.worker` says why)
    from watcher.config.load import load_config
    from watcher.ops.memory import return_free_memory
    from watcher.service.rounds import one_round
    from watcher.service.runtime import Runtime

    settle_start_up()  # as the `watcher run` command does before its daemon starts
    with RssSampler(interval=0.1) as sampler, Stopwatch() as watch:
        config = load_config(config_path)
        runtime = Runtime(config)
        await runtime.__aenter__()
    try:
        _say({"ready": True, "startup": {"wall": watch.span.wall, "cpu": watch.span.cpu,
                                          "peak_pss_mb": sampler.peak_tree / MB}})  # fmt: skip
        while True:
            line = (await asyncio.to_thread(sys.stdin.readline)).strip()
            if line in ("", "quit"):
                break
            if line != "round":
                _say({"error": f"unknown command {line!r}"})
                continue
            with RssSampler(interval=0.1) as sampler, Stopwatch() as watch:
                code = await one_round(runtime)
                return_free_memory()  # as the daemon does once its polls go quiet
            _say({"wall": watch.span.wall, "cpu": watch.span.cpu,
                  "peak_pss_mb": sampler.peak_tree / MB, "exit": code})  # fmt: skip
    finally:
        await runtime.__aexit__(None, None, None)


def main() -> None:
    """Entry point: the config path is the only argument."""
    from watcher.ops.log import configure_logging

    configure_logging(os.environ.get("BENCH_LOG_LEVEL", "warning"), "json")
    asyncio.run(serve(sys.argv[1]))


if __name__ == "__main__":
    main()
