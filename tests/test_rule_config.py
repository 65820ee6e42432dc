"""Bad rules are rejected at load with file, key path and reason; useless ones are warned of."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.delivery import BAN, entries, feed_source, feed_xml
from tests.servers import FeedServer, Route
from watcher.classify.lint import rule_warnings
from watcher.cli import app
from watcher.config.load import load_config
from watcher.domain.errors import ConfigError

WriteConfig = Callable[..., Path]
RULE = {"match": [["ban"]], "context": ["metal"]}
CONCEPTS = {"ban": ["export ban"], "metal": ["gallium"]}


def _error(write_config: WriteConfig, **sections: Any) -> str:
    path = write_config(include=[], **sections)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    return str(caught.value)


def test_unknown_concept_is_rejected(write_config: WriteConfig) -> None:
    """A rule naming an undefined concept fails with file:line, the key path and the name."""
    message = _error(
        write_config,
        concepts=CONCEPTS,
        signals={"export_control": {**RULE, "negation": ["nope"]}},
    )
    assert "watcher.yaml:" in message
    assert "signals.export_control.negation.0: unknown concept 'nope'" in message


def test_invalid_regex_is_rejected(write_config: WriteConfig) -> None:
    """A broken `re:` term fails naming the concept, the term's index and the regex error."""
    message = _error(
        write_config,
        concepts={**CONCEPTS, "ban": ["export ban", "re:(unclosed"]},
        signals={"export_control": RULE},
    )
    assert "concepts.ban.1: invalid regular expression '(unclosed'" in message


def test_a_bad_rule_stops_run_once_before_any_poll(
    feed_server: FeedServer, write_config: WriteConfig
) -> None:
    """The service builds its classifier only for a first item, yet a broken term still
    stops `run --once` at start: exit 2, the file and key path named, no source polled."""
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN)))
    path = write_config(
        include=[],
        concepts={**CONCEPTS, "ban": ["export ban", "re:(unclosed"]},
        signals={"export_control": RULE},
        sources=[feed_source(feed_server.url("/f"))],
    )
    result = CliRunner().invoke(app, ["run", "--once", "--config", str(path)])
    assert result.exit_code == 2, result.output
    assert f"{path}:" in result.stderr
    assert "concepts.ban.1: invalid regular expression '(unclosed'" in result.stderr
    assert feed_server.requests == []


def test_empty_term_list_is_rejected(write_config: WriteConfig) -> None:
    """A concept without terms fails: it could never match."""
    message = _error(write_config, concepts={**CONCEPTS, "ban": []}, signals={"x": RULE})
    assert "concepts.ban: the term list is empty" in message


def test_unknown_severity_is_rejected(write_config: WriteConfig) -> None:
    """A severity outside low/medium/high/critical fails listing the allowed values."""
    message = _error(
        write_config, concepts=CONCEPTS, signals={"export_control": {**RULE, "severity": "severe"}}
    )
    assert "signals.export_control.severity:" in message
    assert "'low', 'medium', 'high' or 'critical'" in message


def test_bad_brace_term_is_rejected(write_config: WriteConfig) -> None:
    """Malformed braces in a term fail like any other bad term."""
    message = _error(
        write_config, concepts={**CONCEPTS, "ban": ["{export,import ban"]}, signals={"x": RULE}
    )
    assert "concepts.ban.0:" in message
    assert "unbalanced or nested braces" in message


@pytest.mark.parametrize(
    ("term", "reason"),
    [
        ("ban*ned", "'ban*ned': '*' is allowed only at the end of a term"),
        ("in {2018..2000}", "'in {2018..2000}': range {2018..2000} runs backwards"),
        ("{a,b}{1..3000}", "'{a,b}{1..3000}' spells 6000 phrases; at most 2000"),
        ("Export-}", "'export }': unbalanced or nested braces"),
        ("{ ,-}", "'{ ,-}' is empty"),
        ("a ... b ... c", "'a ... b ... c': '...' joins exactly two phrases"),
        ("re:x*", "regular expression 'x*' matches the empty string"),
        ("{暫停,—}", "'{暫停,—}' is empty"),
    ],
)
def test_each_bad_term_names_file_key_and_reason(
    write_config: WriteConfig, term: str, reason: str
) -> None:
    """A bad term in a concept's list (plain or under `terms:`) fails at load naming the
    file, the term's key path and why it cannot match."""
    for spec, key in ((["gallium", term], "concepts.metal.1"),
                      ({"terms": ["gallium", term]}, "concepts.metal.terms.1")):  # fmt: skip
        message = _error(
            write_config, concepts={**CONCEPTS, "metal": spec}, signals={"export_control": RULE}
        )
        assert "watcher.yaml" in message
        assert f"{key}: {reason}" in message


def test_stop_word_concept_and_excluded_alternative_are_warned(write_config: WriteConfig) -> None:
    """A concept of stop words only, and an alternative that its own exclude kills, warn."""
    path = write_config(
        include=[],
        concepts={**CONCEPTS, "filler": ["the", "of the", "{a,an}"]},
        signals={
            "noise": {"match": [["filler", "ban"]], "context": ["metal"]},
            "dead": {"match": [["ban"]], "exclude": ["ban"]},
        },
    )
    warnings = rule_warnings(load_config(path, environ={}))
    assert any(
        w.startswith("signals.noise: concept 'filler' has only stop words") for w in warnings
    )
    assert "signals.dead.match.0: ban is also in exclude, so this alternative can never match" in (
        warnings
    )
    assert "signals.dead: no match alternative can fire; the rule never matches" in warnings


@pytest.mark.parametrize(
    ("terms", "hollow"),
    [
        (["the", "of the", "的"], True),
        (["the", "of the", "gallium"], False),
        (["the", "{of,gallium}"], False),
        (["gallium", "the"], False),
        (["the", "re:th[ae]"], False),
        (["{ , }the"], True),
        (["的", "the ... of"], False),
        (["的", "the"], True),
    ],
)
def test_a_concept_is_hollow_only_when_every_phrase_is_stop_words(
    write_config: WriteConfig, terms: list[str], hollow: bool
) -> None:
    """One phrase with a real word, wherever it stands, or a regex makes a concept useful."""
    path = write_config(
        include=[],
        concepts={**CONCEPTS, "filler": terms},
        signals={"noise": {"match": [["filler", "ban"]], "context": ["metal"]}},
    )
    warned = [w for w in rule_warnings(load_config(path, environ={})) if "'filler'" in w]
    assert bool(warned) == hollow


def test_check_config_prints_rule_warnings(write_config: WriteConfig) -> None:
    """`watcher check-config` validates, then lists the warnings on stderr, and exits 0."""
    path = write_config(
        include=[], concepts=CONCEPTS, signals={"dead": {"match": [["ban"]], "exclude": ["ban"]}}
    )
    result = CliRunner().invoke(app, ["check-config", str(path)])
    assert result.exit_code == 0, result.output
    assert "warning: signals.dead: no match alternative can fire" in result.stderr
    assert ": OK" in result.stdout


def test_default_rules_load_without_warnings() -> None:
    """The shipped rules validate and raise no warning."""
    from tests.conftest import ROOT

    assert rule_warnings(load_config(ROOT / "config" / "watcher.yaml", environ={})) == []


def test_a_concept_may_carry_glosses(write_config: WriteConfig) -> None:
    """A concept written as {gloss, terms, glosses} loads, its terms match as a list's do."""
    concepts = {
        **CONCEPTS,
        "ban": {
            "gloss": "export ban",
            "terms": ["export ban", "出口禁令"],
            "glosses": {"出口禁令": "ban"},
        },
    }
    config = load_config(
        write_config(include=[], concepts=concepts, signals={"x": RULE}), environ={}
    )
    assert config.signals["x"].match == [["ban"]]
    assert rule_warnings(config) == []


def test_a_gloss_for_an_unknown_term_is_rejected(write_config: WriteConfig) -> None:
    """`glosses` may only name the concept's own terms."""
    concepts = {**CONCEPTS, "ban": {"terms": ["export ban"], "glosses": {"禁令": "ban"}}}
    message = _error(write_config, concepts=concepts, signals={"x": RULE})
    assert "'禁令' is not one of the concept's terms" in message
