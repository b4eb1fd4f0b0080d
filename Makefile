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

.PHONY: data validate test clean serve draft

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

# The drafting aid for a new bulletin: `make draft SOURCE=data/raw/<bulletin>/source.txt [OUT=path] [FORCE=1]`
# writes a draft annotation file (default: annotations.draft.yaml beside SOURCE). A command, not a
# file target: it never overwrites an existing draft (a curator's work) unless FORCE=1.
draft: | $(STAMP)
	@test -n "$(SOURCE)" || { echo "usage: make draft SOURCE=path/to/source.txt [OUT=path] [FORCE=1]" >&2; exit 2; }
	$(PY) -m scripts.draft_annotations "$(SOURCE)" $(if $(OUT),--out "$(OUT)") $(if $(FORCE),--force)

serve:
	@echo "make serve: the Datasette site is not built yet (see the Datasette issue); 'make' builds the data package." >&2
	@exit 1

clean:
	rm -rf build dist .pytest_cache
	rm -f $(TABLES) datapackage.json
