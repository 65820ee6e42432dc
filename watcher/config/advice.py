"""Warnings about a valid configuration: settings that load but will not work as meant.

`check-config` prints these after the errors it refuses a config for. A `files` source
whose folder does not exist is one: the folder may be mounted or created later, so it
is not an error, but until then every poll of that source fails.
"""

from __future__ import annotations

from watcher.config.schema import FilesSource, WatcherConfig


def config_warnings(config: WatcherConfig) -> list[str]:
    """One line per setting that validates but will not work as written, in config order."""
    out: list[str] = []
    for index, source in enumerate(config.sources):
        if isinstance(source, FilesSource) and not source.path.is_dir():
            what = "is not a folder" if source.path.exists() else "does not exist"
            out.append(
                f"sources.{index} ({source.name}): folder {source.path} {what};"
                " every poll of this source fails until it does"
            )
    return out
