# Lockgate developer commands. Every target bootstraps its own virtual environment (.venv)
# from the committed lockfile (uv.lock) on a fresh machine; only python3 (3.11) is needed.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV := .venv
BIN := $(VENV)/bin

.PHONY: help demo test bench bench-quick lint fmt typecheck check services clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-extras --python $(PYTHON)
	touch $@

venv: $(VENV)/.synced

demo: $(VENV)/.synced ## run the server on the embedded store with a seeded, realistic demo
	$(BIN)/lockgate demo

services: ## start PostgreSQL and Redis on loopback if they are down
	bash scripts/ensure-services.sh

test: $(VENV)/.synced services ## run the whole test suite (SQLite and PostgreSQL)
	$(BIN)/lint-imports
	$(BIN)/pytest -n 2 -p no:cacheprovider --cov=lockgate --cov-report=term:skip-covered \
		--cov-fail-under=90

bench: $(VENV)/.synced services ## run the benchmarks against their peers (long)
	$(BIN)/python benchmarks/tracking.py
	$(BIN)/python benchmarks/serving.py
	$(BIN)/python benchmarks/evaluation.py

bench-quick: $(VENV)/.synced services ## a small version of the benchmarks (a few minutes)
	$(BIN)/python benchmarks/tracking.py --quick
	$(BIN)/python benchmarks/serving.py --quick
	$(BIN)/python benchmarks/evaluation.py --quick

lint: $(VENV)/.synced ## ruff, import-linter and typos
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/typos src docs README.md

fmt: $(VENV)/.synced ## format and fix what ruff can
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

typecheck: $(VENV)/.synced ## mypy --strict on src/
	$(BIN)/mypy

check: lint typecheck test ## everything CI checks

clean: ## remove the virtual environments and caches
	rm -rf $(VENV) .tools .mypy_cache .ruff_cache .pytest_cache
