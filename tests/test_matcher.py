"""Term matching, table-driven from tests/data/classify/matcher.yaml, and term errors."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.conftest import DATA
from watcher.classify.matcher import MAX_EXPANSIONS, Match, TermError, TermMatcher, expand_braces
from watcher.domain.folding import fold, fold_lower
from watcher.domain.terms import Literal, parse_term

CASES: list[dict[str, Any]] = yaml.safe_load(
    (DATA / "classify" / "matcher.yaml").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_matches(case: dict[str, Any]) -> None:
    """Every listed match is found, and nothing else, in text order."""
    matcher = TermMatcher()
    for cased, section in ((False, "terms"), (True, "cased")):
        for label, terms in case.get(section, {}).items():
            for term in terms:
                matcher.add(term, label, cased=cased)
    text = case["text"]
    found = matcher.find(fold(text), fold_lower(text))
    assert [[text[m.start : m.end], m.label] for m in found] == case["matches"]


def test_sentences_bucket_matches_and_drop_ones_across_a_boundary() -> None:
    """`bucket` puts each match in its sentence; a phrase spanning two sentences is in none."""
    matcher = TermMatcher()
    matcher.add("ban", "ban")
    matcher.add("ban on", "ban_on")
    text = "A ban. On Monday a ban on ore."
    occurrences, keys = matcher.bucket(fold(text), fold_lower(text), [(0, 6), (7, len(text))])
    assert [(text[s:e], labels) for s, e, labels in occurrences[0]] == [("ban", ("ban",))]
    assert sorted(text[s:e] for s, e, _ in occurrences[1]) == ["ban", "ban on"]
    assert keys == [{"ban"}, {"ban", "ban_on"}]


@pytest.mark.parametrize(
    ("term", "reason"),
    [
        ("re:(unclosed", "invalid regular expression"),
        ("re:x*", "matches the empty string"),
        ("de*lay", "'*' is allowed only at the end"),
        ("   ", "empty"),
        ("{a,b", "unbalanced or nested braces"),
        ("{a,{b,c}}", "unbalanced or nested braces"),
        ("{9..1}", "runs backwards"),
        ("{1..50} {1..50}", f"at most {MAX_EXPANSIONS}"),
        ("a ... b ... c", "joins exactly two phrases"),
        ("... b", "joins exactly two phrases"),
    ],
)
def test_bad_terms_are_rejected(term: str, reason: str) -> None:
    """A term that cannot be compiled raises TermError saying why."""
    with pytest.raises(TermError, match=reason):
        TermMatcher().add(term, "label")


def test_brace_expansion_spells_every_combination() -> None:
    """Groups multiply out in order; empty alternatives are kept."""
    assert expand_braces("{a,b} {x,}y") == ["a xy", "a y", "b xy", "b y"]
    assert expand_braces("no braces") == ["no braces"]


def test_ascii_and_mixed_texts_find_the_same_latin_matches() -> None:
    """An ASCII text is scanned by an automaton of the ASCII keys only: its matches are
    those the whole set finds in the same words beside Chinese text; a matcher with no
    ASCII key finds nothing in an ASCII text."""
    matcher = TermMatcher()
    matcher.add("export ban*", "ban")
    matcher.add("出口管制", "control")
    matcher.add("ore", "ore")
    english = "Export bans hit ore; more ore-bearing rock."
    mixed = f"{english}出口管制"
    found = matcher.find(fold(english), fold_lower(english))
    assert [(english[m.start : m.end], m.label) for m in found] == [
        ("Export bans", "ban"),
        ("ore", "ore"),
        ("ore", "ore"),
    ]
    assert matcher.find(fold(mixed), fold_lower(mixed)) == [
        *found,
        Match(len(english), len(mixed), "control"),
    ]
    chinese_only = TermMatcher()
    chinese_only.add("出口管制", "control")
    assert chinese_only.find(fold(english), fold_lower(english)) == []


def test_word_boundaries_next_to_non_ascii_letters() -> None:
    """A letter of another script joins a word (no match inside "caféore"); an ideograph
    or a question mark beside a term does not."""
    matcher = TermMatcher()
    matcher.add("ore", "ore")
    text = "caféore oreé 矿ore矿 ?ore?"
    found = matcher.find(fold(text), fold_lower(text))
    assert [m.start for m in found] == [text.index("矿ore") + 1, text.index("?ore") + 1]


def test_threads_sharing_a_fresh_matcher_all_find_every_match() -> None:
    """The first calls, made at once from several threads, each see the whole automaton set.

    The automata are built on first use; a thread must never scan with a list another
    thread is still filling (it would find nothing, silently).
    """
    import threading

    matcher = TermMatcher()
    for n in range(3000):  # enough keys that building takes a while
        matcher.add(f"term{n} word", f"label{n % 7}")
    matcher.add("出口管制", "cjk")
    matcher.add("Ban", "cased", cased=True)
    text = "A term5 word and term2999 word; 出口管制 and a Ban."
    folded, lowered = fold(text), fold_lower(text)
    expected = sorted(m.label for m in matcher.find(folded, lowered))
    matcher._keys, matcher._automata = matcher._restore_keys(), None  # as before the first call
    start = threading.Barrier(8)
    results: list[list[str]] = []

    def scan() -> None:
        start.wait()
        results.append(sorted(m.label for m in matcher.find(folded, lowered)))

    threads = [threading.Thread(target=scan) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert expected == ["cased", "cjk", "label3", "label5"]
    assert results == [expected] * 8


def test_terms_added_after_a_scan_join_the_ones_before() -> None:
    """A build drops the table of keys (the automata hold them): a term added after a
    scan is matched with every earlier one, labels and `*` endings kept, as by a matcher
    given every term before its first scan."""
    terms = [
        ("ban*", "ban", False),
        ("export ban", "ban", False),
        ("export ban", "export", False),
        ("出口管制", "control", False),
        ("Dy", "dy", True),
        ("halt", "halt", False),
    ]
    later = [("halt*", "halt", False), ("稀土", "rare", False), ("US", "us", True)]
    text = "The US export ban, banning Dy; 出口管制 and 稀土 halted, halt."
    folded, lowered = fold(text), fold_lower(text)
    step = TermMatcher()
    for term, label, cased in terms:
        step.add(term, label, cased=cased)
    before = step.find(folded, lowered)
    assert step._keys is None  # dropped by the build
    for term, label, cased in later:
        step.add(term, label, cased=cased)
    whole = TermMatcher()
    for term, label, cased in terms + later:
        whole.add(term, label, cased=cased)
    assert step.find(folded, lowered) == whole.find(folded, lowered)
    assert len(whole.find(folded, lowered)) > len(before)
    assert {m.label for m in whole.find(folded, lowered)} >= {"us", "rare", "halt", "dy"}


def test_keys_with_equal_values_share_one_value_and_label_tuple() -> None:
    """Keys of one concept and length hold one value object; a concept's label tuple is one
    object whatever the key's length; matches keep their own spans and labels."""
    matcher = TermMatcher()
    for term in ("halt", "stop", "cut*"):
        matcher.add(term, "halt")
    matcher.add("ban", "export_ban")
    automaton = matcher._build()[0][1]
    halt, stop, cut, ban = (automaton.get(key) for key in ("halt", "stop", "cut", "ban"))
    assert halt is stop  # same length, bounds and labels
    assert cut[3] is halt[3]  # `cut*`: another value (its ending), the same label tuple
    assert ban[3] == ("export_ban",)
    assert ban[3] is not halt[3]
    text = "They halt, stop and cut output; a ban."
    found = matcher.find(fold(text), fold_lower(text))
    assert [(text[m.start : m.end], m.label) for m in found] == [
        ("halt", "halt"),
        ("stop", "halt"),
        ("cut", "halt"),
        ("ban", "export_ban"),
    ]


def test_parse_term_gives_each_caller_its_own_list_and_raises_every_time() -> None:
    """The forms are kept per term: a caller changing its list changes no later answer,
    and a bad term raises on every call (an error is never kept as an answer)."""
    first = parse_term("{held,holding} back")
    assert [form.key for form in first if isinstance(form, Literal)] == [
        "held back",
        "holding back",
    ]
    first.clear()
    again = parse_term("{held,holding} back")
    assert len(again) == 2
    assert again is not first
    assert parse_term("{held,holding} back", cased=True)[0] == Literal("held back", False, True)
    for _ in range(2):
        with pytest.raises(TermError, match="only at the end"):
            parse_term("ex*port")


def test_split_automata_find_what_one_automaton_of_every_key_finds() -> None:
    """The ASCII keys and the others are two automata, the second scanned only around
    the text's non-ASCII characters: over texts of both scripts (and mixed keys that
    start, end or are broken by ASCII characters, farther apart than the windows join)
    they give the matches one automaton of every key gives, in its order."""
    import random

    from watcher.classify import matcher as module

    matcher = TermMatcher()
    terms = {
        "ai芯片": "chip",
        "a股": "shares",
        "稀土": "rare",
        "稀土永磁": "magnet",
        "出口管制": "control",
        "管制": "rule",
        "钕铁硼 scrap": "scrap",
        "稀土 and its long list of magnets 磁体": "long",
        "ban*": "ban",
        "export ban": "ban",
        "ai": "ai",
        "ore": "ore",
        "scrap": "scrap",
    }
    for term, label in terms.items():
        matcher.add(term, label)
    matcher.add("US", "us", cased=True)
    pieces = [*terms, "US", " ", " ", ", ", "; ", "é", "€", "管", "出口", "x", "bans", "稀"]
    values: dict[bool, dict[str, Any]] = {}
    for cased, ascii_keys, other_keys in matcher._build():
        items = [] if ascii_keys is None else list(ascii_keys.items())
        items += [] if other_keys is None else list(other_keys._automaton.items())
        values[cased] = dict(items)
    assert len(values[False]) == len(terms)  # every key in one of the two automata
    rng = random.Random(20)
    mixed = 0
    for _ in range(400):
        text = "".join(rng.choice(pieces) for _ in range(rng.randrange(1, 30)))
        folded, lowered = fold(text), fold_lower(text)
        cut = rng.randrange(len(text) + 1)
        sentences = [(0, cut), (cut, len(text))] if 0 < cut < len(text) else [(0, len(text))]
        expected: tuple[list[list[Any]], list[set[str]]] = (
            [[] for _ in sentences],
            [set() for _ in sentences],
        )
        flags = module._flags(lowered)
        for cased, keys in values.items():
            every = module._automaton(list(keys), keys)
            scanned = folded if cased else lowered
            module._scan_into(every.iter(scanned), scanned, flags, sentences, *expected)
        assert matcher.bucket(folded, lowered, sentences) == expected, text
        mixed += not text.isascii() and any(expected[0])
    assert mixed > 200


def test_keys_go_into_an_automaton_common_characters_first_as_rank_lists_sort_them() -> None:
    """`_common_first` orders keys as sorting their lists of character ranks (the most
    common character ranked 0, ties in first-seen order) does: a prefix before its
    longer keys, Chinese and ASCII keys alike; the automaton's nodes keep that order."""
    from collections import Counter

    from watcher.classify import matcher as module

    keys = ["tin", "ti", "antimony", "a", "稀土", "稀土出口", "zz", "z", "nickel*", "锑", "t i"]
    counts = Counter(char for key in keys for char in key)
    rank = {char: n for n, (char, _) in enumerate(counts.most_common())}
    expected = sorted(keys, key=lambda key: [rank[char] for char in key])
    assert module._common_first(keys) == expected
    assert expected.index("ti") < expected.index("tin")  # the reference sorts prefixes first
    values = {key: (len(key), True, True, ("x",), None) for key in keys}
    automaton = module._automaton(keys, values)  # type: ignore[arg-type]
    assert sorted(automaton.keys()) == sorted(keys)


def test_a_literal_filed_twice_under_one_label_keeps_one_label() -> None:
    """Adding the same literal term under one label twice (exact, and `*`) files the
    label once per kind; a second label is appended after the first."""
    matcher = TermMatcher()
    for term, label in (("tin", "a"), ("tin", "a"), ("tin*", "a"), ("tin", "b"), ("tin*", "a")):
        matcher.add(term, label)
    assert matcher._keys is not None
    assert matcher._keys[False]["tin"] == (("a", "b"), ("a",))
