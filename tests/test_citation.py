"""CITATION.cff is valid Citation File Format 1.2.0, current, and names the bulletin as the original source."""

from __future__ import annotations

import datetime
import importlib.util
import json
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from jsonschema import Draft7Validator

from scripts.outputs import build_citation


@pytest.fixture(scope="module")
def cff_schema() -> dict:
    """The official CFF 1.2.0 JSON schema as shipped in the cffconvert wheel (installed with --no-deps,
    never imported: its own dependencies clash with frictionless)."""
    spec = importlib.util.find_spec("cffconvert")
    assert spec is not None, "cffconvert is not installed (run `make`: requirements-nodeps.txt)"
    path = Path(next(iter(spec.submodule_search_locations))) / "schemas" / "1.2.0" / "schema.json"
    return json.loads(path.read_text(encoding="utf-8"))


def as_json(value):
    """YAML dates become strings, as the JSON schema expects them."""
    if isinstance(value, dict):
        return {key: as_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_json(item) for item in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def cff_errors(schema: dict, document: dict) -> list[str]:
    validator = Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document))


def committed_cff() -> dict:
    return as_json(yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8")))


def test_citation_cff_is_valid_cff_1_2_0(cff_schema):
    assert cff_schema["$id"].endswith("/1.2.0/schema.json")
    assert cff_errors(cff_schema, committed_cff()) == []


@pytest.mark.parametrize("change, needle", [
    ({"type": "data-set"}, "type: 'data-set' is not one of"),
    ({"date-released": "26 November 2026"}, "date-released: '26 November 2026' does not match"),
    ({"authors": []}, "authors: [] should be non-empty"),
    ({"license": "CC BY 4.0"}, "license: 'CC BY 4.0' is not valid"),
])
def test_the_schema_check_rejects_a_broken_citation(cff_schema, change, needle):
    errors = cff_errors(cff_schema, {**committed_cff(), **change})
    assert any(needle in e for e in errors), errors


def test_citation_cff_is_current():
    expected = build_citation.cff_bytes(build_citation.build(ROOT))
    assert (ROOT / "CITATION.cff").read_bytes() == expected, "CITATION.cff is stale (run `make CITATION.cff`)"


def test_dataset_facts_come_from_the_descriptor():
    cff = committed_cff()
    package = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
    assert cff["type"] == "dataset"
    assert (cff["title"], cff["abstract"], cff["keywords"]) == (
        package["title"], package["description"], package["keywords"])
    assert cff["license"] == package["licenses"][0]["name"] == "CC-BY-4.0"
    assert cff.get("repository-code") == package.get("homepage")  # both absent until the home is real


def test_the_bulletin_is_the_original_source_with_its_rights(tables):
    original = committed_cff()["references"][0]
    bulletin = next(s for s in tables["sources"] if s["source_kind"] == "bulletin")
    assert (original["title"], original["authors"], original["date-published"]) == (
        bulletin["title"], [{"name": bulletin["publisher"]}], bulletin["published"][:10])
    assert original["copyright"] == "(c) Metropolitan Police Service"
    assert bulletin["rights"] in original["notes"] and bulletin["sha256"] in original["notes"]
    assert original["filename"] == bulletin["path"]
