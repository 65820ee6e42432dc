"""Hot reload: notice a changed config, and say exactly what changed.

`config_fingerprint` hashes the config file and every file it includes, so editing
`rules.yaml` counts. `diff_configs` compares two validated configs; the daemon applies
the difference (sources added/removed/rescheduled, rules and subscribers replaced) and
logs it as one event. Settings that shape open resources (database, data folder,
HTTP client, probe server) need a restart; the diff names them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml

from watcher.config import WatcherConfig

RESTART_KEYS = ("data_dir", "database", "http", "web")
LIVE_KEYS = (
    "log",
    "mail",
    "smtp",
    "dispatcher",
    "service",
    "admins",
    "public",
    "webhook",
    "apprise",
)


@dataclass(frozen=True, slots=True)
class ConfigDiff:
    """What differs between the running config and a new one."""

    sources_added: tuple[str, ...] = ()
    sources_removed: tuple[str, ...] = ()
    sources_changed: tuple[str, ...] = ()
    rules_changed: bool = False
    subscribers_changed: bool = False
    settings_changed: tuple[str, ...] = ()
    restart_required: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """True when nothing differs."""
        return not (
            self.sources_added
            or self.sources_removed
            or self.sources_changed
            or self.rules_changed
            or self.subscribers_changed
            or self.settings_changed
            or self.restart_required
        )

    def as_log(self) -> dict[str, object]:
        """The non-empty parts, for one `config_reloaded` log event."""
        fields: dict[str, object] = {
            "sources_added": list(self.sources_added),
            "sources_removed": list(self.sources_removed),
            "sources_changed": list(self.sources_changed),
            "rules_changed": self.rules_changed,
            "subscribers_changed": self.subscribers_changed,
            "settings_changed": list(self.settings_changed),
            "restart_required": list(self.restart_required),
        }
        return {k: v for k, v in fields.items() if v}


def diff_configs(old: WatcherConfig, new: WatcherConfig) -> ConfigDiff:
    """The difference between two validated configurations."""
    old_sources = {s.name: s for s in old.sources}
    new_sources = {s.name: s for s in new.sources}
    return ConfigDiff(
        sources_added=tuple(n for n in new_sources if n not in old_sources),
        sources_removed=tuple(n for n in old_sources if n not in new_sources),
        sources_changed=tuple(
            n for n in new_sources if n in old_sources and new_sources[n] != old_sources[n]
        ),
        rules_changed=old.concepts != new.concepts or old.signals != new.signals,
        subscribers_changed=old.subscribers != new.subscribers,
        settings_changed=tuple(
            k for k in LIVE_KEYS if hasattr(new, k) and getattr(old, k) != getattr(new, k)
        ),
        restart_required=tuple(
            k for k in RESTART_KEYS if hasattr(new, k) and getattr(old, k) != getattr(new, k)
        )
        + (("public",) if _listener(old) != _listener(new) else ()),
    )


def emptied_sections(old: WatcherConfig, new: WatcherConfig) -> list[str]:
    """Sections the running config has and `new` empties without saying so (`allow_empty`).

    An editor caught mid-save leaves an empty or cut file, which is valid YAML: applying
    it would drop every source, subscriber or rule. Such a reload is refused.
    """
    had = {"sources": old.sources, "subscribers": old.subscribers, "signals": old.signals}
    return [name for name in new.empty_sections() if had[name]]


def emptiness_problem(sections: list[str]) -> str:
    """What `check-config` and a refused reload say about sections left empty."""
    names = ", ".join(sections)
    return (
        f"the file has no {names}: a hot reload to it is refused (an editor's half-saved"
        f" file looks like this); if that is meant, say so: allow_empty: [{names}]"
    )


def _listener(config: WatcherConfig) -> tuple[bool, str, int]:
    """Where the public endpoint listens: a change needs a restart (its links and feeds
    apply live)."""
    return config.public.enabled, config.public.host, config.public.port


def config_fingerprint(path: Path) -> str:
    """A hash of the config file and the files it includes; "" when the file is unreadable."""
    digest = hashlib.sha256()
    try:
        main = path.read_bytes()
    except OSError:
        return ""
    digest.update(main)
    try:
        includes = (yaml.safe_load(main) or {}).get("include") or []
    except (yaml.YAMLError, AttributeError):
        includes = []
    for name in includes if isinstance(includes, list) else []:
        try:
            digest.update((path.parent / str(name)).read_bytes())
        except OSError:
            digest.update(b"\0missing:" + str(name).encode())
    return digest.hexdigest()
