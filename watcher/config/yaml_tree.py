"""A YAML node tree to plain data, as PyYAML's safe constructor makes it, with less work.

Every `watcher run --once` reads its config files, and building their data from the node
tree (about 6,500 nodes for the default rules and 200 sources) was over a third of the
parse, in PyYAML's constructor: a generator and a dictionary lookup of the tag's
function for every mapping and sequence, whatever the node. `construct_data` walks the
tree itself for the nodes a config is made of: strings, mappings and sequences, their
aliases kept as shared objects as PyYAML keeps them. Every other scalar (numbers,
booleans, null, timestamps, ...) is built by the loader's own constructor. Whatever else
a document holds (a merge key, a tagged collection, a key that is not a string, an alias
of a node being built) makes it build the whole document the loader's way instead.
"""

from __future__ import annotations

from typing import Any

import yaml

STR = "tag:yaml.org,2002:str"
MAP = "tag:yaml.org,2002:map"
SEQ = "tag:yaml.org,2002:seq"


class _Unusual(Exception):
    """The document has a node the walk leaves to PyYAML's constructor."""


def construct_data(loader: Any, node: yaml.Node) -> Any:
    """The data of the document `node` (from `loader.get_single_node()`), equal to what
    `loader.construct_document(node)` gives, shared objects shared alike."""
    try:
        return _Walk(loader).data(node)
    except _Unusual:
        return loader.construct_document(node)


class _Walk:
    def __init__(self, loader: Any) -> None:
        self._loader = loader
        self._built: dict[int, Any] = {}  # by node id: an alias is the same object
        self._building: set[int] = set()

    def data(self, node: yaml.Node) -> Any:
        key = id(node)
        if key in self._built:
            return self._built[key]
        if key in self._building:
            raise _Unusual  # a node inside itself: PyYAML's two-step build handles it
        tag = node.tag
        if tag == STR and type(node) is yaml.ScalarNode:
            value: Any = node.value
        elif tag == MAP and type(node) is yaml.MappingNode:
            self._building.add(key)
            value = {}
            for key_node, value_node in node.value:
                if key_node.tag != STR or type(key_node) is not yaml.ScalarNode:
                    raise _Unusual  # merge keys (`<<`), `=`, numbers, collections as keys
                value[key_node.value] = self.data(value_node)
            self._building.discard(key)
        elif tag == SEQ and type(node) is yaml.SequenceNode:
            self._building.add(key)
            value = [self.data(item) for item in node.value]
            self._building.discard(key)
        elif type(node) is yaml.ScalarNode:
            value = self._loader.construct_object(node)
        else:
            raise _Unusual
        self._built[key] = value
        return value
