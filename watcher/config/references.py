"""Checks across sections of the configuration: names that must be unique or must resolve.

`reference_problems(data)` reads the merged, not yet validated data and returns every
problem with the key path it belongs to: a source name used twice, a subscriber listed
twice, a concept name or term that cannot work, a rule naming an unknown concept, a
subscriber asking for an unknown signal type. It reads what it can and skips entries
of the wrong shape (their own validation reports those), so one mistake never hides
another: `load_config` reports these beside the schema's problems in one run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from email.utils import parseaddr
from typing import Any

from watcher.domain.spelling import did_you_mean
from watcher.domain.terms import TermError, check_term

KeyPath = tuple[str | int, ...]
Problem = tuple[KeyPath, str]

CONCEPT_NAME = re.compile(r"[a-z][a-z0-9_]*")
# The keys of a signal rule whose values name concepts (`match` is a list of lists).
CONCEPT_KEYS = (
    "match",
    "anywhere",
    "context",
    "context_mask",
    "exclude",
    "other_goods",
    "background",
    "negation",
    "denial",
    "negation_exceptions",
    "mask",
    "hedging",
    "tightening",
    "easing",
    "easing_events",
    "not_easing",
    "lead_easing",
)


def reference_problems(data: Mapping[str, Any]) -> list[Problem]:
    """Every cross-section problem of the merged config data, each with its key path."""
    problems: list[Problem] = []
    problems.extend(_duplicate_sources(data.get("sources")))
    concepts = data.get("concepts")
    concepts = concepts if isinstance(concepts, Mapping) else {}
    problems.extend(_concept_problems(concepts))
    signals = data.get("signals")
    signals = signals if isinstance(signals, Mapping) else {}
    problems.extend(_rule_problems(signals, concepts))
    problems.extend(_subscriber_problems(data.get("subscribers"), signals))
    return problems


def _entries(value: Any) -> Iterator[tuple[int, Mapping[str, Any]]]:
    if isinstance(value, list):
        for index, entry in enumerate(value):
            if isinstance(entry, Mapping):
                yield index, entry


def _duplicate_sources(sources: Any) -> Iterator[Problem]:
    seen: dict[str, int] = {}
    for index, source in _entries(sources):
        name = source.get("name")
        if not isinstance(name, str):
            continue
        if name in seen:
            yield (
                ("sources", index, "name"),
                f"the name {name!r} is used twice (first by sources.{seen[name]})",
            )
        else:
            seen[name] = index


def _concept_problems(concepts: Mapping[str, Any]) -> Iterator[Problem]:
    for name, spec in concepts.items():
        if not isinstance(name, str) or not CONCEPT_NAME.fullmatch(name):
            yield ("concepts", str(name)), "a concept name is lower_snake_case"
        prefix: KeyPath
        if isinstance(spec, list):
            terms, prefix = spec, ("concepts", str(name))
            if not terms:
                yield prefix, "the term list is empty"
        elif isinstance(spec, Mapping) and isinstance(spec.get("terms"), list):
            # an empty `terms:` is the schema's problem (min_length), reported once there
            terms, prefix = spec["terms"], ("concepts", str(name), "terms")
        else:
            continue
        for index, term in enumerate(terms):
            if not isinstance(term, str):
                continue
            try:
                check_term(term)
            except TermError as exc:
                yield (*prefix, index), str(exc)


def _rule_problems(signals: Mapping[str, Any], concepts: Mapping[str, Any]) -> Iterator[Problem]:
    for signal, rule in signals.items():
        if not isinstance(rule, Mapping):
            continue
        for key in CONCEPT_KEYS:
            for path, concept in _named_concepts(rule.get(key), (key,)):
                if isinstance(concept, str) and concept not in concepts:
                    yield (
                        ("signals", str(signal), *path),
                        f"unknown concept {concept!r}{did_you_mean(concept, concepts)}"
                        " (define it under concepts:)",
                    )


def _named_concepts(value: Any, path: KeyPath) -> Iterator[tuple[KeyPath, Any]]:
    if isinstance(value, list):
        for index, entry in enumerate(value):
            yield from _named_concepts(entry, (*path, index))
    elif value is not None:
        yield path, value


def _subscriber_problems(subscribers: Any, signals: Mapping[str, Any]) -> Iterator[Problem]:
    seen: dict[str, int] = {}
    known = ", ".join(sorted(map(str, signals))) or "none are configured"
    for index, sub in _entries(subscribers):
        email = sub.get("email")
        if isinstance(email, str) and (address := parseaddr(email)[1].lower()):
            if address in seen:
                yield (
                    ("subscribers", index, "email"),
                    f"{address} is listed twice (first as subscribers.{seen[address]})",
                )
            else:
                seen[address] = index
        wanted = sub.get("signals")
        if not isinstance(wanted, list):
            continue
        for position, signal in enumerate(wanted):
            if isinstance(signal, str) and signal not in signals:
                hint = did_you_mean(signal, map(str, signals)) or f" (known: {known})"
                yield (
                    ("subscribers", index, "signals", position),
                    f"unknown signal type {signal!r}{hint}",
                )
