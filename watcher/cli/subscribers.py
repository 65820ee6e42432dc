"""Subscriber commands: who is subscribed, who opted out (since when, how), and undoing it.

watcher subscribers                        every configured subscriber and its state
watcher subscribers resubscribe ADDRESS    take back an opt-out (mail flows again)
watcher subscribers unsubscribe ADDRESS    opt out on somebody's behalf (cancels pending mail)
watcher subscribers feed ADDRESS           print the signed URL of their own Atom feed
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from watcher.cli.common import (
    DEFAULT_CONFIG,
    ConfigOption,
    JsonOption,
    emit,
    load_or_exit,
    short_time,
    with_database,
)

subscribers_app = typer.Typer(help="List subscribers and their opt-outs; resubscribe one.")
AddressArgument = Annotated[str, typer.Argument(help="The subscriber's email address.")]


@subscribers_app.callback(invoke_without_command=True)
def subscribers(
    ctx: typer.Context, config: ConfigOption = DEFAULT_CONFIG, as_json: JsonOption = False
) -> None:
    """Every configured subscriber: state (an opt-out outranks the config), since, how, channels.

    Channel endpoints are shown by channel name and count only: they may hold secrets.
    """
    if ctx.invoked_subcommand is not None:
        return
    from watcher.store.optouts import all_optouts

    settings = load_or_exit(config)
    recorded = with_database(settings, all_optouts)
    rows: list[dict[str, object]] = []
    for subscriber in settings.subscribers:
        optout = recorded.pop(subscriber.address, None)
        channels = ["email"] + [f"{n}×{len(e)}" for n, e in sorted(subscriber.channels.items())]
        rows.append(
            {
                "address": subscriber.address,
                "state": optout.state if optout else "subscribed",
                "since": short_time(optout.since) if optout else None,
                "how": f"{optout.how} ({optout.list})"
                if optout and optout.list
                else (optout.how if optout else "config"),
                "mode": subscriber.mode,
                "channels": ", ".join(channels),
            }
        )
    for optout in recorded.values():  # opted out, no longer in the config
        rows.append(
            {
                "address": optout.address,
                "state": f"{optout.state} (not in config)",
                "since": short_time(optout.since),
                "how": optout.how,
                "mode": None,
                "channels": None,
            }
        )
    columns = ["address", "state", "since", "how", "mode", "channels"]
    emit(rows, columns, "Subscribers", as_json)


@subscribers_app.command("resubscribe")
def resubscribe(address: AddressArgument, config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Take back ADDRESS's opt-out: the config's subscription applies again."""
    from watcher.store import optouts

    settings = load_or_exit(config)
    done = with_database(
        settings,
        lambda db: optouts.resubscribe(db, address, how="cli", now=datetime.now(UTC)),
    )
    if not done:
        typer.echo(f"error: {address} has not unsubscribed; nothing to take back", err=True)
        raise typer.Exit(1)
    note = "" if settings.subscriber(address) else " (not in the config: it still gets nothing)"
    typer.echo(f"{address.lower()} is subscribed again{note}")


@subscribers_app.command("unsubscribe")
def unsubscribe(address: AddressArgument, config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Opt ADDRESS out, as its one-click link would; its pending mail is cancelled."""
    from watcher.store import optouts

    settings = load_or_exit(config)
    done = with_database(
        settings,
        lambda db: optouts.unsubscribe(db, address, how="cli", list_name="", now=datetime.now(UTC)),
    )
    state = "unsubscribed" if done.changed else "was already unsubscribed"
    typer.echo(f"{address.lower()} {state}; {done.cancelled} pending cancelled")


@subscribers_app.command("feed")
def feed(address: AddressArgument, config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Print ADDRESS's own signed Atom feed URL (for Miniflux and other feed readers)."""
    from watcher.public.links import Links

    settings = load_or_exit(config)
    if settings.subscriber(address) is None:
        typer.echo(f"error: {address} is not a subscriber in the config", err=True)
        raise typer.Exit(2)
    links = Links.of(settings)
    if links is None:
        typer.echo(
            "error: feeds need public.base_url and a signing key"
            " (WATCHER_PUBLIC__SECRET or public.secret_file)",
            err=True,
        )
        raise typer.Exit(2)
    typer.echo(links.feed(address, datetime.now(UTC)))
