"""`watcher run` without Typer: the command lines it takes and that it ends as Typer does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from tests.cli import watcher
from tests.conftest import ROOT, WriteConfig
from watcher.cli import app
from watcher.ops.startup import DEFAULT_CONFIG, run_arguments

# (argv after the program name, WATCHER_CONFIG or None)
TAKEN = [
    (["run", "--once", "--config", "a.yaml"], None),
    (["run", "--config", "a.yaml", "--once"], None),
    (["run", "-c", "a.yaml", "--once"], None),
    (["run", "--once", "--config=dir/a b.yaml"], None),
    (["run", "--config", "/abs/a.yaml"], None),
    (["run", "--once"], "from-env.yaml"),
    (["run", "--once"], ""),
    (["run", "--once"], None),
    (["run"], None),
    (["run", "--once", "--config", "a.yaml"], "from-env.yaml"),
]
DECLINED = [
    [],
    ["--version"],
    ["run", "--help"],
    ["run", "--once", "--once"],
    ["run", "--config", "a.yaml", "--config", "b.yaml"],
    ["run", "--config"],
    ["run", "--config", ""],
    ["run", "--config", "--once"],
    ["run", "-ca.yaml"],
    ["run", "--once", "extra"],
    ["run", "--bogus"],
    ["check-config", "--config", "a.yaml"],
    ["--config", "a.yaml", "run"],
]


def _typer_reads(argv: list[str]) -> tuple[Path, bool]:
    """The `config` and `once` the Typer app's `run` command gets for `argv`."""
    group = typer.main.get_command(app)
    command = group.commands[argv[0]]  # type: ignore[attr-defined]
    with command.make_context(argv[0], list(argv[1:])) as ctx:
        return Path(ctx.params["config"]), bool(ctx.params["once"])


@pytest.mark.parametrize(("argv", "env"), TAKEN)
def test_a_plain_run_line_is_read_as_typer_reads_it(
    argv: list[str], env: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every command line taken without Typer gives the config and mode Typer gives."""
    monkeypatch.delenv("WATCHER_CONFIG", raising=False)
    if env is not None:
        monkeypatch.setenv("WATCHER_CONFIG", env)
    taken = run_arguments(argv, os.environ)
    assert taken is not None
    assert taken == _typer_reads(argv)


@pytest.mark.parametrize("argv", DECLINED)
def test_anything_else_goes_to_typer(argv: list[str]) -> None:
    """Help, other commands, repeats, odd spellings and missing values are Typer's."""
    assert run_arguments(argv, {}) is None


def test_a_completion_request_goes_to_typer() -> None:
    """A shell's completion variable hands even a plain line to Typer."""
    assert run_arguments(["run", "--once"], {"_WATCHER_COMPLETE": "bash_source"}) is None
    assert run_arguments(["run", "--once"], {}) == (DEFAULT_CONFIG, True)


def _through_typer(*argv: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(argv))
    return result.exit_code, result.output


@pytest.mark.parametrize("name", ["missing.yaml", "bad.yaml"])
def test_an_unusable_config_ends_as_the_typer_command_ends(
    name: str, tmp_path: Path, write_config: WriteConfig
) -> None:
    """A missing or invalid config: the same message on stderr and exit 2 either way."""
    if name == "bad.yaml":
        good = write_config()
        (tmp_path / name).write_text(
            good.read_text(encoding="utf-8") + "\npolling: {tick: never}\n", encoding="utf-8"
        )
    path = str(tmp_path / name)
    direct = watcher("run", "--once", "--config", path)
    assert direct.returncode == 2
    assert "error: invalid configuration" in direct.stderr
    assert (direct.returncode, direct.stderr) == _through_typer("run", "--once", "--config", path)


def test_no_default_config_ends_as_the_typer_command_ends(tmp_path: Path) -> None:
    """Without `--config` and without the default file, both say how to name one."""
    direct = watcher("run", "--once", cwd=tmp_path)
    assert direct.returncode == 2
    assert "error: no config file config/watcher.yaml in" in direct.stderr
    assert str(tmp_path) in direct.stderr


def _typer_process(*argv: str) -> subprocess.CompletedProcess[str]:
    """The Typer app's command line in a child process: a round configures logging for
    the whole process, so it must not run in the test's own."""
    return subprocess.run(
        [sys.executable, "-c", "from watcher.cli import app; app()", *argv],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_an_idle_round_through_both_doors_exits_0(write_config: WriteConfig) -> None:
    """A config with nothing to poll: one round, exit 0, by the script and by Typer."""
    path = str(write_config())
    direct = watcher("run", "--once", "--config", path)
    assert direct.returncode == 0, direct.stderr
    through_typer = _typer_process("run", "--once", "--config", path)
    assert through_typer.returncode == 0, through_typer.stderr
