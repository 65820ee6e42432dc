"""Bounded content decoding: gzip and deflate bodies inflated chunk by chunk under a cap.

An HTTP client's own decoder inflates each network chunk in one call, so 64 KiB of a gzip
bomb can become gigabytes before a caller sees a byte; the fetcher turns it off and feeds
the raw body here instead. Every `zlib` call is given `max_length`, so memory never holds
more than the cap plus one chunk, whatever the compression ratio.
"""

from __future__ import annotations

import zlib

CHUNK = 64 * 1024
_GZIP = 16 + zlib.MAX_WBITS
_ZLIB = zlib.MAX_WBITS
_RAW = -zlib.MAX_WBITS


class BodyTooLarge(Exception):
    """The decoded body passed the cap; reading stopped there."""


class UnsupportedEncoding(Exception):
    """The server used a Content-Encoding we did not offer."""


class BoundedDecoder:
    """Feed raw bytes in, get decoded bytes out; raises `BodyTooLarge` past `limit`."""

    def __init__(self, content_encoding: str, limit: int) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise UnsupportedEncoding(content_encoding)
        self._coding = codings[0] if codings else ""
        self._limit = limit
        self._size = 0
        self._inflater: zlib._Decompress | None = None
        self._first = True
        if self._coding in ("gzip", "x-gzip"):
            self._inflater = zlib.decompressobj(_GZIP)

    @property
    def size(self) -> int:
        """Decoded bytes produced so far."""
        return self._size

    def feed(self, raw: bytes) -> bytes:
        """The decoded bytes `raw` yields; never more than the cap allows."""
        if not self._coding:
            return self._count(raw)
        if self._inflater is None:
            # "deflate" is meant to be zlib-wrapped (RFC 9110 §8.4.1.2); some servers send raw
            wrapped = len(raw) >= 2 and (raw[0] & 0x0F) == 8 and (raw[0] << 8 | raw[1]) % 31 == 0
            self._inflater = zlib.decompressobj(_ZLIB if wrapped else _RAW)
        out = bytearray()
        data = raw
        while True:
            room = self._room()
            try:
                piece = self._inflater.decompress(data, room)
            except zlib.error as exc:
                raise ValueError(f"corrupt {self._coding} body: {exc}") from None
            out += self._count(piece)
            data = self._inflater.unconsumed_tail
            if self._inflater.eof:
                rest = self._inflater.unused_data
                if not rest or self._coding == "deflate":
                    break
                # concatenated gzip members (RFC 1952 §2.2)
                self._inflater = zlib.decompressobj(_GZIP)
                data = rest
            elif not data and len(piece) < room:
                break  # input used up and nothing held back inside zlib
        return bytes(out)

    def _room(self) -> int:
        # one byte past the cap, so crossing it is noticed rather than silently truncated
        return max(1, min(CHUNK, self._limit - self._size + 1))

    def _count(self, piece: bytes) -> bytes:
        self._size += len(piece)
        if self._size > self._limit:
            raise BodyTooLarge(self._limit)
        return piece
