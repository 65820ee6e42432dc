"""What can be checked of the container from its files, and its start command run as a process.

tests/test_image.py builds the image and runs it; these need neither buildah nor root.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dockerfile
import httpx
import yaml

from tests.conftest import ROOT
from watcher.config.load import load_config
from watcher.service.probes import HEALTH_PATH

INSTRUCTIONS = dockerfile.parse_file(str(ROOT / "Dockerfile"))


def _final_stage() -> list[dockerfile.Command]:
    starts = [i for i, c in enumerate(INSTRUCTIONS) if c.cmd == "FROM"]
    return list(INSTRUCTIONS[starts[-1] :])


def _one(cmd: str) -> dockerfile.Command:
    found = [c for c in _final_stage() if c.cmd == cmd]
    assert len(found) == 1, f"expected one {cmd} in the final stage, found {len(found)}"
    return found[0]


def _env() -> dict[str, str]:
    env: dict[str, str] = {}
    for command in _final_stage():
        if command.cmd == "ENV":
            pairs = command.value
            env.update(dict(zip(pairs[::2], pairs[1::2], strict=True)))
    return env


def test_dockerfile_is_multi_stage_on_debian_slim_from_the_locks() -> None:
    """Two stages on debian:trixie-slim; pins from requirements.lock, or the EXTRAS lock."""
    bases = [c.value[0] for c in INSTRUCTIONS if c.cmd == "FROM"]
    assert bases == ["debian:trixie-slim", "debian:trixie-slim"]
    assert [c.value for c in INSTRUCTIONS if c.cmd == "ARG"] == [('EXTRAS=""',)]
    runs = " ".join(" ".join(c.value) for c in INSTRUCTIONS if c.cmd == "RUN")
    assert 'lock="/src/requirements${EXTRAS:+-$EXTRAS}.lock"' in runs
    assert 'pip install --no-compile -r "$lock"' in runs
    copied = [v for c in INSTRUCTIONS if c.cmd == "COPY" for v in c.value]
    for lock in ("requirements.lock", "requirements-fulltext.lock"):
        assert lock in copied
        assert (ROOT / lock).is_file()


def test_the_fulltext_lock_is_the_runtime_lock_and_the_extra() -> None:
    """requirements-fulltext.lock pins all of requirements.lock alike, plus trafilatura."""
    runtime = _pins(ROOT / "requirements.lock")
    fulltext = _pins(ROOT / "requirements-fulltext.lock")
    assert "trafilatura" not in runtime
    assert "trafilatura" in fulltext
    assert {name: fulltext.get(name) for name in runtime} == runtime, "run `make lock`"


def test_the_image_config_is_a_starting_point_and_compose_mounts_the_demo() -> None:
    """The image's config watches nothing and mails nobody; compose runs the demo config."""
    image_config = load_config(ROOT / "config" / "container.yaml", environ={})
    assert image_config.sources == []
    assert image_config.subscribers == []
    copy = next(c for c in _final_stage() if c.cmd == "COPY" and "container.yaml" in c.value[0])
    assert copy.value == ("config/container.yaml", "./config/watcher.yaml")
    assert _one("WORKDIR").value == ("/app",)
    assert _env()["WATCHER_CONFIG"] == "/app/config/watcher.yaml"
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    for name in ("watcher", "watcher-pg"):
        service = compose["services"][name]
        assert service["environment"]["WATCHER_CONFIG"] == "/app/config/watcher.yaml"
        assert {"./config:/app/config:ro", "./seeds:/app/seeds:ro"} <= set(service["volumes"])
    demo = load_config(ROOT / "config" / "watcher.yaml", environ={})
    assert demo.subscribers
    assert [s.name for s in demo.sources] == ["seeds"]


def test_entrypoint_command_exists_in_the_package() -> None:
    """The command the image runs is the package's console script, with a known subcommand."""
    command = list(_one("ENTRYPOINT").value[2:]) + list(_one("CMD").value)
    assert command == ["watcher", "run"]
    scripts = _pyproject()["project"]["scripts"]
    assert scripts["watcher"] == "watcher.__main__:main"
    assert shutil.which("watcher", path=str(Path(sys.executable).parent)) is not None


def test_healthcheck_url_matches_the_server_route() -> None:
    """The HEALTHCHECK probes the port the image configures and a route the daemon serves."""
    check = " ".join(_one("HEALTHCHECK").value)
    match = re.search(r"http://127\.0\.0\.1:(\d+)(/\w+)", check)
    assert match is not None
    assert match.group(1) == _env()["WATCHER_WEB__PORT"]
    assert _env()["WATCHER_WEB__HOST"] == "0.0.0.0"
    assert match.group(2) == HEALTH_PATH
    assert _one("EXPOSE").value == (match.group(1),)


def test_no_secrets_in_the_image_layers() -> None:
    """No password or secret is set in ENV or ARG; .dockerignore keeps local state out."""
    for command in INSTRUCTIONS:
        if command.cmd in ("ENV", "ARG"):
            assert not any(re.search(r"PASSWORD|SECRET|TOKEN", v) for v in command.value[::2])
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".git", ".venv", "data"} <= set(ignored)


def test_compose_file_names_its_services() -> None:
    """docker-compose.yml is valid YAML with the watcher, Mailpit and a postgres profile."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"watcher", "mailpit", "postgres", "watcher-pg"} <= set(services)
    assert services["postgres"]["profiles"] == ["postgres"]
    assert services["watcher-pg"]["environment"]["WATCHER_DATABASE_URL"].startswith(
        "postgresql+asyncpg://"
    )
    assert services["watcher"]["environment"]["WATCHER_SMTP__HOST"] == "mailpit"


def test_the_container_start_command_runs_and_stops(tmp_path: Path) -> None:
    """The image's command with the image's environment serves /healthz and exits 0 on SIGTERM."""
    env = {**os.environ, **_env()}
    env.pop("PATH", None)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    env["WATCHER_CONFIG"] = str(ROOT / "config" / "watcher.yaml")
    env["WATCHER_DATA_DIR"] = str(tmp_path / "data")
    env["WATCHER_WEB__HOST"] = "127.0.0.1"
    env["WATCHER_WEB__PORT"] = "0"  # the image's 8080 may be taken on this machine
    command = list(_one("ENTRYPOINT").value) + list(_one("CMD").value)
    if not Path(command[0]).exists():
        command = command[2:]  # tini is the image's PID 1; the watcher runs the same without it
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        port = _probe_port(process)
        maildrop = tmp_path / "data" / "maildrop"
        deadline = time.monotonic() + 120  # a bound for a hang: the loop ends on the event
        status = 0
        while time.monotonic() < deadline and (status != 200 or not list(maildrop.glob("*.eml"))):
            status = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code
            time.sleep(0.2)
        assert status == 200
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, output
    assert '"event": "shutdown_complete"' in output
    assert list(maildrop.glob("*.eml"))


def _probe_port(process: subprocess.Popen[str]) -> int:
    assert process.stdout is not None
    deadline = time.monotonic() + 120  # a bound for a hang: the loop ends on the event
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        if line.startswith("{"):
            event = json.loads(line)
            if event.get("event") == "probe_server_started":
                return int(event["port"])
    raise AssertionError("the daemon never reported its probe port")


def _pyproject() -> dict[str, dict[str, dict[str, str]]]:
    import tomllib

    with (ROOT / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)


def _pins(lock: Path) -> dict[str, str]:
    lines = lock.read_text(encoding="utf-8").splitlines()
    return dict(line.split(" ;")[0].split("==") for line in lines if line[:1].isalnum())
