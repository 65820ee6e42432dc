"""The daemon as users run it: a real process, stopped with SIGTERM, drains and exits 0."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Hashable
from pathlib import Path

from tests.conftest import ROOT, WriteConfig
from tests.servers import FeedServer, Route
from tests.waiting import wait_while_progressing

STALL = 120.0  # seconds without progress before a wait gives up (a hang, not a slow machine)
SAMPLE_FEED = (ROOT / "seeds" / "sample-feed.xml").read_bytes()


def _start(config: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("WATCHER_CONFIG", None)
    return subprocess.Popen(
        [sys.executable, "-m", "watcher", "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def _wait_for(
    done: Callable[[], bool], process: subprocess.Popen[str], progress: Callable[[], Hashable]
) -> None:
    """Wait until `done()` while the daemon runs and `progress()` keeps moving (see waiting)."""

    def alive() -> None:
        assert process.poll() is None, f"the daemon exited with {process.returncode}"

    wait_while_progressing(done, progress, stall=STALL, what="the daemon", check=alive)


def _read_lines(process: subprocess.Popen[str], lines: list[str]) -> None:
    """Append the daemon's output lines to `lines` as they come, until it closes."""
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)


def _events(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def _mail_the_seeds_then_stop(
    write_config: WriteConfig, tmp_path: Path, level: str
) -> tuple[int | None, str, Path]:
    """Start the daemon on a copy of the seeds (JSON logs at `level`), wait until it has
    mailed all 8, send SIGTERM: its exit code, its output and its mail drop."""
    seeds = tmp_path / "seeds"
    shutil.copytree(ROOT / "seeds", seeds)
    config = write_config(
        sources=[{"name": "seeds", "kind": "files", "path": str(seeds), "backfill": "3650d"}],
        log={"level": level, "format": "json"},
    )
    maildrop = tmp_path / "data" / "maildrop"
    process = _start(config)
    try:
        mailed = lambda: len(list(maildrop.glob("*.eml")))  # noqa: E731
        _wait_for(lambda: mailed() >= 8, process, mailed)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=STALL)
    finally:
        process.kill()
    return process.returncode, output, maildrop


def test_sigterm_drains_and_exits_zero(write_config: WriteConfig, tmp_path: Path) -> None:
    """The daemon mails the seeds, then on SIGTERM logs shutdown_complete and exits 0."""
    returncode, output, maildrop = _mail_the_seeds_then_stop(write_config, tmp_path, "info")
    assert returncode == 0, output
    names = [e["event"] for e in _events(output)]
    assert "service_started" in names
    assert names[-1] == "shutdown_complete"
    assert len(list(maildrop.glob("*.eml"))) == 8
    started = next(e for e in _events(output) if e["event"] == "service_started")
    # where mail goes, how much is watched, when the first poll is due
    assert started["mail_to"] == f"mail drop {maildrop} (no smtp.host)"
    assert (started["sources"], started["subscribers"], started["next_poll"]) == (1, 1, "now")


def test_sigterm_waits_for_an_in_flight_poll(
    write_config: WriteConfig, feed_server: FeedServer, tmp_path: Path
) -> None:
    """A poll still waiting on a slow server finishes (within the grace) before the exit."""
    # the server answers only once the daemon drains: the poll is in flight at SIGTERM
    draining = threading.Event()
    feed_server.routes["/slow.xml"] = Route(SAMPLE_FEED, after=draining, after_timeout=STALL)
    config = write_config(
        sources=[{"name": "slow", "kind": "feed", "url": feed_server.url("/slow.xml")}],
        log={"level": "info", "format": "json"},
        service={"shutdown_grace": "20s"},
    )
    process = _start(config)
    lines: list[str] = []
    reader = threading.Thread(target=_read_lines, args=(process, lines), daemon=True)
    reader.start()
    try:
        _wait_for(lambda: bool(feed_server.requests), process, lambda: len(feed_server.requests))
        process.send_signal(signal.SIGTERM)
        _wait_for(lambda: any('"draining"' in line for line in lines), process, lambda: len(lines))
        draining.set()
        process.wait(timeout=STALL)
    finally:
        process.kill()
        reader.join(timeout=STALL)  # the output ends when the process has gone
        assert process.stdout is not None
        process.stdout.close()
        process.wait()
    output = "".join(lines)
    assert process.returncode == 0, output
    assert feed_server.routes["/slow.xml"].released is True  # answered while draining
    events = _events(output)
    names = [e["event"] for e in events]
    assert "draining" in names
    polls = [e for e in events if e["event"] == "poll_finished"]
    assert polls
    assert polls[0]["new"] == 5
    assert names.index("poll_finished") < names.index("shutdown_complete")
    assert "drain_incomplete" not in names


def test_run_once_exit_code_reports_a_failed_source(write_config: WriteConfig) -> None:
    """`watcher run --once` exits non-zero when a source failed, after doing the rest."""
    config = write_config(
        sources=[
            {"name": "missing", "kind": "files", "path": "/nonexistent/folder"},
            {"name": "seeds", "kind": "files", "path": str(ROOT / "seeds"), "backfill": "3650d"},
        ]
    )
    env = {k: v for k, v in os.environ.items() if k != "WATCHER_CONFIG"}
    result = subprocess.run(
        [sys.executable, "-m", "watcher", "run", "--once", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert result.returncode == 1
    assert "does not exist" in result.stdout


def test_the_daemon_hands_freed_memory_back_once_its_polls_go_quiet(
    write_config: WriteConfig, tmp_path: Path
) -> None:
    """After a poll that stored new items, and no other poll left running, the daemon
    trims the heap (`heap_trimmed`) once."""
    returncode, output, _ = _mail_the_seeds_then_stop(write_config, tmp_path, "debug")
    assert returncode == 0, output
    names = [e["event"] for e in _events(output)]
    assert names.count("heap_trimmed") == 1, names
    assert names.index("poll_finished") < names.index("heap_trimmed")
