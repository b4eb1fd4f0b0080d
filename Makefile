# The flow, one direction only (see docs/building.md):
#   data/raw/<bulletin>/ + data/reference/ + schema/package.yaml
#     -> data/*.csv (scripts/claims/extract.py) + datapackage.json (scripts/outputs/build_descriptor.py)
#     -> checked in a staging folder (scripts/checks/validate.py), then published (scripts/outputs/publish.py)
#     -> (validated) CITATION.cff, .zenodo.json, citation/ (BibTeX, RIS, CSL-JSON, JSON-LD),
#        the generated blocks of README.md and docs/*.md, figures/ (make docs)
#     -> dist/<name>-<version>.zip + dist/SHA256SUMS (make dist)
#     -> build/<name>.db + build/metadata.json (make db) -> the site (make serve), dist/site/ (make bundle)
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
# data/raw itself too: a bulletin removed leaves no newer file behind, only the folder's time.
RAW := data/raw $(wildcard data/raw/*/source.txt data/raw/*/metadata.yaml data/raw/*/annotations.yaml) \
       $(wildcard data/reference/*.yaml) $(wildcard data/releases/*)
# The code the published tables and descriptor are made from: the stages up to the gate (scripts/inputs,
# scripts/claims, scripts/checks; every module of each) and the steps of scripts/outputs that publish runs.
STAGE_CODE = $(wildcard scripts/__init__.py scripts/common.py $(addprefix scripts/,$(addsuffix /*.py,$(1))))
BUILD_CODE := $(call STAGE_CODE,inputs claims checks) scripts/outputs/__init__.py scripts/outputs/publish.py \
              scripts/outputs/build_descriptor.py scripts/outputs/build_dictionary.py
# The JSON Schemas of the hand-written inputs, for editors (committed; see docs/adding-a-bulletin.md).
INPUT_SCHEMAS := schema/annotations.schema.json schema/metadata.schema.json schema/reference.schema.json schema/dates.schema.json \
                 schema/retired-ids.schema.json

.PHONY: data validate test clean serve db bundle loadcheck docs figures dist release draft test-corpus bench screenshots fuzz test-timing

# The default goal: every file the build publishes, so a deleted or missing one is rebuilt.
data: datapackage.json $(TABLES) $(INPUT_SCHEMAS)

# The virtual environment, from pinned requirements. Order-only for the data:
# a new venv does not make the data stale. requirements-nodeps.txt holds pinned
# packages installed without their dependencies (see the comment in it);
# requirements-site.txt the site's Datasette plugins, installed into a folder off
# the venv's path (see the comment in it).
SITE_PLUGIN_PACKAGES := $(VENV)/site-plugins
$(STAMP): requirements.txt requirements-nodeps.txt requirements-site.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' || \
	  { echo "error: Python 3.11 or newer is needed as '$(PYTHON)' (set PYTHON=...)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -r requirements-nodeps.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps --upgrade \
	  --target $(SITE_PLUGIN_PACKAGES) -r requirements-site.txt
	touch $@

# Extract, describe and validate in a staging folder; publish only a valid package.
$(TABLES) datapackage.json &: $(RAW) schema/package.yaml schema/dates.yaml $(BUILD_CODE) | $(STAMP)
	$(PY) -m scripts.outputs.publish

$(INPUT_SCHEMAS) &: schema/package.yaml $(call STAGE_CODE,inputs claims) scripts/outputs/build_input_schemas.py | $(STAMP)
	$(PY) -m scripts.outputs.build_input_schemas

# The validation gate: everything downstream (database, site, release) depends on this stamp.
# scripts.outputs.publish writes it after validating what it publishes; the check below (on the files'
# times now, not those make read before building) skips validating the same files twice, and
# still validates tables edited by hand.
VALIDATED := build/validated.stamp
VALIDATED_BY := datapackage.json $(TABLES) $(wildcard scripts/checks/*.py)
validate: $(VALIDATED)
$(VALIDATED): $(VALIDATED_BY) | $(STAMP)
	@if [ ! -e $@ ] || [ -n "$$(find $(VALIDATED_BY) -newer $@ | head -n 1)" ]; then \
	  echo "$(PY) -m scripts.checks.validate" && $(PY) -m scripts.checks.validate && mkdir -p $(@D) && touch $@; \
	else echo "validate: the published package was validated by the build that wrote it (scripts.outputs.publish)"; fi

# What readers get, derived from the validated data (committed, so that they
# show on the repository's page; tests fail when they are stale).
FIGURE := figures/timeline.png
# Every citation format, written together by one step from one set of facts.
CITATIONS := CITATION.cff .zenodo.json citation/dataset.bib citation/dataset.ris citation/dataset.csl.json \
             citation/dataset.jsonld
CODEBOOK := codebook.html

# The codebook (unit of analysis, coding rules with worked examples, every table, field, value and
# rule, what changed), generated from the descriptor, the coding rules, the tables and the changelog.
$(CODEBOOK): $(VALIDATED) schema/package.yaml schema/dates.yaml CHANGELOG.md scripts/outputs/build_codebook.py scripts/outputs/build_dictionary.py | $(STAMP)
	$(PY) -m scripts.outputs.build_codebook

$(CITATIONS) &: $(VALIDATED) schema/package.yaml scripts/outputs/build_citation.py scripts/common.py | $(STAMP)
	$(PY) -m scripts.outputs.build_citation

# The generated blocks of the README and of the docs pages (scripts/outputs/build_readme.py's PAGES).
PAGES := README.md docs/tables.md docs/versions.md
$(PAGES) &: $(VALIDATED) $(CITATIONS) scripts/outputs/build_readme.py scripts/outputs/build_dictionary.py scripts/outputs/build_citation.py | $(STAMP)
	$(PY) -m scripts.outputs.build_readme

$(FIGURE): $(VALIDATED) scripts/outputs/build_figures.py scripts/outputs/build_dictionary.py | $(STAMP)
	$(PY) -m scripts.outputs.build_figures

# After the variables they name: a rule's prerequisites are expanded where the rule is read.
docs: $(CITATIONS) $(PAGES) $(CODEBOOK) figures
figures: $(FIGURE)

# The release archive, byte-reproducible, and its checksum.
DIST_NAME := $(shell sed -n 's/^name: //p' schema/package.yaml)-$(shell sed -n 's/^version: //p' schema/package.yaml)
DIST := dist/$(DIST_NAME).zip
dist: $(DIST)
$(DIST): $(VALIDATED) $(CITATIONS) temperer_data.py pyproject.toml $(PAGES) $(wildcard docs/*.md) $(CODEBOOK) $(FIGURE) CHANGELOG.md LICENSE LICENSE-DATA $(RAW) scripts/outputs/build_dist.py scripts/outputs/build_parquet.py | $(STAMP)
	$(PY) -m scripts.outputs.build_dist

# Releasing: the archive of a version that publishes exactly the IDs data/releases/<version>-ids.csv
# records (a bulletin added since needs a new version first; see docs/versions.md).
release: $(DIST)
	$(PY) -m scripts.outputs.build_dist --release

# The suite runs on every core (pytest-xdist; a worker that runs out of tests takes some from
# the other) and lists its ten slowest tests, so a slow newcomer is seen.
# TESTS= runs only some of it (pytest arguments, e.g. TESTS=tests/test_evidence.py).
TEST_WORKERS ?= auto
TESTS ?=
test: datapackage.json | $(STAMP)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal --durations=10 $(TESTS)

# The whole suite on the corpus: a scratch copy of this checkout (build/corpus/) with every fixture
# bulletin of tests/fixtures/raw/ added to data/raw/, built (make, make docs) and tested there (CI runs it).
test-corpus: | $(STAMP)
	$(PY) -m scripts.tools.test_corpus --workers $(TEST_WORKERS) $(if $(TESTS),--tests "$(TESTS)")

# The suite's speed against its target (within 60 times one `frictionless validate datapackage.json`):
# ROUNDS runs of each, side by side; prints the figures and never fails on speed (TESTS= as for test).
ROUNDS ?= 3
test-timing: datapackage.json | $(STAMP)
	$(PY) -m scripts.tools.time_tests --rounds $(ROUNDS) --workers $(TEST_WORKERS) $(if $(TESTS),--tests "$(TESTS)")

# Property-based mutations of the hand-written inputs and the published tables, run in process
# (tests/test_fuzz.py, fixed seed; two bulletins and the retired-ID table, single values and the
# relations between entries and files): prints cases run, clean rejections, harmless acceptances,
# crashes, wrong inputs accepted, errors not naming the curator's file and published files
# changed by a failing build (the last four must be 0), in all and per mutation kind.
# `make test` runs 30 of them.
FUZZ_EXAMPLES ?= 5000
fuzz: datapackage.json | $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest tests/test_fuzz.py -q -p no:cacheprovider -p no:xdist

# The Datasette site: a database and its metadata, both built from the validated package.
NAME := $(shell sed -n 's/^name: //p' schema/package.yaml)
DB := build/$(NAME).db
METADATA := build/metadata.json
INSPECT := build/inspect.json
PORT ?= 8001

db: $(DB) $(METADATA) $(INSPECT)

$(DB): $(VALIDATED) datapackage.json $(TABLES) $(wildcard data/raw/*/source.txt) scripts/outputs/build_db.py scripts/common.py | $(STAMP)
	$(PY) -m scripts.outputs.build_db

$(METADATA): $(VALIDATED) datapackage.json $(TABLES) $(CITATIONS) $(CODEBOOK) scripts/outputs/build_datasette_metadata.py scripts/outputs/build_citation.py \
             scripts/outputs/build_db.py scripts/common.py | $(STAMP)
	$(PY) -m scripts.outputs.build_datasette_metadata

# Row counts and hash for immutable mode, so Datasette need not count on start-up.
$(INSPECT): $(DB) | $(STAMP)
	$(VENV)/bin/datasette inspect $(DB) --inspect-file $@.tmp
	mv $@.tmp $@

# The site's own pages (annotated bulletin, rows in context): Datasette plugins and templates.
SITE_CODE := $(wildcard site/plugins/*.py site/templates/*.html)

# `make serve` runs on a virtual environment of its own, with only what serving needs
# (requirements-serve.txt and the site's plugin packages; no build or test tools). When the package
# and its inputs are as committed, scripts.site.site_files writes the site's files from them into
# build/site/ with those tools alone; otherwise (exit status 3) the package is built and validated
# with the build tools first (`make db`, on .venv) and build/ is served. The site's downloads serve
# the release archive when `make dist` has written it (the bundle always carries it).
SITE_VENV := .venv-site
SITE_PY := $(SITE_VENV)/bin/python
SITE_STAMP := $(SITE_VENV)/.installed
$(SITE_STAMP): requirements-serve.txt requirements-site.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' || \
	  { echo "error: Python 3.11 or newer is needed as '$(PYTHON)' (set PYTHON=...)" >&2; exit 1; }
	$(PYTHON) -m venv $(SITE_VENV)
	$(SITE_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-serve.txt
	$(SITE_VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps --upgrade \
	  --target $(SITE_VENV)/site-plugins -r requirements-site.txt
	touch $@

# SITE_URL=https://... is the site's public address (canonical links, row citations, sitemap, JSON-LD).
SITE_URL ?=
serve: | $(SITE_STAMP)
	@if site=$$($(SITE_PY) -m scripts.site.site_files); then :; \
	elif [ $$? = 3 ]; then $(MAKE) --no-print-directory db && site=build; \
	else exit 1; fi; \
	echo "$(SITE_PY) -m scripts.site.serve --db $$site/$(NAME).db ..."; \
	$(SITE_PY) -m scripts.site.serve --db $$site/$(NAME).db --metadata $$site/metadata.json --inspect $$site/inspect.json \
	  $(if $(wildcard $(DIST)),--release $(DIST)) --port $(PORT) $(if $(SITE_URL),--site-url "$(SITE_URL)")

# The site as a folder that runs on its own (dist/site/: data, plugins, templates, pinned
# requirements, `start`, Dockerfile; docs/publishing.md). Rewritten on every call (a copy), so a
# SITE_URL given here becomes its default public address.
BUNDLE := dist/site
bundle: $(DB) $(METADATA) $(INSPECT) $(DIST) | $(STAMP)
	$(PY) -m scripts.site.build_bundle --db $(DB) --metadata $(METADATA) --inspect $(INSPECT) --release $(DIST) --out $(BUNDLE) \
	  $(if $(SITE_URL),--site-url "$(SITE_URL)")

# The README's picture of the site (the annotated bulletin), taken in Debian's chromium (Playwright).
SCREENSHOT := figures/site-bulletin.png
screenshots: $(SCREENSHOT)
$(SCREENSHOT): $(DB) $(METADATA) $(INSPECT) $(SITE_CODE) scripts/tools/screenshots.py scripts/site/serve.py | $(STAMP)
	$(PY) -m scripts.tools.screenshots

# The bundle (dist/site/ started with its `start`) and stock `datasette serve -i` on the same database,
# each started on a free port of 127.0.0.1 and sent the same N requests at concurrency C, side by side.
loadcheck: bundle | $(STAMP)
	$(PY) -m scripts.tools.load_check --bundle $(BUNDLE) --db $(DB) --inspect $(INSPECT) --metadata $(METADATA) \
	  $(if $(N),-n $(N)) $(if $(C),-c $(C))

# The drafting aid for a new bulletin: `make draft SOURCE=data/raw/<bulletin>/source.txt [OUT=path] [FORCE=1]`
# writes a draft annotation file (default: annotations.draft.yaml beside SOURCE). A command, not a
# file target: it never overwrites an existing draft (a curator's work) unless FORCE=1.
draft: | $(STAMP)
	@test -n "$(SOURCE)" || { echo "usage: make draft SOURCE=path/to/source.txt [OUT=path] [FORCE=1]" >&2; exit 2; }
	$(PY) -m scripts.tools.draft_annotations "$(SOURCE)" $(if $(OUT),--out "$(OUT)") $(if $(FORCE),--force)

clean:
	rm -rf build dist .pytest_cache
	rm -f $(TABLES) datapackage.json

# The scale benchmark (prints figures; never a test). SIZES="1 10 100 1000" by default.
# .ci/targets runs every target above at a small size (tests/test_targets.py checks that it does).
SIZES ?= 1 10 100 1000
bench: | $(STAMP)
	$(PY) -m scripts.tools.bench --sizes $(SIZES)
