"""Commands that look inside the store: sources' health, recent signals, recent items."""

from __future__ import annotations

from typing import Annotated

import typer

from watcher.cli.common import (
    DEFAULT_CONFIG,
    ConfigOption,
    JsonOption,
    SinceOption,
    emit,
    load_or_exit,
    short_time,
    since,
    with_database,
)
from watcher.domain.spelling import did_you_mean


def sources(config: ConfigOption = DEFAULT_CONFIG, as_json: JsonOption = False) -> None:
    """Each source's health: last success, failures, last error."""
    from watcher.store.listing import list_sources

    settings = load_or_exit(config)
    rows = with_database(settings, list_sources)
    configured = {s.name: s for s in settings.sources}
    out: list[dict[str, object]] = [
        {
            "name": row.name,
            "kind": row.kind,
            "configured": row.name in configured,
            "polls": row.polls,
            "failures": row.consecutive_failures,
            "last_success": short_time(row.last_success_at),
            "last_new_item": short_time(row.last_new_item_at),
            "last_error": row.last_error,
        }
        for row in rows
    ]
    seen = {row.name for row in rows}
    out += [
        {"name": name, "kind": source.kind, "configured": True, "polls": 0, "failures": 0}
        for name, source in configured.items()
        if name not in seen
    ]
    columns = ["name", "kind", "polls", "failures", "last_success", "last_new_item", "last_error"]
    emit(out, columns, "Sources", as_json)


def signals(
    config: ConfigOption = DEFAULT_CONFIG,
    since_: SinceOption = "7d",
    signal_type: Annotated[
        str | None, typer.Option("--type", help="Only this signal type.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Signals found recently, newest first, with their evidence."""
    from watcher.store.listing import list_signals

    start = since(since_)
    settings = load_or_exit(config)
    if signal_type is not None and signal_type not in settings.signals:
        known = sorted(settings.signals)
        hint = did_you_mean(signal_type, known)
        typer.echo(
            f"error: --type {signal_type!r} is not a signal type{hint}; known: {', '.join(known)}",
            err=True,
        )
        raise typer.Exit(2)
    lines = with_database(
        settings, lambda db: list_signals(db, since=start, signal_type=signal_type)
    )
    out: list[dict[str, object]] = [
        {
            "when": short_time(line.created_at),
            "type": line.type,
            "direction": line.direction,
            "severity": line.severity,
            "score": line.score,
            "speculative": line.speculative,
            "source": line.source,
            "title": line.title,
            "link": line.link,
            "evidence": line.evidence,
        }
        for line in lines
    ]
    emit(
        out,
        ["when", "type", "direction", "severity", "source", "title", "evidence"],
        f"Signals since {since_}",
        as_json,
    )


def items(
    config: ConfigOption = DEFAULT_CONFIG,
    since_: SinceOption = "7d",
    as_json: JsonOption = False,
) -> None:
    """Items fetched recently, newest first."""
    from watcher.store.listing import list_items

    start = since(since_)
    settings = load_or_exit(config)
    rows = with_database(settings, lambda db: list_items(db, since=start))
    out: list[dict[str, object]] = [
        {
            "fetched": short_time(row.fetched_at),
            "source": row.source,
            "title": row.title,
            "published": short_time(row.published),
            "revision": row.revision,
            "link": row.link,
        }
        for row in rows
    ]
    emit(
        out,
        ["fetched", "source", "title", "published", "revision"],
        f"Items since {since_}",
        as_json,
    )
