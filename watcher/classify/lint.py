"""Warnings about rules that load but cannot do their job.

A bad rule (unknown concept, invalid regex, empty term list, unknown severity) is an
error at load (see `watcher.config`). These are the rules that pass validation yet can
never match, or match without meaning anything:

- a `match` alternative that names a concept the rule also `exclude`s: every sentence
  holding it is excluded, so the alternative never fires (and when every alternative is
  like that, the rule never fires);
- a concept made only of stop words ("the", "of", "的") used to match or as context:
  it is in nearly every sentence, so it tells nothing apart.

`watcher check-config` prints them; the service logs them when it reads its config.
"""

from __future__ import annotations

from itertools import chain

import structlog

from watcher.config import WatcherConfig
from watcher.config.schema import concept_terms
from watcher.domain.terms import GAP, Literal, TermError, parse_term

# fmt: off
STOP_WORDS = frozenset((
    "a", "an", "the", "and", "or", "but", "of", "to", "in", "on", "at", "by", "for", "from",
    "with", "as", "is", "are", "was", "were", "be", "been", "being", "it", "its", "this",
    "that", "these", "those", "there", "here", "he", "she", "they", "we", "you", "i", "not",
    "no", "so", "if", "then", "than", "into", "onto", "over", "under", "about", "after",
    "before", "up", "down", "out", "off", "very", "can", "will", "would", "should", "may",
    "might", "must", "do", "does", "did", "has", "have", "had", "的", "了", "和", "与", "及", "是",
    "在", "也", "都", "而", "或", "之", "其", "这", "那",
))
# fmt: on
log = structlog.get_logger("watcher.classify")


def rule_warnings(config: WatcherConfig) -> list[str]:
    """One line per problem: the key path, what is wrong and what it means."""
    # only a concept that a rule matches on or needs as context can be hollow to effect
    matched_on = {c for rule in config.signals.values() for c in chain(rule.context, *rule.match)}
    hollow = {
        name
        for name, spec in config.concepts.items()
        if name in matched_on and _only_stop_words(concept_terms(spec))
    }
    warnings = []
    for name, rule in config.signals.items():
        dead = 0
        for index, group in enumerate(rule.match):
            excluded = [c for c in group if c in rule.exclude]
            if excluded:
                dead += 1
                warnings.append(
                    f"signals.{name}.match.{index}: {', '.join(excluded)} is also in exclude,"
                    " so this alternative can never match"
                )
        if dead == len(rule.match):
            warnings.append(
                f"signals.{name}: no match alternative can fire; the rule never matches"
            )
        used = {c for group in rule.match for c in group} | set(rule.context)
        for concept in sorted(used & hollow):
            terms = ", ".join(concept_terms(config.concepts[concept])[:5])
            warnings.append(
                f"signals.{name}: concept {concept!r} has only stop words ({terms}); it is in"
                " nearly every sentence and tells nothing apart"
            )
    return warnings


def log_rule_warnings(config: WatcherConfig) -> None:
    """Log `rule_warning` for each rule of `config` that cannot do its job."""
    for problem in rule_warnings(config):
        log.warning("rule_warning", problem=problem)


def _only_stop_words(terms: list[str]) -> bool:
    """True when every literal phrase of the terms is made of stop words alone.

    Stops at the first term that is not: most concepts are told apart by their first
    term, so a start-up compiles a term or two per concept, not all 2,000 of them. ASCII
    terms go first and an `A ... B` term is never a plain phrase, so this compiles no
    Chinese term (folding one builds the OpenCC tables) where another term decides.
    """
    worded = False
    for term in sorted(terms, key=lambda term: not term.isascii()):
        if GAP in f" {term.strip()} ":
            return False  # two phrases in a clause (or a malformed one, an error at load)
        try:
            forms = parse_term(term)
        except TermError:
            return False  # reported as an error at load
        for form in forms:
            if not isinstance(form, Literal):
                return False
            words = form.key.split()
            if not all(word in STOP_WORDS for word in words):
                return False
            worded = worded or bool(words)
    return worded
