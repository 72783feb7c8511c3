# The two commands: `make run` serves the Ambon demo city, `make test` runs the whole suite.
SHELL := /bin/bash
VENV := .venv
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test

.PHONY: run test lint setup clean-db

$(STAMP_RUN): pyproject.toml scripts/bootstrap.sh $(wildcard web/package-lock.json)
	bash scripts/bootstrap.sh run
	touch $@

$(STAMP_TEST): pyproject.toml scripts/bootstrap.sh $(wildcard web/package-lock.json)
	bash scripts/bootstrap.sh test
	touch $@ $(STAMP_RUN)

setup: $(STAMP_RUN)

run: $(STAMP_RUN)
	$(VENV)/bin/kendali run

lint: $(STAMP_TEST)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy geo layers api basemaps ingest

test: lint
	$(VENV)/bin/python -m pytest

clean-db:
	$(VENV)/bin/kendali db down || true
	rm -rf .kendali
