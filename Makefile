# Two commands matter: `make serve` (or `make build`) and `make test`. Each sets itself up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The Node releases besides the dependency's (Node 20 and 22, pinned in runtimes/install.py) and
# the Mermaid that draws the diagrams (pinned in site/mermaid.py).
RUNTIMES := $(VENV)/.runtimes
# Material prints a notice about MkDocs 2 on every build; it is not about this site.
export NO_MKDOCS_2_WARNING := 1
# mkdocs-gen-files prints its own notice about it (from the properdocs package).
export DISABLE_MKDOCS_2_WARNING := true

.PHONY: serve build test lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("looplens needs Python 3.11+") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

$(RUNTIMES): $(STAMP) plugin/looplens/runtimes/install.py plugin/looplens/site/mermaid.py
	$(BIN)/looplens install
	touch $(RUNTIMES)

serve: $(RUNTIMES)
	$(BIN)/mkdocs serve

build: $(RUNTIMES)
	$(BIN)/mkdocs build --strict

lint: $(STAMP)
	$(BIN)/ruff check plugin tests benchmarks tools
	$(BIN)/ruff format --check plugin tests benchmarks tools
	$(BIN)/mypy

test: $(RUNTIMES)
	$(BIN)/ruff check plugin tests benchmarks tools
	$(BIN)/ruff format --check plugin tests benchmarks tools
	$(BIN)/mypy
	$(BIN)/pytest

clean:
	rm -rf $(VENV) site .cache
