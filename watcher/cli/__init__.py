"""The `watcher` command line: one module per group of commands, wired in `app`."""

from watcher.cli.app import app, main

__all__ = ["app", "main"]
