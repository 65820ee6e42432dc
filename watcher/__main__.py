"""`python -m watcher` and the `watcher` console script: the command-line interface.

The console script's entry point (`watcher = "watcher.__main__:main"`) is this module,
which imports nothing at its top. Every parser worker re-runs the script's main module
(`watcher.concurrency.pool`), so whatever the entry point's module imports every
worker holds too: with `watcher.cli` that was the whole command line (the store, the
ORM, Typer), about 25 MB more in the forkserver and in each worker. The command line
loads when `main` runs.
"""


def main() -> None:
    """Run the `watcher` command line (imported now, not when this module is).

    A plain `watcher run [--once] [--config PATH]` starts without Typer
    (`watcher.ops.startup`: about 25 ms of CPU less per cron round); every other command
    line goes to the Typer app.
    """
    import os
    import sys

    from watcher.ops.memory import collection_paused
    from watcher.ops.startup import start

    os.environ.setdefault("PYTHONIOENCODING", "utf-8")  # as `watcher.cli.app.main` does
    if start(sys.argv[1:], os.environ):
        return

    # importing the command line makes objects that live as long as the process: no
    # collection meanwhile, frozen afterwards (`watcher.ops.memory.collection_paused`)
    with collection_paused():
        from watcher.cli.app import main as run
    run()


if __name__ == "__main__":
    main()
