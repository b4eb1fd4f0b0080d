# The flow, one direction only (see README "Preparation"):
#   data/raw/<bulletin>/ + data/reference/ + schema/package.yaml
#     -> data/*.csv (scripts/extract.py) -> datapackage.json (scripts/build_descriptor.py)
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
EXTRACT_CODE := scripts/extract.py scripts/derive.py scripts/recognise.py scripts/coverage.py scripts/common.py

.PHONY: data validate test clean serve db loadcheck

data: datapackage.json

# The virtual environment, from pinned requirements. Order-only for the data:
# a new venv does not make the data stale.
$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' || \
	  { echo "error: Python 3.11 or newer is needed as '$(PYTHON)' (set PYTHON=...)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(TABLES) &: $(RAW) schema/package.yaml $(EXTRACT_CODE) | $(STAMP)
	$(PY) -m scripts.extract

datapackage.json: $(TABLES) $(wildcard data/raw/*/source.txt) schema/package.yaml scripts/build_descriptor.py scripts/common.py | $(STAMP)
	$(PY) -m scripts.build_descriptor

# The validation gate: everything downstream (database, site, release) depends on this stamp.
VALIDATED := build/validated.stamp
validate: $(VALIDATED)
$(VALIDATED): datapackage.json | $(STAMP)
	$(VENV)/bin/frictionless validate datapackage.json
	@mkdir -p $(@D) && touch $@

test: datapackage.json | $(STAMP)
	$(PY) -m pytest

# The Datasette site: a database and its metadata, both built from the validated package.
NAME := $(shell sed -n 's/^name: //p' schema/package.yaml)
DB := build/$(NAME).db
METADATA := build/metadata.json
INSPECT := build/inspect.json
PORT ?= 8001

db: $(DB) $(METADATA) $(INSPECT)

$(DB): $(VALIDATED) datapackage.json $(TABLES) $(wildcard data/raw/*/source.txt) scripts/build_db.py scripts/common.py | $(STAMP)
	$(PY) -m scripts.build_db

$(METADATA): $(VALIDATED) datapackage.json $(TABLES) scripts/build_datasette_metadata.py scripts/build_db.py scripts/common.py | $(STAMP)
	$(PY) -m scripts.build_datasette_metadata

# Row counts and hash for immutable mode, so Datasette need not count on start-up.
$(INSPECT): $(DB) | $(STAMP)
	$(VENV)/bin/datasette inspect $(DB) --inspect-file $@.tmp
	mv $@.tmp $@

serve: $(DB) $(METADATA) $(INSPECT) | $(STAMP)
	$(PY) -m scripts.serve --db $(DB) --metadata $(METADATA) --inspect $(INSPECT) --port $(PORT)

# Against a running `make serve`: N requests at concurrency C (defaults in the script).
loadcheck: $(METADATA) | $(STAMP)
	$(PY) -m scripts.load_check --port $(PORT) --metadata $(METADATA) $(if $(N),-n $(N)) $(if $(C),-c $(C))

clean:
	rm -rf build dist .pytest_cache
	rm -f $(TABLES) datapackage.json
