"""A process that owns a started Sketcher, for the test that kills it.

`python -m tests.sketcherowner` starts a sketcher, sketches one item in it, prints
`SKETCHER <pid>` and `DESCENDANTS <pid> ...` (every process under it, from /proc), then
`READY`, and waits to be killed.
"""

from __future__ import annotations

import asyncio

from tests.procs import descendants
from watcher.service.analysis import Sketcher


async def main() -> None:
    sketcher = Sketcher(deadline=600, idle=600)
    await sketcher.sketch([("Gallium", "Exports of 1,200 t of gallium halted.", None, [])])
    print("SKETCHER", *sketcher._executor._processes, flush=True)
    print("DESCENDANTS", *descendants(), flush=True)
    print("READY", flush=True)
    await asyncio.sleep(600)


if __name__ == "__main__":
    asyncio.run(main())
