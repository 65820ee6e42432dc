"""Progress bars for long operations, shown only when a person watches a terminal (outside
`watcher.cli`, whose package loads Typer: `watcher.ops.startup` draws one without it)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Advance = Callable[[int], None]


def _ignore(_steps: int) -> None:
    return None


@contextmanager
def progress_bar(label: str, total: int) -> Iterator[Advance]:
    """Yield `advance(steps)`: a rich bar on a terminal, nothing when output is piped.

    Log lines printed meanwhile appear above the bar (rich redirects stdout).
    """
    if total <= 1 or not sys.stdout.isatty():
        yield _ignore
        return
    # rich loads only to draw a bar on a terminal
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda steps: bar.advance(task, steps)
