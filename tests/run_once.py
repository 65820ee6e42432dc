"""`watcher run --once` inside a fresh interpreter, for tests that look at that process.

`RUN_ONCE` is the start of a `python -c` script: it runs `watcher run --once --config
sys.argv[1]` in the interpreter itself (not a child), catches its exit and leaves the code
in `code`; a test appends what it wants printed of the process's state afterwards.
"""

RUN_ONCE = """
import sys
from watcher.__main__ import main
sys.argv = ["watcher", "run", "--once", "--config", sys.argv[1]]
try:
    main()
except SystemExit as exc:
    code = exc.code
"""
