# The two set-up commands of the README: `make serve` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install serve test lint bench

$(BIN)/byok: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(BIN)/byok

install: $(BIN)/byok

serve: install
	$(BIN)/byok serve

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check src tests migrations $(wildcard bench)
	$(BIN)/ruff format --check src tests migrations $(wildcard bench)
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/gateway_overhead.py
