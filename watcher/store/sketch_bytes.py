"""An encoded story sketch that keeps the sketch it encodes, for the poll that stores it.

A poll's items are sketched in the parse pool (`watcher.service.analysis`) and stored
with their sketch encoded (`watcher.domain.stories.encode_sketch`); the poll's write
then needs the sketch itself (its facts bar candidates, `best_story` compares it).
Decoding what was just encoded cost about 20 µs an item. `SketchBytes` is the encoded
sketch as bytes (stored, compared and hashed as such) that also holds the `Sketch` it
encodes, when both were made in this process. Pickled (a worker process sending its
result back), it becomes plain bytes: the sketch stays behind, and the poll decodes.

No SQLAlchemy here: a worker process imports this module without the store's engine.
"""

from __future__ import annotations

from typing import Any

from watcher.domain.stories import Sketch, decode_sketch, encode_sketch


class SketchBytes(bytes):
    """`encode_sketch(sketch)`, holding `sketch` (read it through `sketch_of`)."""

    sketch: Sketch

    @classmethod
    def of(cls, sketch: Sketch) -> SketchBytes:
        """The encoded `sketch`, holding it."""
        encoded = cls(encode_sketch(sketch))
        encoded.sketch = sketch
        return encoded

    def __reduce__(self) -> tuple[Any, ...]:
        return bytes, (bytes(self),)


def sketch_of(fingerprint: bytes) -> Sketch | None:
    """The sketch `fingerprint` encodes: the one it holds (`SketchBytes`), else decoded
    (None for an unknown or damaged value, as `decode_sketch`)."""
    if isinstance(fingerprint, SketchBytes):
        return fingerprint.sketch
    return decode_sketch(fingerprint)
