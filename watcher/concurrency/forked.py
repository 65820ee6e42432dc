"""Imported last by the forkserver (`watcher.concurrency.pool`): freeze what it imported.

Every worker is forked from the forkserver and shares its memory pages until it writes
to them. CPython's cyclic garbage collector writes to every object it examines (the
object's GC header), so a worker's first full collection would copy, page by page,
everything the forkserver imported: most of the feed parser, the classifier's
vocabulary, the config schema. `gc.freeze()` moves what exists now into a generation
the collector never examines, so those pages stay shared (only objects a worker
actually uses, through their reference counts, are copied). The frozen objects are
the preloaded modules' own: they live as long as the process anyway. The young
generation is collected every `YOUNG_THRESHOLD` allocations, as in the service
(`watcher.ops.memory`): a parse makes and drops objects by the thousand, nearly all
without cycles.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000  # the interpreter's default is 700

gc.freeze()
_, _middle, _old = gc.get_threshold()
gc.set_threshold(YOUNG_THRESHOLD, _middle, _old)
