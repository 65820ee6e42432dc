"""The probe server answers real HTTP requests on 127.0.0.1."""

from __future__ import annotations

import httpx

from watcher.ops.web import ProbeServer, Response


async def _ok() -> Response:
    return 200, "text/plain", b"ok\n"


async def _boom() -> Response:
    raise RuntimeError("database gone")


async def test_routes_answer_and_unknown_paths_are_404() -> None:
    """Known paths run their handler; others get 404; a failing handler gives 500."""
    server = ProbeServer("127.0.0.1", 0, {"/healthz": _ok, "/readyz": _boom})
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            health = await client.get("/healthz?verbose=1")
            missing = await client.get("/nope")
            broken = await client.get("/readyz")
            posted = await client.post("/healthz")
    finally:
        await server.close()
    assert (health.status_code, health.text) == (200, "ok\n")
    assert missing.status_code == 404
    assert broken.status_code == 500
    assert "database gone" in broken.text
    assert posted.status_code == 405
