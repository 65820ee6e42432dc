"""One measured run of one scenario, in a fresh process: `python -m bench.worker NAME PARAMS OUT`.

This is the measured process's main module, and the service's parser workers re-run
their main module (`watcher.concurrency.pool`; the forkserver imports it by name): so
it imports nothing at its top, as the `watcher` command's own entry (`watcher.__main__`)
does not, and the worker processes measured here hold what a user's hold. The
scenarios are in `bench.scenarios`.
"""

from __future__ import annotations


def main() -> None:
    """Run the scenario named on the command line (`bench.scenarios.main`)."""
    from bench.scenarios import main as run

    run()


if __name__ == "__main__":
    main()
