# drift-healer — every command bootstraps its own virtual environment from the lock file.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help demo test lint fmt bench lock clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements/dev.lock
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

demo: $(STAMP) ## heal a drifted stack in the embedded sandbox, end to end
	$(BIN)/drift-healer demo

test: $(STAMP) ## run the test suite (sandbox + local durable runner; no AWS)
	$(BIN)/python -m pytest -q

lint: $(STAMP) ## ruff and mypy (strict on src/)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy

fmt: $(STAMP) ## format the code
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

lock: ## re-resolve the pinned dependencies into requirements/*.lock (needs the registry)
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/python -m pip install --quiet --upgrade pip
	.lockenv/bin/python -m pip install --quiet -e '.[dev]'
	.lockenv/bin/python -m pip freeze --exclude-editable | grep -v '^-e' > requirements/dev.lock
	rm -rf .lockenv

clean: ## remove the virtual environment and build output
	rm -rf $(VENV) .lockenv build dist .pytest_cache .mypy_cache .ruff_cache
