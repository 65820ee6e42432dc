"""`watcher send-test --channel` over real transports; `check-config` on channel URLs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
from typer.testing import CliRunner

from tests.conftest import ROOT
from tests.receiver import Receiver
from watcher.cli import app

WriteConfig = Callable[..., Path]
SCHEMA = json.loads((ROOT / "docs" / "webhook.schema.json").read_text(encoding="utf-8"))


def test_send_test_posts_a_signed_sample_to_a_webhook(
    receiver: Receiver, write_config: WriteConfig
) -> None:
    """`send-test URL --channel webhook`: one schema-valid, signed POST; the reply is printed."""
    path = write_config()
    result = CliRunner().invoke(
        app,
        ["send-test", receiver.url("/hook"), "--channel", "webhook", "--config", str(path)],
        env={"WATCHER_WEBHOOK__SECRET": "k"},
    )
    assert result.exit_code == 0, result.output
    [request] = receiver.requests
    payload = json.loads(request.body)
    jsonschema.validate(payload, SCHEMA)
    assert f"sent {payload['id']} on webhook" in result.output
    assert "reply: HTTP 200" in result.output
    assert request.headers["X-Supply-Watcher-Signature"].startswith("t=")


def test_send_test_notifies_an_apprise_url_and_masks_its_secret(
    receiver: Receiver, write_config: WriteConfig
) -> None:
    """`send-test URL --channel apprise`: the receiver gets the note; output hides the password."""
    path = write_config()
    url = f"json://bot:hunter2-secret@127.0.0.1:{receiver.port}/n"
    result = CliRunner().invoke(
        app, ["send-test", url, "--channel", "apprise", "--config", str(path)]
    )
    assert result.exit_code == 0, result.output
    [request] = receiver.requests
    assert json.loads(request.body)["title"].startswith("[Supply Watch] ")
    assert "json://bot:***@127.0.0.1" in result.output
    assert "hunter2-secret" not in result.output


def test_send_test_reports_a_refusal_without_the_secret(
    receiver: Receiver, write_config: WriteConfig
) -> None:
    """A webhook answering 403: exit 1 with the status; the URL's key is masked."""
    path = write_config()
    receiver.statuses.append(403)
    url = receiver.url("/hook?key=super-secret-value")
    result = CliRunner().invoke(
        app,
        ["send-test", url, "--channel", "webhook", "--config", str(path)],
        env={"WATCHER_WEBHOOK__SECRET": "k"},
    )
    assert result.exit_code == 1
    assert "HTTP 403" in result.stderr
    assert "key=***" in result.stderr
    assert "super-secret-value" not in result.output + result.stderr


def test_check_config_validates_channel_urls_without_sending(
    receiver: Receiver, write_config: WriteConfig
) -> None:
    """Bad Apprise and webhook URLs, a missing variable and key: all listed, masked; none sent."""
    path = write_config(
        subscribers=[
            {
                "email": "analyst@example.com",
                "channels": {
                    "apprise": [
                        "nosuchservice://token-abcdefghijklmnop/x",
                        "tgram://${TELEGRAM_TOKEN}/12345",
                        f"json://u:pw-secret-1@127.0.0.1:{receiver.port}/ok",
                    ],
                    "webhook": ["ftp://files.example/drop", receiver.url("/ok")],
                },
            }
        ]
    )
    result = CliRunner().invoke(app, ["check-config", str(path)], env={"TELEGRAM_TOKEN": None})
    assert result.exit_code == 2
    err = result.stderr
    assert "subscribers.0.channels.apprise.0 (nosuchservice://***/x): not an Apprise URL" in err
    assert "apprise.1 (tgram://${TELEGRAM_TOKEN}/12345): environment variable TELEGRAM_TOKEN" in err
    assert "apprise.2" not in err
    assert "webhook.0 (ftp://files.example/drop): a webhook URL is http:// or https://" in err
    assert "webhook.secret: webhooks are signed" in err
    assert "token-abcdefghijklmnop" not in err
    assert receiver.requests == []

    fixed = CliRunner().invoke(
        app,
        ["check-config", str(path)],
        env={"TELEGRAM_TOKEN": "123:abc", "WATCHER_WEBHOOK__SECRET": "k"},
    )
    assert fixed.exit_code == 2
    assert "apprise.1" not in fixed.stderr
    assert "webhook.secret" not in fixed.stderr
    assert receiver.requests == []


def test_check_config_names_what_the_public_endpoint_lacks(write_config: WriteConfig) -> None:
    """Enabled without a key or a base URL, or on plain http: each said, with its key path."""
    path = write_config(public={"enabled": True, "port": 0})
    result = CliRunner().invoke(app, ["check-config", str(path)])
    assert result.exit_code == 2
    assert "public.secret: the public endpoint checks signed links" in result.stderr
    assert "public.base_url: set the https URL" in result.stderr

    plain = write_config(public={"base_url": "http://watch.example"})
    result = CliRunner().invoke(
        app, ["check-config", str(plain)], env={"WATCHER_PUBLIC__SECRET": "k"}
    )
    assert result.exit_code == 2
    assert "public.base_url: one-click unsubscribe (RFC 8058) needs an https URL" in result.stderr

    fine = write_config(public={"enabled": True, "port": 0, "base_url": "https://watch.example"})
    result = CliRunner().invoke(
        app, ["check-config", str(fine)], env={"WATCHER_PUBLIC__SECRET": "k"}
    )
    assert result.exit_code == 0, result.output
