# One entry point for every task. `make run` and `make test` work on a fresh clone:
# they create the virtual environment and install what they need.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
CONFIG ?= config/watcher.yaml


.PHONY: run run-once test lint typecheck format eval eval-sources bench lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Pinned versions from the lock files (the Dockerfile and CI install the same), then the
# project itself without re-resolving its dependencies.
$(VENV)/.installed: pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml requirements-dev.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(VENV)/.installed $@

run: $(VENV)/.installed  ## set up and run the daemon on config/watcher.yaml (Ctrl-C stops it)
	$(BIN)/watcher run --config $(CONFIG)

run-once: $(VENV)/.installed  ## poll every source once, deliver what is due, exit
	$(BIN)/watcher run --once --config $(CONFIG)

test: $(VENV)/.installed-dev  ## set up and run the whole test suite
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

# Every scenario of bench/README.md against the real service, one table, < 10 min on 2 cores.
# Knobs go in BENCH_ARGS, e.g. make bench BENCH_ARGS="--n 200 --runs 5".
bench: $(VENV)/.installed-dev  ## benchmark: feed farm + SMTP sink on 127.0.0.1, prints one table
	$(BIN)/python -m bench.run $(BENCH_ARGS)

lock: $(VENV)/.installed-dev  ## re-pin requirements*.lock after changing pyproject.toml
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 -q -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 -q -o requirements-dev.lock

eval-sources: $(VENV)/.installed-dev  ## story clustering precision/recall; feedparser corpus counts
	$(BIN)/python -m bench.stories
	$(BIN)/python -m bench.corpus

LABELLED ?= tests/data/classify/devset.jsonl

eval: $(VENV)/.installed  ## precision, recall, F1, direction accuracy and errors of the rules, per split
	$(BIN)/watcher eval $(LABELLED) --config $(CONFIG) --split dev
	$(BIN)/watcher eval $(LABELLED) --config $(CONFIG) --split heldout

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
