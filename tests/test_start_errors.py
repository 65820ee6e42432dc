"""What stops the start, said in one line: a taken port, a corrupt database, no data folder."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cli import watcher
from tests.conftest import WriteConfig
from watcher.config.schema import WebConfig
from watcher.domain.errors import ServiceError
from watcher.ops.web import Response
from watcher.service.probes import start_probe_server


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port on 127.0.0.1 that this test process listens on."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])
    finally:
        holder.close()


async def _ok() -> Response:
    return 200, "text/plain", b"ok\n"


def _one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_a_port_set_on_purpose_that_is_taken_stops_the_start_in_one_line(
    write_config: WriteConfig, taken_port: int
) -> None:
    """The error names the port, who holds it (this test) and how to change or disable it."""
    path = write_config(web={"host": "127.0.0.1", "port": taken_port})
    result = watcher("run", "--config", str(path))
    assert result.returncode == 1
    line = _one_line_error(result.stderr)
    assert f"127.0.0.1:{taken_port} is in use by PID {os.getpid()}" in line
    assert "web.port" in line
    assert "WATCHER_WEB__PORT" in line
    assert "web.enabled: false" in line


async def test_the_default_port_taken_falls_back_to_a_free_one(taken_port: int) -> None:
    """With no port configured, a taken default is a warning and the probes answer elsewhere."""
    web = WebConfig.model_construct(_fields_set=set(), host="127.0.0.1", port=taken_port)
    server = await start_probe_server(web, {"/healthz": _ok})
    try:
        assert server.port not in (taken_port, 0)
        async with httpx.AsyncClient() as client:
            answer = await client.get(f"http://127.0.0.1:{server.port}/healthz", timeout=10)
        assert answer.status_code == 200
    finally:
        await server.close()


async def test_a_configured_port_taken_raises_service_error(taken_port: int) -> None:
    """The same port given in the config is not silently moved."""
    web = WebConfig(host="127.0.0.1", port=taken_port)
    with pytest.raises(ServiceError, match=f"127.0.0.1:{taken_port} is in use"):
        await start_probe_server(web, {"/healthz": _ok})


@pytest.mark.parametrize("command", [["run", "--once"], ["sources"]])
def test_a_corrupt_database_is_one_line_saying_what_to_do(
    write_config: WriteConfig, tmp_path: Path, command: list[str]
) -> None:
    """A file that is not SQLite: the path, the reason, and how to start afresh."""
    path = write_config()
    database = tmp_path / "data" / "watcher.db"
    database.parent.mkdir(parents=True)
    database.write_bytes(b"this is not an SQLite database, just some text" * 100)
    result = watcher(*command, "--config", str(path))
    assert result.returncode == 1
    line = _one_line_error(result.stderr)
    assert str(database) in line
    assert "not a readable SQLite database" in line
    assert "move the file aside" in line
    assert database.read_bytes().startswith(b"this is not")  # left as it was


def test_a_data_folder_that_cannot_be_created_is_one_line(
    write_config: WriteConfig, tmp_path: Path
) -> None:
    """A data_dir under a plain file: which folder, why, and which setting to change."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    path = write_config(data_dir=str(blocker / "data"))
    result = watcher("run", "--once", "--config", str(path))
    assert result.returncode == 1
    line = _one_line_error(result.stderr)
    assert str(blocker / "data") in line
    assert "WATCHER_DATA_DIR" in line


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_data_folder_is_one_line(write_config: WriteConfig, tmp_path: Path) -> None:
    """A data folder this user cannot write: one line naming the database and the setting."""
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o555)
    try:
        result = watcher("run", "--once", "--config", str(write_config()))
    finally:
        data.chmod(0o755)
    assert result.returncode == 1
    line = _one_line_error(result.stderr)
    assert "writable" in line
