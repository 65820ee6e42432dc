"""The headers an alert shares with its render call are folded once and reused only
while they are the same: each email still carries its own To, Date and List lines."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.test_mime import generated_titles
from tests.test_render import NOW, MakeConfig, outbound
from watcher.notify.channels.mail.alert import AlertStyle, render_alert, render_alert_mail


def test_subscribers_times_and_links_interleaved_render_as_the_reference(
    make_config: MakeConfig, tmp_path: Path
) -> None:
    key = tmp_path / "links.key"
    key.write_text("head-key\n", encoding="utf-8")
    config = make_config(
        public={"base_url": "https://watch.example", "secret_file": str(key)},
        subscribers=[
            {"email": "zoe@example.com", "name": "Zoë Müller, Analyst"},
            {"email": "ops@example.com", "name": "Ops"},
            {"email": "Desk <desk@example.com>"},
        ],
    )
    plain = make_config(
        subscribers=[{"email": "a@example.com", "name": "A"}, {"email": "b@example.com"}]
    )
    style = AlertStyle.of(config)
    times = [NOW, NOW, NOW + timedelta(seconds=1), NOW + timedelta(hours=3), NOW]
    for index, title in enumerate(generated_titles(45, seed=9)):
        alert = outbound(title=title)
        now = times[index % len(times)]
        if index % 3 == 1:  # unsigned (no link): each subscriber at each time in a row
            runs = [(w, s) for w in times[1:4] for s in plain.subscribers]
            runs += [(w, s) for s in plain.subscribers for w in times[1:4]]
            for when, subscriber in runs:
                sent = render_alert_mail(alert, plain, subscriber, when)
                assert sent.data == render_alert(alert, plain, subscriber, when).as_bytes()
            continue
        subscriber = config.subscribers[index % len(config.subscribers)]
        settings = style if index % 2 else config
        sent = render_alert_mail(alert, settings, subscriber, now)
        assert sent.data == render_alert(alert, config, subscriber, now).as_bytes()
        assert sent.recipients == (subscriber.address,)
