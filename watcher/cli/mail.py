"""Mail commands: look at and requeue the outbox, send a test alert.

watcher outbox                 list pending, failed and dead deliveries and digests
watcher outbox retry ID…       requeue deliveries (12) or digests (D3) now
watcher outbox retry --dead    requeue every dead letter
watcher send-test ADDRESS      send a sample alert through the configured transport
watcher send-test URL --channel webhook|apprise   the same on another channel
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from watcher.cli.common import (
    DEFAULT_CONFIG,
    ConfigOption,
    load_or_exit,
    short_time,
    with_database,
)
from watcher.config import Subscriber, WatcherConfig
from watcher.domain.errors import DeliveryError
from watcher.domain.items import Item, Outbound

outbox_app = typer.Typer(
    help="List the outbox; requeue failed or dead emails.", rich_markup_mode=None
)


@outbox_app.callback(invoke_without_command=True)
def outbox(ctx: typer.Context, config: ConfigOption = DEFAULT_CONFIG) -> None:
    """List pending, failed and dead deliveries and digests (sent ones are not shown)."""
    if ctx.invoked_subcommand is not None:
        return
    from watcher.store.outbox_admin import list_outbox

    entries = with_database(load_or_exit(config), lambda db: list_outbox(db, now=datetime.now(UTC)))
    if not entries:
        typer.echo("The outbox is empty: everything due has been sent.")
        return
    typer.echo(f"{'ID':>6}  {'STATE':8} {'TRIES':>5}  {'NEXT ATTEMPT':20}  SUBSCRIBER / WHAT")
    for e in entries:
        when = short_time(e.next_attempt_at) or "-"
        typer.echo(f"{e.id:>6}  {e.state:8} {e.attempts:>5}  {when:20}  {e.subscriber}")
        typer.echo(f"{'':45}{e.what}")
        if e.error:
            typer.echo(f"{'':45}last error: {e.error[:200]}")


@outbox_app.command("retry")
def retry(
    ids: Annotated[
        list[str] | None, typer.Argument(help="Delivery ids (12) or digests (D3).")
    ] = None,
    dead: Annotated[bool, typer.Option("--dead", help="Requeue every dead letter.")] = False,
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Make failed or dead emails due now, with a fresh attempt budget."""
    if not ids and not dead:
        typer.echo("error: give delivery ids (see `watcher outbox`) or --dead", err=True)
        raise typer.Exit(2)
    from watcher.store.outbox_admin import parse_outbox_id, requeue

    malformed = [i for i in ids or [] if parse_outbox_id(i) is None]
    if malformed:
        typer.echo(
            f"error: not an outbox id: {', '.join(malformed)} (a delivery is 12, a digest D3;"
            " see `watcher outbox`)",
            err=True,
        )
        raise typer.Exit(2)
    done = with_database(
        load_or_exit(config),
        lambda db: requeue(db, ids=ids or [], dead=dead, now=datetime.now(UTC)),
    )
    typer.echo(
        f"requeued {done.rows} row{'s' if done.rows != 1 else ''}; the dispatcher sends them next"
    )
    if done.unknown:
        typer.echo(f"error: no outbox row with id {', '.join(done.unknown)}", err=True)
        raise typer.Exit(1)


LOCAL_RELAYS = frozenset({"127.0.0.1", "::1", "localhost"})
SAMPLE_TITLE = "Test alert: China bans dysprosium and terbium magnet exports to US buyers"
SAMPLE_BODY = (
    "China imposed an export ban on dysprosium and terbium magnets to US buyers on"
    " Monday, the commerce ministry said. Traders said offers for NdFeB magnets outside"
    " China rose on the news. This is a sample report sent by `watcher send-test`: the"
    " alert above was found in it by your rules, as a real report's would be."
)


def send_test(
    target: Annotated[
        str,
        typer.Argument(help="Where to send the sample alert: an address, or the channel's URL."),
    ],
    channel: Annotated[
        str, typer.Option("--channel", help="email (default), webhook, apprise, ...")
    ] = "email",
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Send a sample alert through a channel's real transport; print the receiver's reply.

    The sample is a short report classified by the configured rules, rendered as a real
    alert is; only its Message-ID changes from one run to the next.
    """
    settings = load_or_exit(config)
    if channel == "email":
        _send_test_email(settings, target)
        return
    from watcher.notify.channel import installed
    from watcher.notify.endpoints import mask

    kinds = installed()
    if channel not in kinds:
        typer.echo(
            f"error: --channel {channel}: no such channel (known: {', '.join(sorted(kinds))})",
            err=True,
        )
        raise typer.Exit(2)
    shown = mask(target, host_may_be_secret=True)
    subscriber = Subscriber(
        email=f"send-test@{settings.mail.domain}",
        name="Supply Watcher test",
        channels={channel: [target]},
    )
    probe = settings.model_copy(update={"subscribers": [subscriber]})
    problems = kinds[channel].check(probe)
    if problems:
        typer.echo("error: " + "\n".join(problems), err=True)
        raise typer.Exit(2)
    reached = kinds[channel](probe, None)
    [key] = reached.targets(subscriber)
    now = datetime.now(UTC)
    sample = dataclasses.replace(
        _sample(settings, subscriber.address, now), channel=channel, target=key
    )

    async def send() -> str:
        message = await reached.render(sample, subscriber, target, now)
        async with reached.transport() as transport:
            return await transport.send(message)

    reply = _reply(send)
    typer.echo(f"sent {sample.message_id.strip('<>')} on {channel} to {shown}")
    typer.echo(f"reply: {reply}")


def _send_test_email(settings: WatcherConfig, address: str) -> None:
    """The email channel's test: the sample alert through the relay or the mail drop."""
    from pydantic import ValidationError

    from watcher.domain.errors import UnsafeMessageError
    from watcher.notify.channels.mail.alert import assemble_alert, outgoing
    from watcher.notify.channels.mail.mime import check_assembled
    from watcher.notify.channels.mail.transport import transport_for

    try:
        subscriber = Subscriber(email=address, name="Supply Watcher test")
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
        typer.echo(f"error: {address!r} is not an email address: {reason}", err=True)
        raise typer.Exit(2) from None
    now = datetime.now(UTC)
    sample = _sample(settings, subscriber.address, now)
    try:
        assembled = assemble_alert(sample, settings, subscriber, now)
        # the very bytes sent, parsed back as a mail client reads them
        check_assembled(assembled, subscriber.address)
    except UnsafeMessageError as exc:
        typer.echo(f"error: the test alert was not sent: {exc}", err=True)
        raise typer.Exit(1) from None
    message = outgoing(assembled, sample.message_id, settings, subscriber)

    async def send() -> str:
        async with transport_for(settings) as transport:
            return await transport.send(message)

    reply = _reply(send, lambda exc: _hint(settings, exc))
    typer.echo(f"sent {message.message_id} to {subscriber.address}")
    typer.echo(f"server reply: {reply}")


def _sample(config: WatcherConfig, address: str, now: datetime) -> Outbound:
    """The sample alert for `address`; exit 1 when the configured rules find nothing in it."""
    outbound = sample_alert(config, address, now)
    if outbound is None:
        typer.echo(
            "error: the configured rules find no signal in the sample report, so there is"
            " no alert to send; `watcher classify -` shows what they find in a text",
            err=True,
        )
        raise typer.Exit(1)
    return outbound


def _reply(
    send: Callable[[], Coroutine[Any, Any, str]],
    hint: Callable[[DeliveryError], str] = lambda _: "",
) -> str:
    """The receiver's reply to `send()`; a refusal is one line (plus `hint`) and exit 1."""
    try:
        return asyncio.run(send())
    except DeliveryError as exc:
        typer.echo(f"error: the test alert was not accepted: {exc}{hint(exc)}", err=True)
        raise typer.Exit(1) from None


def _hint(config: WatcherConfig, exc: DeliveryError) -> str:
    """What to change when a relay on this machine refuses the TLS the config asks for."""
    smtp = config.smtp
    if smtp.tls == "starttls" and smtp.host in LOCAL_RELAYS and "STARTTLS" in str(exc).upper():
        return (
            f"; a relay on this machine ({smtp.host}) often speaks no TLS: set smtp.tls: none"
            " (WATCHER_SMTP__TLS=none)"
        )
    return ""


def sample_alert(config: WatcherConfig, address: str, now: datetime) -> Outbound | None:
    """The sample report as the rules see it: an alert of every signal they find in it.

    None when the configured rules find none.
    """
    from watcher.classify.engine import Classifier

    signals = Classifier.from_config(config, warn=False).classify(SAMPLE_TITLE, SAMPLE_BODY)
    if not signals:
        return None
    item = Item(
        source="send-test",
        title=SAMPLE_TITLE,
        body=SAMPLE_BODY,
        link="https://example.com/supply-watcher/send-test",
        published=now,
    )
    message_id = f"<test.{uuid.uuid4().hex}@{config.mail.domain}>"
    return Outbound(message_id, address, (), 0, item, tuple(signals), ())
