# The flow, one direction only (see README "Preparation"):
#   data/raw/<bulletin>/ + data/reference/ + schema/package.yaml
#     -> data/*.csv (scripts/extract.py) + datapackage.json (scripts/build_descriptor.py)
#     -> checked in a staging folder (scripts/validate.py), then published (scripts/publish.py)
# Targets are real files with real prerequisites: a second `make` does nothing.

SHELL := /bin/bash
.DEFAULT_GOAL := data
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Table names come from the descriptor's source (schema/package.yaml), not a list typed here.
TABLE_NAMES := $(shell sed -n '/^resources:/,$$ s/^  - name: //p' schema/package.yaml)
TABLES := $(patsubst %,data/%.csv,$(TABLE_NAMES))
RAW := $(wildcard data/raw/*/source.txt data/raw/*/metadata.yaml data/raw/*/annotations.yaml) \
       $(wildcard data/reference/*.yaml)
BUILD_CODE := scripts/publish.py scripts/extract.py scripts/derive.py scripts/recognise.py scripts/coverage.py \
              scripts/build_descriptor.py scripts/validate.py scripts/common.py

.PHONY: data validate test clean serve

data: datapackage.json

# The virtual environment, from pinned requirements. Order-only for the data:
# a new venv does not make the data stale.
$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' || \
	  { echo "error: Python 3.11 or newer is needed as '$(PYTHON)' (set PYTHON=...)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# Extract, describe and validate in a staging folder; publish only a valid package.
$(TABLES) datapackage.json &: $(RAW) schema/package.yaml $(BUILD_CODE) | $(STAMP)
	$(PY) -m scripts.publish

# The validation gate: everything downstream (database, site, release) depends on this stamp.
VALIDATED := build/validated.stamp
validate: $(VALIDATED)
$(VALIDATED): datapackage.json $(TABLES) scripts/validate.py | $(STAMP)
	$(PY) -m scripts.validate
	@mkdir -p $(@D) && touch $@

test: datapackage.json | $(STAMP)
	$(PY) -m pytest

serve:
	@echo "make serve: the Datasette site is not built yet (see the Datasette issue); 'make' builds the data package." >&2
	@exit 1

clean:
	rm -rf build dist .pytest_cache
	rm -f $(TABLES) datapackage.json

# The scale benchmark (prints figures; never a test). SIZES="1 10 100 1000" by default.
SIZES ?= 1 10 100 1000
.PHONY: bench
bench: | $(STAMP)
	$(PY) -m scripts.bench --sizes $(SIZES)
