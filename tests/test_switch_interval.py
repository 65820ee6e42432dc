"""A running service hands the GIL round every `SWITCH_INTERVAL`, and gives the old value back."""

from __future__ import annotations

import sys
from collections.abc import Callable

from watcher.config import WatcherConfig
from watcher.service.runtime import SWITCH_INTERVAL, Runtime


async def test_the_runtime_shortens_the_switch_interval_while_open(
    make_config: Callable[..., WatcherConfig],
) -> None:
    """Inside `Runtime` the interval is `SWITCH_INTERVAL`; on exit it is what it was."""
    before = sys.getswitchinterval()
    assert before != SWITCH_INTERVAL  # the interpreter's default (5 ms) is longer
    async with Runtime(make_config()):
        assert sys.getswitchinterval() == SWITCH_INTERVAL
    assert sys.getswitchinterval() == before
