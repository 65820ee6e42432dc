"""A signal type added in the configuration alone reaches a subscriber's mailbox."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import ROOT
from tests.servers import SmtpSink
from watcher.config import WatcherConfig
from watcher.service.rounds import run_once

PRODUCTION_CUT_CONCEPTS = {
    "producer": ["magnet maker*", "producer*", "smelter*", "磁材企业"],
    "output_cut": [
        "{cut,cuts,cutting,slashed,reduced,trimmed} {production,output,operating rates}",
        "production cut*",
        "减产",
    ],
}
PRODUCTION_CUT_RULE = {
    "label": "Production cut",
    "severity": "medium",
    "match": [["producer", "output_cut"]],
    "within": 8,
    "context": ["critical_minerals"],
    "negation": ["negation", "denial"],
    "hedging": ["hedging"],
}


async def test_production_cut_in_config_reaches_the_subscriber(
    tmp_path: Path, smtp_sink: SmtpSink, make_config: Callable[..., WatcherConfig]
) -> None:
    """Concepts and a rule in the config file make a new type that is classified and mailed."""
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "cut.md").write_text(
        "# Ningbo magnet makers cut production\n\n"
        "NdFeB magnet makers in Ningbo cut production by a fifth in May, traders said.\n",
        encoding="utf-8",
    )
    (reports / "flat.md").write_text(
        "# Dysprosium flat\n\nDysprosium oxide was unchanged on the week.\n", encoding="utf-8"
    )
    config = make_config(
        sources=[{"name": "reports", "kind": "files", "path": str(reports)}],
        concepts=PRODUCTION_CUT_CONCEPTS,
        signals={"production_cut": PRODUCTION_CUT_RULE},
        subscribers=[
            {"email": "buyer@example.com", "signals": ["production_cut"]},
            {"email": "other@example.com", "signals": ["export_control"]},
        ],
        smtp={"host": "127.0.0.1", "port": smtp_sink.port, "tls": "none", "timeout": "5s"},
    )
    assert "production_cut" in config.signals
    assert "export_control" in config.signals  # the default rules are still there
    assert await run_once(config) == 0
    (message,) = smtp_sink.messages
    assert message["To"] == "buyer@example.com"
    assert str(message["Subject"]) == "Ningbo magnet makers cut production · Production cut"
    text = message.get_body(("plain",))
    assert text is not None
    assert "cut production" in text.get_content()


def _readme_example() -> dict[str, Any]:
    """The YAML block of the README's "Adding a signal type" section."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Adding a signal type", 1)[1]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    data = yaml.safe_load(block)
    assert isinstance(data, dict)
    return data


async def test_the_readme_example_of_a_new_signal_type_works(
    tmp_path: Path, smtp_sink: SmtpSink, make_config: Callable[..., WatcherConfig]
) -> None:
    """The README's complete example (concepts, rule, subscriber) loads as written and
    mails its subscriber a production cut in China, not one in Japan."""
    example = _readme_example()
    assert set(example) == {"concepts", "signals", "subscribers"}
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "ningbo.md").write_text(
        "# Ningbo magnet makers cut output\n\n"
        "Magnet makers in Ningbo, China, cut production of neodymium magnets by a fifth"
        " in May, traders said.\n",
        encoding="utf-8",
    )
    (reports / "osaka.md").write_text(
        "# Osaka magnet makers cut output\n\n"
        "Magnet makers in Osaka, Japan, cut production of neodymium magnets by a fifth"
        " in May, traders said.\n",
        encoding="utf-8",
    )
    config = make_config(
        sources=[{"name": "reports", "kind": "files", "path": str(reports)}],
        smtp={"host": "127.0.0.1", "port": smtp_sink.port, "tls": "none", "timeout": "5s"},
        **example,
    )
    (subscriber,) = config.subscribers
    assert subscriber.elements == ["Nd", "Dy"]
    assert await run_once(config) == 0
    (message,) = smtp_sink.messages
    assert message["To"] == "Magnets desk <magnets-desk@example.com>"
    assert "Ningbo magnet makers cut output" in str(message["Subject"])
    assert "Production cut" in str(message["Subject"])
