"""SketchBytes: an encoded sketch that holds its sketch in-process and pickles as bytes."""

from __future__ import annotations

import pickle
from datetime import date

from watcher.domain.stories import decode_sketch, encode_sketch, sketch_text
from watcher.store.sketch_bytes import SketchBytes, sketch_of

SKETCH = sketch_text(
    "Ministry tightens export controls on gallium",
    "On 3 May the ministry in Beijing halted exports of 1,200 tonnes of gallium.",
    date(2026, 5, 4),
    [("export_control", "tightening")],
)


def test_it_is_the_encoding_and_holds_the_sketch() -> None:
    """Equal to (and hashed as) `encode_sketch`'s bytes; `sketch_of` gives the very sketch."""
    held = SketchBytes.of(SKETCH)
    assert held == encode_sketch(SKETCH)
    assert hash(held) == hash(encode_sketch(SKETCH))
    assert sketch_of(held) is SKETCH


def test_pickled_it_is_plain_bytes_and_decoded_again() -> None:
    """Sent from a worker process it loses the sketch: plain bytes, decoded to an equal one."""
    sent = pickle.loads(pickle.dumps(SketchBytes.of(SKETCH)))
    assert type(sent) is bytes
    assert sent == encode_sketch(SKETCH)
    found = sketch_of(sent)
    assert found is not None
    assert found is not SKETCH
    assert found == SKETCH == decode_sketch(sent)


def test_unreadable_plain_bytes_have_no_sketch() -> None:
    assert sketch_of(b"\x01old") is None
