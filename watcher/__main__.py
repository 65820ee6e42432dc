"""`python -m watcher` runs the command-line interface."""

from watcher.cli import main

if __name__ == "__main__":  # parser workers (forkserver) may import the main module
    main()
