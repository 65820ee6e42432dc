"""A poll's many items sketched in the sketcher's process give what the parse pool gives."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

from tests.procs import alive
from watcher.config import WatcherConfig
from watcher.domain.stories import encode_sketch, index_keys, sketch_text
from watcher.service.analysis import Sketchable, Sketcher, analyse, sketched
from watcher.service.pipeline import _sketched_away
from watcher.service.runtime import Runtime

MakeConfig = Callable[..., WatcherConfig]
ROOT = Path(__file__).resolve().parent.parent

DAY = date(2026, 12, 4)
ITEMS: list[Sketchable] = [
    (
        "China tightens export controls on dysprosium",
        "On 3 December Beijing imposed export licences on 1,200 t of dysprosium oxide.",
        DAY,
        [("export_control", "tightening")],
    ),
    ("商务部对镓实施出口管制", "12月3日,商务部宣布暂停出口1200吨镓。", DAY, []),
    ("Quarterly results", "Revenue rose on higher prices.", None, []),
]


def _here(items: list[Sketchable]) -> list[tuple[bytes, frozenset[int]]]:
    out = []
    for title, body, when, kinds in items:
        sketch = sketch_text(title, body, when, kinds)
        out.append((encode_sketch(sketch), index_keys(sketch)))
    return out


async def test_the_sketcher_process_sketches_as_this_process_does() -> None:
    sketcher = Sketcher(deadline=20.0, idle=60.0)
    try:
        assert not sketcher.up
        got = await sketcher.sketch(ITEMS)
        assert sketcher.up
        again = await sketcher.sketch(ITEMS[:1])  # the same process, still up
    finally:
        sketcher.close()
    assert got == _here(ITEMS) == sketched(ITEMS)
    assert again == _here(ITEMS[:1])
    assert not sketcher.up


async def test_a_poll_with_many_items_is_sketched_away_and_a_small_one_is_not() -> None:
    sketcher = Sketcher(deadline=20.0, idle=60.0)
    try:
        assert not sketcher.wanted(Sketcher.AWAY - 1)
        assert sketcher.wanted(Sketcher.AWAY)
        await sketcher.sketch(ITEMS[:1])
        assert not sketcher.wanted(1)  # small polls stay in the parse pool: it can retire
    finally:
        sketcher.close()
    assert not sketcher.wanted(Sketcher.AWAY)  # closed: nothing more
    assert not Sketcher(20.0, 60.0, enabled=False).wanted(Sketcher.AWAY)  # parse_workers: 0


async def test_a_dead_sketcher_answers_none_and_the_next_poll_starts_another() -> None:
    sketcher = Sketcher(deadline=20.0, idle=60.0)
    try:
        await sketcher.sketch(ITEMS[:1])
        first = next(iter(sketcher._executor._processes.values()))
        first.kill()
        first.join()
        assert await sketcher.sketch(ITEMS) is None
        assert sketcher.failures == 1
        assert not sketcher.up
        assert await sketcher.sketch(ITEMS) == _here(ITEMS)
        second = next(iter(sketcher._executor._processes.values()))
        assert second.pid != first.pid
    finally:
        sketcher.close()


async def test_a_sketcher_with_no_idle_time_is_never_set_to_retire() -> None:
    sketcher = Sketcher(deadline=20.0, idle=0.0)
    try:
        await sketcher.sketch(ITEMS[:1])
        assert sketcher._retire is None
        assert sketcher.up
    finally:
        sketcher.close()


async def test_an_idle_sketcher_is_set_to_retire_and_closing_stops_its_process() -> None:
    sketcher = Sketcher(deadline=20.0, idle=60.0)
    await sketcher.sketch(ITEMS[:1])
    process = next(iter(sketcher._executor._processes.values()))
    assert sketcher._retire is not None  # in `idle` seconds
    sketcher.close()
    process.join(10)
    assert not process.is_alive()
    assert sketcher._retire is None


async def test_sketched_away_gives_what_analyse_gives_and_falls_back_to_the_pool(
    make_config: MakeConfig,
) -> None:
    config = make_config()
    texts = [(title, body, when or DAY) for title, body, when, _ in ITEMS] * 3
    async with Runtime(config) as rt:
        away = await _sketched_away(rt, texts)
        assert rt.sketcher.up
        process = next(iter(rt.sketcher._executor._processes.values()))
        process.kill()
        process.join()
        fallen_back = await _sketched_away(rt, texts)  # sketched in the parse pool
        assert rt.sketcher.failures == 1
        here = await rt.parsers.run("classifying", analyse, rt.rules, texts)
    assert any(a.signals for a in here)
    for got in (away, fallen_back):
        assert [a.signals for a in got] == [a.signals for a in here]
        assert [bytes(a.fingerprint or b"") for a in got] == [
            bytes(a.fingerprint or b"") for a in here
        ]
        assert [a.keys for a in got] == [a.keys for a in here]


async def test_sigkill_of_the_owner_takes_the_sketcher_with_it() -> None:
    """The sketcher's process dies with the service, however the service dies."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.sketcherowner",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        seen: dict[str, list[str]] = {}
        while "READY" not in seen:
            line = (await asyncio.wait_for(child.stdout.readline(), 60)).decode().split()
            assert line, "the owner ended before READY"
            seen[line[0]] = line[1:]
        sketcher = [int(p) for p in seen["SKETCHER"]]
        assert len(sketcher) == 1
        assert set(sketcher) <= {int(p) for p in seen["DESCENDANTS"]}
        child.send_signal(signal.SIGKILL)
        assert await asyncio.wait_for(child.wait(), 10) == -signal.SIGKILL
        for _ in range(3000):  # up to 30 s, looking every 10 ms
            if not alive(sketcher[0]):
                break
            await asyncio.sleep(0.01)
        assert not alive(sketcher[0])
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
