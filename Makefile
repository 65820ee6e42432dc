# One entry point for every task. `make run` and `make test` work on a fresh clone:
# they create the virtual environment and install what they need.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
CONFIG ?= config/watcher.yaml


.PHONY: run run-once test lint typecheck format eval eval-sources bench lock image clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Pinned versions from the lock files (the Dockerfile and CI install the same), then the
# project itself without re-resolving its dependencies. A local install has the optional
# full-text extraction too (requirements-fulltext.lock); the image leaves it out unless
# asked (make image EXTRAS=fulltext).
# Installing the project (setup.py) compiles the classifier's hot modules with mypyc
# (watcher/compiled.py lists them), so both stamps stand for the extensions too.
$(VENV)/.installed: pyproject.toml setup.py requirements-fulltext.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-fulltext.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@ $(VENV)/.compiled

$(VENV)/.installed-dev: pyproject.toml setup.py requirements-dev.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(VENV)/.installed $(VENV)/.compiled $@

# The extensions again when a compiled module's source (or the list) changed since they
# were built: an extension older than its source is never imported (watcher/compiled.py
# falls back to the sources), so an edit is never shadowed, only slower until this runs.
COMPILED_SOURCES := watcher/compiled.py $(shell sed -n 's/^    "\(watcher\.[a-z_.]*\)",$$/\1/p' \
	watcher/compiled.py | tr . / | sed 's/$$/.py/')
$(VENV)/.compiled: $(COMPILED_SOURCES) | $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

run: $(VENV)/.installed $(VENV)/.compiled  ## set up and run the daemon on config/watcher.yaml (Ctrl-C stops it)
	$(BIN)/watcher run --config $(CONFIG)

run-once: $(VENV)/.installed $(VENV)/.compiled  ## poll every source once, deliver what is due, exit
	$(BIN)/watcher run --once --config $(CONFIG)

test: $(VENV)/.installed-dev $(VENV)/.compiled  ## set up and run the whole test suite
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

# Every scenario of bench/README.md against the real service, one table: the budgeted scenarios in ≤ 10 min, then the peer (~3 min a pair) and the HTTP clients.
# Knobs go in BENCH_ARGS, e.g. make bench BENCH_ARGS="--n 200 --runs 5".
bench: $(VENV)/.installed-dev  ## benchmark: feed farm + SMTP sink on 127.0.0.1, prints one table
	$(BIN)/python -m bench.run $(BENCH_ARGS)

lock: $(VENV)/.installed-dev  ## re-pin requirements*.lock after changing pyproject.toml
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 -q -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra fulltext --universal --python-version 3.11 -q -o requirements-fulltext.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 -q -o requirements-dev.lock

# The container image, with docker where a Docker engine answers, else with buildah (the
# Debian base made locally where no registry answers): scripts/build-image.sh.
IMAGE  ?= supply-watcher:latest
EXTRAS ?=
image:  ## build the container image IMAGE; EXTRAS=fulltext adds full-text extraction
	TAG=$(IMAGE) EXTRAS=$(EXTRAS) scripts/build-image.sh

eval-sources: $(VENV)/.installed-dev  ## story clustering precision/recall; feedparser corpus counts
	$(BIN)/python -m bench.stories
	$(BIN)/python -m bench.corpus

# The rules on the two labelled sets, each on its dev and held-back split, with figures per
# language (README, "Classifier quality"). Held-back figures never list their errors: rules
# are written against dev only. `watcher eval FILE --split dev` lists the dev errors.
SYNTHETIC ?= tests/data/classify/devset.jsonl
REALTEXT  ?= tests/data/realtext/corpus.jsonl

eval: $(VENV)/.installed  ## macro-F1, per-type P/R/F1, direction, easing-as-tightening: both sets, both splits
	@echo "### synthetic set ($(SYNTHETIC))"
	@$(BIN)/watcher eval $(SYNTHETIC) --config $(CONFIG) --split dev --no-errors
	@$(BIN)/watcher eval $(SYNTHETIC) --config $(CONFIG) --split heldout --no-errors
	@echo "### real-text corpus ($(REALTEXT))"
	@$(BIN)/watcher eval $(REALTEXT) --config $(CONFIG) --split dev --no-errors
	@$(BIN)/watcher eval $(REALTEXT) --config $(CONFIG) --split heldout --no-errors

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build watcher_compiled__mypyc*.so
	find watcher -name '*.so' -delete
