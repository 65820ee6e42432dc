"""Save a dump of outputs, or check the outputs against a saved dump.

Shared by the speed guards (`bench.classify_outputs`, `bench.story_facts_outputs`): one
JSON line per item, compared line by line.
"""

from __future__ import annotations

from pathlib import Path


def save_or_check(lines: list[str], save: Path | None, check: Path | None, what: str = "") -> int:
    """Write `lines` to `save`, or compare them with the dump at `check`.

    Returns 0 when saved or identical, 1 when any line or the count differs (the first
    five differences are printed). `what` is added to the summary line.
    """
    suffix = f", {what}" if what else ""
    if save is not None:
        save.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        print(f"saved {len(lines)} items{suffix} to {save}")
        return 0
    assert check is not None, "either save or check"
    saved = check.read_text(encoding="utf-8").splitlines()
    differ = [(old, new) for old, new in zip(saved, lines, strict=False) if old != new]
    if len(saved) != len(lines):
        print(f"item count differs: saved {len(saved)}, now {len(lines)}")
    for old, new in differ[:5]:
        print(f"- {old}\n+ {new}")
    if differ or len(saved) != len(lines):
        print(f"{len(differ)} of {len(lines)} items differ")
        return 1
    print(f"identical: {len(lines)} items{suffix}")
    return 0
