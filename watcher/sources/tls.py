"""aiohttp without its start-up TLS cost: the CA stores load at the first TLS connection.

aiohttp builds two TLS contexts when `aiohttp.connector` is imported, each reading the
system's CA bundle (about 40 ms of CPU and 3 MB for the pair), so that no event loop
blocks on the files later. A `run --once` whose sources are all http:// never makes a
TLS connection. Importing this module imports aiohttp (unless something already did)
with those two loads put off (`SSLContext.load_default_certs` and
`set_default_verify_paths`, on the importing thread only), and `load_ca_stores` carries
them out on the very contexts aiohttp holds: every connector the service makes is a
`CaOnDemandConnector`, which calls it before it hands out a TLS context, so a TLS
connection verifies exactly as before. If aiohttp was imported earlier, nothing is put
off and `load_ca_stores` does nothing.
"""

from __future__ import annotations

import ssl
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiohttp import ClientRequest

_DEFERRED = ("load_default_certs", "set_default_verify_paths")
_pending: list[Callable[[], Any]] = []
_lock = threading.Lock()


def _import_aiohttp_deferring_ca_stores() -> None:
    if "aiohttp.connector" in sys.modules:
        return
    importing = threading.get_ident()
    originals = {name: getattr(ssl.SSLContext, name) for name in _DEFERRED}

    def deferring(name: str) -> Callable[..., None]:
        original = originals[name]

        def call(context: ssl.SSLContext, *args: Any) -> None:
            if threading.get_ident() != importing:  # another thread's context: load now
                original(context, *args)
                return
            with _lock:
                _pending.append(lambda: original(context, *args))

        return call

    for name in _DEFERRED:
        setattr(ssl.SSLContext, name, deferring(name))
    try:
        import aiohttp.connector  # noqa: F401  (its TLS contexts, CA stores pending)
    finally:
        for name, original in originals.items():
            setattr(ssl.SSLContext, name, original)


def load_ca_stores() -> None:
    """Load the CA stores whose loading the import put off (blocking file reads, once)."""
    if not _pending:
        return
    with _lock:
        while _pending:
            _pending[0]()  # dropped only once loaded: another thread waits on the lock
            _pending.pop(0)


def ca_stores_pending() -> bool:
    """True while aiohttp's contexts still lack the CA stores the import put off."""
    return bool(_pending)


_import_aiohttp_deferring_ca_stores()

from aiohttp import TCPConnector  # noqa: E402  (after the import above)


class CaOnDemandConnector(TCPConnector):
    """aiohttp's TCP connector that loads the CA stores before its first TLS context."""

    def _get_ssl_context(self, req: ClientRequest) -> ssl.SSLContext | None:
        if req.is_ssl():
            load_ca_stores()
        return super()._get_ssl_context(req)
