"""The image built from the unmodified Dockerfile, inspected and run as it ships.

buildah builds it through `scripts/build-image.sh`, as `make image` does on a machine
without a Docker engine, and runs it: `buildah from` then `buildah run --isolation
chroot`, which gives the image's files, environment, working directory and user with the
host's network (`podman run` is refused by this sandbox). The base image and the build
layers stay in the machine's container storage, so only the first build takes minutes.
Skipped with the reason where buildah cannot run; under CI=true that fails instead, as
CI installs buildah (`.ci/run`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.conftest import ROOT
from tests.servers import FeedServer, Route, free_port

pytestmark = [pytest.mark.image, pytest.mark.timeout(900)]

TAG = "localhost/supply-watcher:test"
MAX_SIZE = 200_000_000  # bytes, as `podman image inspect --format {{.Size}}` counts them
PORT = 8080  # the image's probe port (WATCHER_WEB__PORT, HEALTHCHECK)


@dataclass(frozen=True)
class Image:
    """A built image: its name, its Docker config (buildah inspect) and its size."""

    tag: str
    config: dict[str, Any]
    size: int

    def env(self) -> dict[str, str]:
        """The image's ENV."""
        return dict(item.split("=", 1) for item in self.config["Env"])

    def healthcheck(self) -> list[str]:
        """The HEALTHCHECK command, as a container runs it."""
        test = list(self.config["Healthcheck"]["Test"])
        return ["/bin/sh", "-c", test[1]] if test[0] == "CMD-SHELL" else test[1:]


def _cannot_build() -> str | None:
    """None when buildah can build and run images here, else the reason it cannot."""
    if shutil.which("buildah") is None or shutil.which("podman") is None:
        return "buildah and podman are not installed (apt-get install buildah podman debootstrap)"
    if os.geteuid() != 0:
        return "the image test needs root (debootstrap, buildah's chroot isolation)"
    info = subprocess.run(["buildah", "info"], capture_output=True, text=True, timeout=60)
    if info.returncode != 0:
        return f"buildah cannot run here: {info.stderr.strip()[-500:]}"
    return None


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Image:
    """The default image (no extras), built once for this module."""
    reason = _cannot_build()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    log = tmp_path_factory.mktemp("image") / "build.log"
    env = {**os.environ, "ENGINE": "buildah", "TAG": TAG, "EXTRAS": "", "CONTEXT": str(ROOT)}
    with log.open("wb") as out:
        built = subprocess.run(
            [str(ROOT / "scripts" / "build-image.sh")],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=840,
        )
    assert built.returncode == 0, log.read_text(errors="replace")[-4000:]
    inspected = _output("buildah", "inspect", "--type", "image", TAG)
    size = _output("podman", "image", "inspect", "--format", "{{.Size}}", TAG)
    return Image(TAG, json.loads(inspected)["Docker"]["config"], int(size))


@pytest.fixture
def container(image: Image) -> Iterator[str]:
    """A working container of the image, removed afterwards whatever happened."""
    name = f"supply-watcher-test-{uuid.uuid4().hex[:12]}"
    _output("buildah", "from", "--pull=never", "--name", name, image.tag)
    try:
        yield name
    finally:
        subprocess.run(["buildah", "rm", name], capture_output=True, timeout=120)


def test_the_image_is_small_and_carries_nothing_only_building_needs(
    image: Image, container: str
) -> None:
    """At most 200 MB; no pip, compiler, apt lists or tests; the fulltext extra left out."""
    assert image.size <= MAX_SIZE, f"{image.size / 1e6:.1f} MB"
    probe = (
        "for tool in pip pip3 cc gcc strip ld; do command -v $tool; done;"
        " ls /var/lib/apt/lists; ls -d /app/tests /src 2>/dev/null;"
        " python -c 'import pip' 2>/dev/null && echo pip-module;"
        " python -c 'import trafilatura' 2>/dev/null && echo trafilatura; true"
    )
    assert _run(container, "sh", "-c", probe).stdout.split() == []


def test_the_image_runs_watcher_as_a_non_root_user_under_tini(image: Image, container: str) -> None:
    """USER is watcher (not uid 0), tini is the entrypoint, SIGTERM stops, /data is its own."""
    config = image.config
    assert config["User"] == "watcher"
    assert config["Entrypoint"] == ["/usr/bin/tini", "--", "watcher"]
    assert config["Cmd"] == ["run"]
    assert config["StopSignal"] == "SIGTERM"
    assert list(config["Volumes"]) == ["/data"]
    assert image.env()["WATCHER_DATA_DIR"] == "/data"
    assert config["Healthcheck"]["Test"][0] == "CMD"
    uid = _run(container, "id", "-u").stdout.strip()
    assert uid != "0"
    assert _run(container, "stat", "-c", "%u", "/data").stdout.strip() == uid
    # the image's own config: a starting point that watches nothing and mails nobody
    checked = _run(container, "watcher", "check-config", image.env()["WATCHER_CONFIG"])
    assert "0 sources, 0 subscribers" in checked.stdout


def test_the_image_polls_mails_answers_its_healthcheck_and_stops_cleanly(
    image: Image, container: str, tmp_path: Path
) -> None:
    """ENTRYPOINT + CMD as its user: /healthz 200, mail (full_text lacking its extra), exit 0."""
    server = FeedServer().start()
    server.routes["/feed.xml"] = Route(_feed(), headers={"Content-Type": "application/rss+xml"})
    config = tmp_path / "watcher.yaml"
    config.write_text(yaml.safe_dump(_config(server.url("/feed.xml"))), encoding="utf-8")
    # The container shares the host's network: the image's port unless it is taken.
    port = PORT if _free(PORT) else free_port()
    log = tmp_path / "watcher.log"
    process: subprocess.Popen[bytes] | None = None
    try:
        process = _start(image, container, config, port, log)
        running = process

        def output() -> str:
            return log.read_text(errors="replace")[-4000:]

        def healthy() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        def mails() -> list[str]:
            found = _run(container, "find", "/data/maildrop", "-name", "*.eml", check=False)
            return found.stdout.split()

        assert _wait(healthy, 90, running), output()
        assert _wait(lambda: bool(mails()), 90, running), output()
        mail = _run(container, "cat", mails()[0]).stdout
        assert "To: Image Test <analyst@example.com>" in mail
        assert "gallium" in mail
        assert '"event": "full_text_failed"' in output()
        assert "--build-arg EXTRAS=fulltext" in output()

        healthcheck = [part.replace(f":{PORT}/", f":{port}/") for part in image.healthcheck()]
        assert _run(container, *healthcheck, check=False).returncode == 0

        uid = _run(container, "id", "-u").stdout.strip()
        tini, service = _tini_and_service(running.pid, image.config["Entrypoint"][0])
        assert [_uid(tini), _uid(service)] == [uid, uid], output()
        os.kill(tini, signal.SIGTERM)
        assert running.wait(timeout=60) == 0, output()
        assert '"event": "shutdown_complete"' in output()

        owners = _run(container, "find", "/data", "-printf", "%U %p\\n").stdout.splitlines()
        assert any(line.endswith("/data/watcher.db") for line in owners), owners
        assert {line.split()[0] for line in owners} == {uid}, owners
    finally:
        if process is not None and process.poll() is None:
            for pid in reversed(_processes_under(process.pid)):
                _kill(pid)
            process.kill()
            process.wait(timeout=30)
        server.stop()


def _start(
    image: Image, container: str, config: Path, port: int, log: Path
) -> subprocess.Popen[bytes]:
    """The image's ENTRYPOINT + CMD in `container`, as the image's user, logging to `log`.

    /data is the image's VOLUME: buildah gives each container its own copy of it, made
    from the image's /data as an engine makes an anonymous volume (buildah 1.28 lays it
    over a `-v` mount at that path, so none is given).
    """
    command = [*image.config["Entrypoint"], *image.config["Cmd"]]
    with log.open("wb") as out:
        return subprocess.Popen(
            [
                *("buildah", "run", "--isolation", "chroot"),
                *("-v", f"{config}:/app/config/watcher.yaml:ro"),
                *("-e", f"WATCHER_WEB__PORT={port}"),
                *(container, "--", *command),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _tini_and_service(root: int, tini: str) -> tuple[int, int]:
    """The pids of tini and of the watcher under it, among the descendants of `root`.

    tini stands in for PID 1 here (chroot isolation has no PID namespace): the signal an
    engine sends on stop goes to it, and it forwards it to the watcher.
    """
    tinis = _processes_under(root, lambda argv: argv[0] == tini)
    assert len(tinis) == 1, tinis
    services = _processes_under(tinis[0], lambda argv: argv[1:2] == ["/opt/venv/bin/watcher"])
    assert len(services) == 1, services
    return tinis[0], services[0]


def _feed() -> bytes:
    """One item that the default rules flag as an export control."""
    now = format_datetime(datetime.now(UTC))
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>image test</title>'
        "<link>https://feeds.test/</link><description>d</description>"
        "<item><title>China tightens export controls on gallium</title>"
        "<guid>image-test-1</guid><link>https://feeds.test/image-test-1</link>"
        f"<pubDate>{now}</pubDate><description>Exporters of gallium must now apply for"
        " export licences before every shipment, the commerce ministry said.</description>"
        "</item></channel></rss>"
    ).encode()


def _config(url: str) -> dict[str, Any]:
    """A real-use config (the image's rules.yaml): one local feed, one subscriber."""
    return {
        "include": ["rules.yaml"],
        "dispatcher": {"every": "1s"},
        # full_text without the fulltext extra: the feed text is classified, with a warning
        "sources": [{"name": "local", "kind": "feed", "url": url, "full_text": True}],
        "subscribers": [{"email": "analyst@example.com", "name": "Image Test"}],
    }


def _output(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(command)}: {done.stderr[-2000:]}"
    return done.stdout


def _run(container: str, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """`command` in the container, as the image's user, while other commands may run in it."""
    done = subprocess.run(
        ["buildah", "run", "--isolation", "chroot", container, "--", *command],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check:
        assert done.returncode == 0, f"{' '.join(command)}: {done.stdout}{done.stderr}"
    return done


def _wait(predicate: Callable[[], bool], seconds: float, process: subprocess.Popen[bytes]) -> bool:
    """Poll `predicate` until it holds, the process ends or `seconds` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        if predicate():
            return True
        time.sleep(0.25)
    return False


def _free(port: int) -> bool:
    """Whether a server could listen on `port` now (as servers do, despite TIME_WAIT)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def _processes_under(root: int, match: Callable[[list[str]], bool] | None = None) -> list[int]:
    """Descendants of `root`, parents first; only those whose argv matches when given."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # ended meanwhile
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found: list[int] = []
    todo = [root]
    while todo:
        kids = children.get(todo.pop(0), [])
        found += kids
        todo += kids
    if match is None:
        return found
    return [pid for pid in found if match(_argv(pid))]


def _argv(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except OSError:
        return []


def _uid(pid: int) -> str:
    status = Path(f"/proc/{pid}/status").read_text()
    return next(line.split()[1] for line in status.splitlines() if line.startswith("Uid:"))


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # ended meanwhile
        os.kill(pid, signal.SIGKILL)
