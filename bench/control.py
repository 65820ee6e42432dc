"""Drive a feed farm running in its own process: start it, call its control endpoints, stop it.

The farm runs in a separate process so that serving a thousand feeds never takes CPU
from the event loop being measured.
"""

from __future__ import annotations

import json
import select
import subprocess
import sys
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from bench.farm import HOST
from bench.feeds import FarmSpec

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60.0


class FarmControl:
    """Blocking client of the farm's `/_farm/*` endpoints (call it outside timed stretches)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.base = f"http://{HOST}:{port}"

    def url(self, number: int) -> str:
        """The URL of feed `number`."""
        return f"{self.base}/feeds/{number}.xml"

    def _call(self, method: str, path: str) -> dict[str, Any]:
        request = urllib.request.Request(
            self.base + path, method=method, data=b"" if method == "POST" else None
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            answer: dict[str, Any] = json.loads(response.read())
        return answer

    def stats(self) -> dict[str, Any]:
        """The counters since the last reset, the document digest and N."""
        return self._call("GET", "/_farm/stats")

    def counters(self) -> dict[str, int]:
        """Just the counters."""
        counters: dict[str, int] = self.stats()["counters"]
        return counters

    def reset(self) -> None:
        """Zero the counters."""
        self._call("POST", "/_farm/reset")

    def publish(self, k: int, *, mix: bool = False) -> int:
        """K new items in every feed (signal items unless `mix`); returns how many."""
        query = f"?k={k}" + ("&signal=mix" if mix else "")
        return int(self._call("POST", "/_farm/publish" + query)["published"])

    def churn(self, k: int) -> None:
        """Every later feed GET first publishes K items into that feed (0: off)."""
        self._call("POST", f"/_farm/churn?k={k}")


class FarmProcess:
    """`with FarmProcess(spec) as farm:` runs `python -m bench.farm` for the block's duration."""

    def __init__(self, spec: FarmSpec, log: Path, dump: Path | None = None) -> None:
        self.spec = spec
        self.log = log
        self.dump = dump
        self.port = 0
        self.digest = ""
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        spec = self.spec
        options = {
            "--n": spec.n,
            "--m": spec.m,
            "--seed": spec.seed,
            "--epoch": spec.epoch,
            "--latency-ms": spec.latency * 1000,
            "--signal-fraction": spec.signal_fraction,
        }
        command = [sys.executable, "-m", "bench.farm"]
        command += [str(part) for pair in options.items() for part in pair]
        if spec.gzip:
            command.append("--gzip")
        if spec.template:
            command.append("--template")
        if self.dump is not None:
            command += ["--dump", str(self.dump)]
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log
            )
        assert self._process.stdout is not None
        readable, _, _ = select.select([self._process.stdout], [], [], START_TIMEOUT)
        line = self._process.stdout.readline() if readable else b""
        if not line:
            self.__exit__(None, None, None)
            raise RuntimeError(f"the feed farm did not start; see {self.log}")
        ready = json.loads(line)
        self.port, self.digest = int(ready["port"]), str(ready["digest"])
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()

    @property
    def control(self) -> FarmControl:
        """A control client for this farm."""
        return FarmControl(self.port)
