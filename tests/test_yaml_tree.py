"""`construct_data` gives the data PyYAML's safe constructor gives, for every kind of node."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.conftest import ROOT
from watcher.config.load import _SafeLoader
from watcher.config.yaml_tree import _Walk, construct_data

DOCUMENTS = {
    "plain config": "a: 1\nb: [x, 'y', \"z\"]\nc: {d: e, f: [g, {h: i}]}\n",
    "scalars": (
        "i: 12\no: 0o14\nold_octal: 014\nhex: 0x1f\nsexagesimal: 1:30\nunderscored: 1_000\n"
        "f: 1.5\ninf: .inf\nneg: -.INF\nbools: [yes, No, on, OFF, true, False]\n"
        "nulls: [~, null, '']\nquoted: ['1', '1.5', 'yes', 'null']\n"
    ),
    "timestamps": "d: 2026-12-07\nt: 2026-12-07T20:05:00Z\nplain: 2026-12-07 20:05\n",
    "tags": "s: !!str 12\ni: !!int '7'\nb: !!binary aGVsbG8=\nset: !!set {a, b}\n"
    "omap: !!omap [a: 1, b: 2]\npairs: !!pairs [a: 1, a: 2]\n",
    "aliases": "base: &b {x: 1, y: [2, 3]}\nsame: *b\nlist: &l [1, 2]\nagain: [*l, *l]\n",
    "merge key": "base: &b {x: 1, y: 2}\nchild:\n  <<: *b\n  y: 3\n",
    "merge list": "a: &a {x: 1}\nb: &b {y: 2}\nc: {<<: [*a, *b], z: 3}\n",
    "value key": "k: {=: 5}\n",
    "non-string keys": "1: one\n2.5: two\ntrue: three\n~: four\n2026-12-07: five\n",
    "duplicate keys": "a: 1\na: 2\nb: {c: 1, c: 3}\n",
    "recursive": "a: &a [1, *a]\n",
    "recursive map": "a: &a {self: *a}\n",
    "scalar document": "just text\n",
    "sequence document": "- 1\n- two\n- [3]\n",
    "unicode": "name: Zoë Müller\nterms: [稀土, 'dysprosium – Dy']\n",
    "block scalars": "a: |\n  line one\n  line two\nb: >\n  folded\n  text\n",
    "empty values": "a:\nb: []\nc: {}\n",
    "anchored scalar": "a: &v 12\nb: *v\nc: &s text\nd: *s\n",
}


def _safe(text: str) -> tuple[Any, Any]:
    """(PyYAML's own data, `construct_data`'s), each from a fresh parse."""
    want = yaml.load(text, Loader=_SafeLoader)
    loader = _SafeLoader(text)
    try:
        node = loader.get_single_node()
        got = construct_data(loader, node)
    finally:
        loader.dispose()
    return want, got


def _shape(value: Any, seen: dict[int, int] | None = None) -> Any:
    """`value`'s types and values, with each shared container numbered where it recurs."""
    seen = {} if seen is None else seen
    if isinstance(value, dict | list | set):
        if id(value) in seen:
            return ("shared", seen[id(value)])
        seen[id(value)] = len(seen)
        if isinstance(value, dict):
            items = [(_shape(k, seen), _shape(v, seen)) for k, v in value.items()]
            return (type(value).__name__, items)
        if isinstance(value, set):
            return ("set", sorted(map(repr, value)))
        return ("list", [_shape(v, seen) for v in value])
    if isinstance(value, tuple):
        return ("tuple", [_shape(v, seen) for v in value])
    return (type(value).__name__, repr(value))


@pytest.mark.parametrize("text", DOCUMENTS.values(), ids=DOCUMENTS.keys())
def test_the_data_is_the_safe_constructors(text: str) -> None:
    """Values, their types, key order and which objects are shared match PyYAML's."""
    want, got = _safe(text)
    assert _shape(got) == _shape(want)


def test_an_alias_is_the_same_object_as_its_anchor() -> None:
    """A collection named twice is one object, as PyYAML makes it."""
    _, got = _safe(DOCUMENTS["aliases"])
    assert got["same"] is got["base"]
    assert got["again"][0] is got["again"][1] is got["list"]


@pytest.mark.parametrize("text", ["? [a, b]\n: c\n", "? {a: 1}\n: c\n"])
def test_an_unhashable_key_is_refused_as_pyyaml_refuses_it(text: str) -> None:
    """A sequence or mapping used as a key is PyYAML's error, not another one."""
    loader = _SafeLoader(text)
    try:
        node = loader.get_single_node()
        with pytest.raises(yaml.constructor.ConstructorError, match="unhashable key"):
            construct_data(loader, node)
    finally:
        loader.dispose()


@pytest.mark.parametrize("path", ["config/watcher.yaml", "config/rules.yaml"])
def test_the_shipped_config_is_walked_not_handed_back(path: str) -> None:
    """The project's own config files take the walk (no fallback) and give PyYAML's data."""
    text = (ROOT / path).read_text(encoding="utf-8")
    loader = _SafeLoader(text)
    try:
        walked = _Walk(loader).data(loader.get_single_node())
    finally:
        loader.dispose()
    assert _shape(walked) == _shape(yaml.load(text, Loader=_SafeLoader))
