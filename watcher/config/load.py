"""Read the configuration: YAML files, includes, environment overrides, clear errors.

`load_config(path)` returns a validated `WatcherConfig` or raises `ConfigError` whose
message names the file, the line, the key path and what was expected, for every
problem at once: a section that fails does not stop the others from being checked,
each problem is listed once, in the order of the lines it is on (main file first, then
each include, then environment variables), and a misspelt key or kind names the
nearest valid ones.

Environment variables override the file: `WATCHER_SMTP__HOST=mail.example.com` sets
`smtp.host` (double underscore between levels; the value is read as YAML, so `true`,
`25` and `[a, b]` have their types). `WATCHER_DATABASE_URL` is accepted for
`database.url`. Secrets (`smtp.password`) are refused in files: they come from the
environment or from a `*_file` path.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from watcher.config.references import reference_problems
from watcher.config.schema import REFERENCES_CHECKED, Source, WatcherConfig
from watcher.domain.errors import ConfigError
from watcher.domain.spelling import did_you_mean, nearest

ENV_PREFIX = "WATCHER_"
_ENV_NOT_KEYS = {"WATCHER_CONFIG", "WATCHER_PURE"}  # WATCHER_PURE: watcher/compiled.py
_ENV_ALIASES = {"WATCHER_DATABASE_URL": ("database", "url")}
_SECRET_KEYS = {
    ("smtp", "password"),
    ("public", "secret"),
    ("public", "previous_secret"),
    ("webhook", "secret"),
}
_MERGED_SECTIONS = ("concepts", "signals")

KeyPath = tuple[str | int, ...]


class _Document:
    """One parsed YAML file: its data and the line of every key path."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(["file not found"], str(path)) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError([f"cannot read: {exc}"], str(path)) from None
        try:
            node, data = _parse(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}: " if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc)
            raise ConfigError([f"{where}invalid YAML: {problem}"], str(path)) from None
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(["the top level must be a mapping of keys"], str(path))
        self.data: dict[str, Any] = data
        self._node = node

    @functools.cached_property
    def lines(self) -> dict[KeyPath, int]:
        """The line of every key path, indexed when first asked (a valid file never is)."""
        lines: dict[KeyPath, int] = {}
        todo: list[tuple[yaml.Node, KeyPath]] = [] if self._node is None else [(self._node, ())]
        while todo:
            node, path = todo.pop()
            lines[path] = node.start_mark.line + 1
            if isinstance(node, yaml.MappingNode):
                for key, value in node.value:
                    lines[(*path, key.value)] = key.start_mark.line + 1
                    todo.append((value, (*path, key.value)))
            elif isinstance(node, yaml.SequenceNode):
                todo.extend((value, (*path, index)) for index, value in enumerate(node.value))
        return lines


def _parse(text: str) -> tuple[yaml.Node | None, Any]:
    """One YAML parse giving both the node tree (for line numbers) and the data.

    libyaml's loader when PyYAML was built with it (about 15× faster on the rule files),
    else PyYAML's own; both are the safe loader: plain data, no Python objects.
    """
    loader = _SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return node, data


_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True, order=True)
class _Problem:
    """One line of the error report; problems sort by file (main first) and line."""

    rank: int
    line: int
    text: str


_ENV_RANK = 1_000_000


class _Origins:
    """Which file (and line) each key path of the merged configuration came from."""

    def __init__(self) -> None:
        self._owners: list[tuple[KeyPath, _Document]] = []
        self._ranks: dict[Path, int] = {}
        self.env: dict[KeyPath, str] = {}

    def claim(self, prefix: KeyPath, doc: _Document) -> None:
        self._owners.append((prefix, doc))
        self._ranks.setdefault(doc.path, len(self._ranks))

    def problem(self, doc: _Document, line: int, text: str) -> _Problem:
        """A problem at `line` of `doc`, worded `file:line: text`."""
        rank = self._ranks.setdefault(doc.path, len(self._ranks))
        return _Problem(rank, line, f"{doc.path}:{line}: {text}" if line else f"{doc.path}: {text}")

    def at(self, path: KeyPath, text: str) -> _Problem:
        """A problem with the value at key `path`, located in its file, line or variable."""
        dotted = ".".join(map(str, path)) or "(top level)"
        for prefix, var in self.env.items():
            if path[: len(prefix)] == prefix:
                return _Problem(_ENV_RANK, 0, f"environment variable {var}: {dotted}: {text}")
        best: tuple[int, _Document] | None = None
        for prefix, doc in self._owners:
            if path[: len(prefix)] == prefix and (best is None or len(prefix) >= best[0]):
                best = (len(prefix), doc)
        if best is None:
            return _Problem(0, 0, f"{dotted}: {text}")
        doc = best[1]
        line = next(
            (doc.lines[path[:cut]] for cut in range(len(path), -1, -1) if path[:cut] in doc.lines),
            0,
        )
        return self.problem(doc, line, f"{dotted}: {text}")


def load_config(path: str | Path, environ: Mapping[str, str] | None = None) -> WatcherConfig:
    """Read, merge and validate the configuration at `path`; raise `ConfigError` if unusable.

    Every problem the files and the environment have is in the one `ConfigError`.
    """
    environ = os.environ if environ is None else environ
    main = _Document(Path(path))
    origins = _Origins()
    origins.claim((), main)
    problems: list[_Problem] = []
    for key in _SECRET_KEYS:
        if _get(main.data, key) is not None:
            dotted = ".".join(map(str, key))
            env_name = ENV_PREFIX + "__".join(k.upper() for k in map(str, key))
            problems.append(
                origins.problem(
                    main,
                    main.lines.get(key, 0),
                    f"{dotted}: secrets do not belong in the config file;"
                    f" set {env_name} or {dotted}_file",
                )
            )
    data = _merge_includes(main, origins, problems)
    _apply_env(data, environ, origins, problems)
    problems.extend(origins.at(where, text) for where, text in reference_problems(data))
    data = _guess_kinds(data, origins, problems)
    try:
        config = WatcherConfig.model_validate(data, context={REFERENCES_CHECKED: True})
    except ValidationError as exc:
        problems.extend(_describe(exc, data, origins))
        config = None
    if problems or config is None:
        raise ConfigError([p.text for p in sorted(set(problems))], str(main.path))
    return config


def _merge_includes(main: _Document, origins: _Origins, problems: list[_Problem]) -> dict[str, Any]:
    """Merge `include:` files into the main file; the main file wins key by key.

    An include that cannot be read is a problem located at the line that names it; the
    other includes are still merged.
    """
    data = dict(main.data)
    includes = data.get("include", [])
    if not isinstance(includes, list):
        problems.append(origins.at(("include",), "expected a list of file names"))
        return data
    for index, name in enumerate(includes):
        try:
            doc = _Document(main.path.parent / str(name))
        except ConfigError as exc:
            line = main.lines.get(("include", index), 0)
            reason = "; ".join(exc.problems)
            included = main.path.parent / str(name)
            problems.append(
                origins.problem(main, line, f"include.{index}: cannot include {included}: {reason}")
            )
            continue
        origins.claim(("include", index), doc)
        for key, value in doc.data.items():
            if key == "include":
                problems.append(
                    origins.problem(
                        doc,
                        doc.lines.get(("include",), 0),
                        "include: nested includes are not supported",
                    )
                )
            elif key in _MERGED_SECTIONS and isinstance(value, dict):
                section = data.setdefault(key, {})
                if not isinstance(section, dict):
                    continue
                for name_, entry in value.items():
                    if name_ not in main.data.get(key, {}):
                        section[name_] = entry
                        origins.claim((key, name_), doc)
            elif key not in main.data:
                data[key] = value
                origins.claim((key,), doc)
    return data


def _apply_env(
    data: dict[str, Any], environ: Mapping[str, str], origins: _Origins, problems: list[_Problem]
) -> None:
    """Apply `WATCHER_A__B=value` overrides onto the merged data."""
    for var in sorted(environ):
        if not var.startswith(ENV_PREFIX) or var in _ENV_NOT_KEYS:
            continue
        path: KeyPath
        if var in _ENV_ALIASES:
            path = _ENV_ALIASES[var]
        else:
            path = tuple(part.lower() for part in var[len(ENV_PREFIX) :].split("__"))
        if not all(path):
            problems.append(
                _Problem(_ENV_RANK, 0, f"environment variable {var}: empty key between '__'")
            )
            continue
        try:
            value = yaml.safe_load(environ[var]) if environ[var] else None
        except yaml.YAMLError:
            value = environ[var]
        if path in _SECRET_KEYS:
            value = environ[var]
        target: Any = data
        for part in path[:-1]:
            nxt = target.get(part) if isinstance(target, dict) else None
            if nxt is None:
                nxt = {}
                target[part] = nxt
            target = nxt
        if not isinstance(target, dict):
            problems.append(
                _Problem(
                    _ENV_RANK,
                    0,
                    f"environment variable {var}: {'.'.join(map(str, path[:-1]))} is not a mapping",
                )
            )
            continue
        target[path[-1]] = value
        origins.env[path] = var


def _guess_kinds(
    data: dict[str, Any], origins: _Origins, problems: list[_Problem]
) -> dict[str, Any]:
    """A source whose `kind` is a near miss ("fed") is reported, then checked as the
    nearest kind, so its other mistakes are in the same report."""
    sources = data.get("sources")
    if not isinstance(sources, list):
        return data
    guessed = list(sources)
    for index, source in enumerate(sources):
        if not isinstance(source, dict) or "kind" not in source:
            continue
        kind = source["kind"]
        if not isinstance(kind, str) or kind in _UNION_TAGS:
            continue
        close = nearest(kind, sorted(_UNION_TAGS))
        if not close:
            continue  # no near kind: the schema's own message lists the kinds
        problems.append(
            origins.at(
                ("sources", index, "kind"),
                f"unknown kind {kind!r}{did_you_mean(kind, close)} (expected one of: {_KIND_LIST})",
            )
        )
        guessed[index] = {**source, "kind": close[0]}
    return {**data, "sources": guessed}


def _describe(exc: ValidationError, data: Mapping[str, Any], origins: _Origins) -> list[_Problem]:
    """One problem per validation error: `file:line: key.path: what was expected`."""
    out = []
    for error in exc.errors():
        raw_loc = tuple(error["loc"])
        if not _this_branch(raw_loc, data):
            continue
        loc = tuple(p for p in raw_loc if not _is_branch_tag(p))
        if _reported_as_reference(loc, error["type"]):
            continue
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            known = _known_keys(raw_loc[:-1])
            hint = did_you_mean(str(raw_loc[-1]), known) if known else ""
            message = f"unknown key{hint}" if hint else "unknown key (see `watcher config-schema`)"
        elif error["type"] == "missing":
            message = "required key is missing"
        elif error["type"] == "union_tag_invalid":
            message = f"unknown kind {error['ctx']['tag']!r}; expected one of: {_KIND_LIST}"
            loc = (*loc, "kind")
        elif error["type"] == "union_tag_not_found":
            message = f"missing `kind:` ({_KIND_LIST})"
        elif error["type"] == "model_type" and loc[:1] == ("concepts",):
            message = "expected a list of terms, or a mapping with `terms:`"
        out.append(origins.at(loc, message))
    return out


def _reported_as_reference(loc: KeyPath, error_type: str) -> bool:
    """A subscriber's signal type spelt against the pattern is also an unknown type, which
    `reference_problems` reports with the nearest known one: one problem, not two."""
    return (
        error_type == "string_pattern_mismatch"
        and len(loc) == 4
        and loc[0] == "subscribers"
        and loc[2] == "signals"
    )


def _is_branch_tag(part: str | int) -> bool:
    """A union member's name that pydantic puts into error paths (`feed`, `list[str]`)."""
    return isinstance(part, str) and (
        part in _UNION_TAGS or part.startswith(("list[", "function-after["))
    )


def _this_branch(loc: KeyPath, data: Mapping[str, Any]) -> bool:
    """False for errors of a concept's union member its value is not written as.

    A concept is a list of terms or a mapping; pydantic tries both and reports both
    failures, but only the one matching how the value is written says anything useful.
    """
    if len(loc) < 3 or loc[0] != "concepts" or not isinstance(loc[2], str):
        return True
    concepts = data.get("concepts")
    value = concepts.get(loc[1]) if isinstance(concepts, Mapping) else None
    if loc[2].startswith("list["):
        return not isinstance(value, Mapping)
    if loc[2].startswith("function-after["):
        return isinstance(value, Mapping)
    return True


def _known_keys(loc: KeyPath) -> list[str]:
    """The keys the model at `loc` (an error path, union tags included) accepts."""
    target: Any = WatcherConfig
    for part in loc:
        target = _step(_unwrap(target), part)
        if target is None:
            return []
    model = _unwrap(target)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return [field.alias or name for name, field in model.model_fields.items()]
    return []


def _unwrap(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _step(annotation: Any, part: str | int) -> Any:
    """The type one key path step below `annotation`, or None when it cannot be told."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, field in annotation.model_fields.items():
            if part in (name, field.alias):
                return field.annotation
        return None
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is list and isinstance(part, int):
        return args[0]
    if origin is dict:
        return args[1]
    if origin in (Union, UnionType) and isinstance(part, str):
        for member in map(_unwrap, args):
            if not (isinstance(member, type) and issubclass(member, BaseModel)):
                continue
            kind = member.model_fields.get("kind")
            tags = get_args(kind.annotation) if kind is not None else ()
            if part in tags or member.__name__ in part:
                return member
    return None


# The `kind` values of the source union: pydantic puts the matched tag into error paths.
_UNION_TAGS = {
    tag
    for model in get_args(get_args(Source)[0])
    for tag in get_args(model.model_fields["kind"].annotation)
}
_KIND_LIST = ", ".join(sorted(_UNION_TAGS))


def _get(data: Any, path: KeyPath) -> Any:
    for part in path:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data
