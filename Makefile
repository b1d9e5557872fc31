# The README's commands. Each one installs what it needs first (idempotently, inside the repo).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := .deps
PACKAGES := protocol_core runtime oracle_node indexer escalation arbitration devtools worker

export SOLCX_BINARY_PATH := $(CURDIR)/tools
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(BIN):$(PATH)

.PHONY: setup system-packages demo test bench lint clean

setup: $(STAMP)/python $(STAMP)/node system-packages

# Debian packages the tests start as their own servers; checked every time, installed when missing.
system-packages:
	@tools/system-packages.sh

$(STAMP)/python: pyproject.toml requirements.lock
	@mkdir -p $(STAMP)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.8
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $@

$(STAMP)/node: package.json package-lock.json
	@mkdir -p $(STAMP)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

demo: setup
	$(BIN)/ape run demo --verbosity WARNING --network polygon:local:foundry $(DEMO_ARGS)

test: setup
	@# Once, before the two test workers start: on a fresh machine both would install the contracts'
	@# dependencies into ~/.ape at the same moment and one of them fails ("File exists").
	$(BIN)/ape compile --verbosity WARNING
	$(BIN)/ape test tests -q --network polygon:local:foundry -n 2 --dist loadgroup

bench: setup
	$(BIN)/python bench/gas.py
	$(BIN)/python bench/oracle.py
	$(BIN)/python bench/arbitration.py
	$(BIN)/python bench/escalation.py
	$(BIN)/python bench/desk.py
	$(BIN)/python bench/desk_posts.py
	$(BIN)/python bench/indexer.py
	$(BIN)/python bench/matching.py
	$(BIN)/python bench/time_to_accept.py
	$(BIN)/python bench/worker_app.py

lint: setup
	$(BIN)/ruff check $(PACKAGES) scripts tests bench tools
	$(BIN)/ruff format --check $(PACKAGES) scripts tests bench tools
	$(BIN)/mypy $(PACKAGES)
	$(BIN)/python tools/slither.py

clean:
	rm -rf $(VENV) node_modules $(STAMP) .build contracts/.cache
