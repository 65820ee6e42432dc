"""`watcher run [--once] [--config PATH]` started without the command-line framework.

Every cron round of `watcher run --once` is a fresh process, so what the process does
before its round counts in every round. Typer and the command tree it builds from every
command's signature cost about 25 ms of CPU per start; the service needs neither. The
console script's `watcher.__main__.main` asks `run_arguments` first: a plain `run`
command line (`run`, `--once`, `--config PATH` / `--config=PATH` / `-c PATH`, each at most
once) starts here, through `run_service`, with what the Typer command does: the same
config loading and messages, logging, exit statuses, and the same answers to Ctrl-C
(130), end of input (`Aborted!`, 1) and a closed pipe (1). Anything else (help, another
command, an unusual spelling, shell completion) goes to the Typer app in
`watcher.cli.app`, whose `run` command calls the same `run_service`.

Importing this module imports nothing beyond the standard library: the config, the
store and the service load when `run_service` runs.
"""

from __future__ import annotations

import asyncio
import errno
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from watcher.config import WatcherConfig

DEFAULT_CONFIG = Path("config/watcher.yaml")
CONFIG_ENV = "WATCHER_CONFIG"
_CONFIG_FLAGS = ("--config", "-c")


class StartRefused(Exception):
    """A command cannot start or go on: `message` goes to stderr, then exit `code`."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def load_settings(path: Path) -> WatcherConfig:
    """The validated config at `path`; `StartRefused` (exit 2) listing every problem.

    The default path that is not here is refused with how to name a config instead.
    """
    from watcher.config import load_config
    from watcher.domain.errors import ConfigError

    if path == DEFAULT_CONFIG and not path.exists():
        raise StartRefused(
            f"error: no config file {DEFAULT_CONFIG} in {Path.cwd()}: run from the"
            " project folder, give --config PATH, or set WATCHER_CONFIG",
            2,
        )
    try:
        return load_config(path)
    except ConfigError as exc:
        raise StartRefused(f"error: invalid configuration\n{exc}", 2) from None


def run_service(config: Path, once: bool) -> int:
    """`watcher run`: the daemon until SIGTERM/SIGINT, or one round with `once`; the exit
    status. `StartRefused` when the config is unusable (2) or the service cannot start (1).
    """
    from watcher.domain.errors import ServiceError, StoreError
    from watcher.ops.log import configure_logging
    from watcher.ops.memory import collection_paused, settle_start_up
    from watcher.ops.progress import progress_bar

    with collection_paused():  # start-up: what it makes lives on, then frozen
        settings = load_settings(config)
        configure_logging(settings.log.level, settings.log.format)
        # each mode imports only what it runs: `--once` needs no scheduler, probes or metrics
        if once:
            from watcher.service.rounds import run_once
        else:
            from watcher.service.daemon import Daemon
    settle_start_up()
    try:
        if once:
            enabled = sum(1 for source in settings.sources if source.enabled)
            with progress_bar("Polling sources", enabled) as advance:
                return asyncio.run(run_once(settings, advance))
        return asyncio.run(Daemon(settings, config).run())
    except (ServiceError, StoreError) as exc:  # cannot start: one line, not a traceback
        raise StartRefused(f"error: {exc}", 1) from None


def run_arguments(argv: Sequence[str], environ: Mapping[str, str]) -> tuple[Path, bool] | None:
    """`(config, once)` when `argv` (without the program name) is a plain `run` command
    line that `run_service` can start; None for anything the Typer app must read.

    The config is `--config`'s value, else `WATCHER_CONFIG` when set and not empty (as
    the Typer option reads it), else `DEFAULT_CONFIG`. Declined: help, any other option
    or argument, an option given twice, an empty or dash-led path, and a shell
    completion request (`_WATCHER_COMPLETE`-style variables).
    """
    if not argv or argv[0] != "run" or _completion_requested(environ):
        return None
    once = False
    config: str | None = None
    rest = iter(argv[1:])
    for token in rest:
        if token == "--once" and not once:
            once = True
            continue
        if config is not None:
            return None
        if token in _CONFIG_FLAGS:
            config = next(rest, "")
        elif token.startswith("--config="):
            config = token.removeprefix("--config=")
        else:
            return None
        if not config or config.startswith("-"):
            return None
    if config is None:
        config = environ.get(CONFIG_ENV) or str(DEFAULT_CONFIG)
    return Path(config), once


def _completion_requested(environ: Mapping[str, str]) -> bool:
    return any(name.startswith("_") and name.endswith("_COMPLETE") for name in environ)


def start(argv: Sequence[str], environ: Mapping[str, str]) -> bool:
    """Run `argv` here when `run_arguments` accepts it (never returns: exits with the
    service's status); False when the Typer app must take it.

    Ends as the Typer command would: `StartRefused`'s message on stderr and its status,
    130 on Ctrl-C, `Aborted!` and 1 at the end of input, 1 quietly on a closed pipe.
    """
    request = run_arguments(argv, environ)
    if request is None:
        return False
    config, once = request
    with _as_the_command_line_ends():
        code = run_service(config, once)
    sys.exit(code)


@contextmanager
def _as_the_command_line_ends() -> Iterator[None]:
    try:
        yield
    except StartRefused as exc:
        _exit_with(exc.message, exc.code)
    except KeyboardInterrupt:
        sys.exit(130)
    except EOFError:
        sys.stderr.write("\n")
        _exit_with("Aborted!", 1)
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        _quiet_closed_pipes()
        sys.exit(1)


def _exit_with(message: str, code: int) -> NoReturn:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
    sys.exit(code)


class _QuietFlush:
    """A stream whose flush ignores a closed pipe (the interpreter flushes at exit)."""

    def __init__(self, wrapped: object) -> None:
        self._wrapped = wrapped

    def flush(self) -> None:
        try:
            self._wrapped.flush()  # type: ignore[attr-defined]
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                raise

    def __getattr__(self, name: str) -> object:
        return getattr(self._wrapped, name)


def _quiet_closed_pipes() -> None:
    sys.stdout = _QuietFlush(sys.stdout)
    sys.stderr = _QuietFlush(sys.stderr)
