# maint: the two commands the README opens with are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export CONTAINERS_CONF := $(CURDIR)/molecule/containers.conf

.PHONY: setup demo test lint typecheck unit molecule bench clean generate

setup: $(STAMP)

# Re-install only when the dependency list changes; otherwise this is instant.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: setup
	$(BIN)/maint demo

# Role defaults, argument_specs options, vars and README tables from the control catalogue
# (runner/catalogue/data/); `--check` lists what is out of date (tests/test_generated.py runs it).
generate: setup
	$(BIN)/python -m runner.catalogue.generate

lint: setup
	$(BIN)/ruff check runner collections maint_devtools tests bench
	$(BIN)/ruff format --check runner collections maint_devtools tests bench
	$(BIN)/yamllint -s .
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/ansible-lint --profile production playbooks roles

typecheck: setup
	$(BIN)/mypy

unit: setup
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/pytest

# Molecule scenarios on real Debian 12 containers (podman); skips loudly when podman does not work.
# One scenario: make molecule SCENARIOS=linux_patching
molecule: setup
	molecule/run.sh $(SCENARIOS)

test: lint typecheck unit molecule

bench: setup
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
