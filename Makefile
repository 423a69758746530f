# The two commands: `make up` (a cluster running) and `make test` (everything checked).
# `make install` is idempotent: apt packages, the venv, base images.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
DATA ?= $(CURDIR)/.kubelite

.PHONY: install up down test lint unit bench clean

install: $(VENV)/.installed
	@bash scripts/install-images.sh $(PY)

$(VENV)/.installed: pyproject.toml scripts/install-system.sh
	bash scripts/install-system.sh
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

up: install
	$(VENV)/bin/kubelite up --data-dir $(DATA)

down:
	$(VENV)/bin/kubelite down --data-dir $(DATA)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check . || true
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: install
	bash scripts/ensure-postgres.sh
	$(MAKE) lint
	$(VENV)/bin/pytest -q $(PYTEST_ARGS)

bench: install
	for b in bench/*.py; do $(PY) $$b; done

clean:
	rm -rf $(VENV) *.egg-info
