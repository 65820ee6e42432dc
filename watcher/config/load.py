"""Read the configuration: YAML files, includes, environment overrides, clear errors.

`load_config(path)` returns a validated `WatcherConfig` or raises `ConfigError` whose
message names the file, the line, the key path and what was expected, for every
problem at once.

Environment variables override the file: `WATCHER_SMTP__HOST=mail.example.com` sets
`smtp.host` (double underscore between levels; the value is read as YAML, so `true`,
`25` and `[a, b]` have their types). `WATCHER_DATABASE_URL` is accepted for
`database.url`. Secrets (`smtp.password`) are refused in files: they come from the
environment or from a `*_file` path.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import ValidationError

from watcher.config.schema import Source, WatcherConfig
from watcher.domain.errors import ConfigError

ENV_PREFIX = "WATCHER_"
_ENV_NOT_KEYS = {"WATCHER_CONFIG"}
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
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            data = yaml.safe_load(text)
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
        self.lines: dict[KeyPath, int] = {}
        if node is not None:
            self._index(node, ())

    def _index(self, node: yaml.Node, path: KeyPath) -> None:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                self.lines[(*path, key.value)] = key.start_mark.line + 1
                self._index(value, (*path, key.value))
        elif isinstance(node, yaml.SequenceNode):
            for index, value in enumerate(node.value):
                self._index(value, (*path, index))


class _Origins:
    """Which file (and line) each key path of the merged configuration came from."""

    def __init__(self) -> None:
        self._owners: list[tuple[KeyPath, _Document]] = []
        self.env: dict[KeyPath, str] = {}

    def claim(self, prefix: KeyPath, doc: _Document) -> None:
        self._owners.append((prefix, doc))

    def locate(self, path: KeyPath) -> str:
        for prefix, var in self.env.items():
            if path[: len(prefix)] == prefix:
                return f"environment variable {var}"
        best: tuple[int, _Document] | None = None
        for prefix, doc in self._owners:
            if path[: len(prefix)] == prefix and (best is None or len(prefix) >= best[0]):
                best = (len(prefix), doc)
        if best is None:
            return ""
        doc = best[1]
        for cut in range(len(path), -1, -1):
            line = doc.lines.get(path[:cut])
            if line is not None:
                return f"{doc.path}:{line}"
        return str(doc.path)


def load_config(path: str | Path, environ: Mapping[str, str] | None = None) -> WatcherConfig:
    """Read, merge and validate the configuration at `path`; raise `ConfigError` if unusable."""
    environ = os.environ if environ is None else environ
    main = _Document(Path(path))
    origins = _Origins()
    origins.claim((), main)
    problems: list[str] = []
    for key in _SECRET_KEYS:
        if _get(main.data, key) is not None:
            dotted = ".".join(map(str, key))
            env_name = ENV_PREFIX + "__".join(k.upper() for k in map(str, key))
            problems.append(
                f"{main.path}:{main.lines.get(key, 0)}: {dotted}: secrets do not belong in the"
                f" config file; set {env_name} or {dotted}_file"
            )
    data = _merge_includes(main, origins, problems)
    _apply_env(data, environ, origins, problems)
    if problems:
        raise ConfigError(problems, str(main.path))
    try:
        return WatcherConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, origins), str(main.path)) from None


def _merge_includes(main: _Document, origins: _Origins, problems: list[str]) -> dict[str, Any]:
    """Merge `include:` files into the main file; the main file wins key by key."""
    data = dict(main.data)
    includes = data.get("include", [])
    if not isinstance(includes, list):
        problems.append(f"{main.path}: include: expected a list of file names")
        return data
    for name in includes:
        doc = _Document(main.path.parent / str(name))
        for key, value in doc.data.items():
            if key == "include":
                problems.append(f"{doc.path}: include: nested includes are not supported")
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
    data: dict[str, Any], environ: Mapping[str, str], origins: _Origins, problems: list[str]
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
            problems.append(f"environment variable {var}: empty key between '__'")
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
                f"environment variable {var}: {'.'.join(map(str, path[:-1]))} is not a mapping"
            )
            continue
        target[path[-1]] = value
        origins.env[path] = var


def _describe(exc: ValidationError, origins: _Origins) -> list[str]:
    """One line per validation problem: `file:line: key.path: what was expected`."""
    out = []
    for error in exc.errors():
        loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p in _UNION_TAGS))
        message = error["msg"].removeprefix("Value error, ")
        if not loc and ":" in message:
            # model-level checks put the key path at the front of their message
            dotted, _, rest = message.partition(":")
            loc = tuple(int(p) if p.isdigit() else p for p in dotted.split("."))
            message = rest.strip()
        where = origins.locate(loc)
        dotted = ".".join(map(str, loc)) or "(top level)"
        if error["type"] == "extra_forbidden":
            message = "unknown key (check the spelling; see `watcher config-schema`)"
        elif error["type"] == "missing":
            message = "required key is missing"
        elif error["type"] == "union_tag_invalid":
            message = f"unknown kind; expected one of: {error['ctx']['expected_tags']}"
        elif error["type"] == "union_tag_not_found":
            message = "missing `kind:` (feed, page or files)"
        out.append(f"{where}: {dotted}: {message}" if where else f"{dotted}: {message}")
    return out


# The `kind` values of the source union: pydantic puts the matched tag into error paths.
_UNION_TAGS = {
    tag
    for model in get_args(get_args(Source)[0])
    for tag in get_args(model.model_fields["kind"].annotation)
}


def _get(data: Any, path: KeyPath) -> Any:
    for part in path:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data
