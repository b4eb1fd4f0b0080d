"""The descriptor passes the official Data Package v2 JSON Schemas (read offline from the pinned
dplib-py wheel), which frictionless 5.21 does not apply; the gate (scripts/checks/validate.py) reports
what they reject."""

from __future__ import annotations

import copy
import json

import frictionless
from conftest import BULLETIN, ROOT

from scripts.checks import validate
from scripts.common import load_yaml

DESCRIPTOR = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))


def rules(descriptor: dict) -> list[str]:
    return [f.rule for f in validate.profile_failures(descriptor)]


def bulletin_index(descriptor: dict) -> int:
    archived = load_yaml(ROOT / "data" / "raw" / BULLETIN / "metadata.yaml")["source_id"]
    (number,) = [i for i, r in enumerate(descriptor["resources"]) if r["name"] == f"bulletin-{archived}"]
    return number


def test_the_profiles_are_the_official_v2_files_read_offline():
    folder = validate.profile_folder()
    assert sorted(p.name for p in folder.glob("*.json")) == [
        "datapackage.json", "dataresource.json", "tabledialect.json", "tableschema.json"]
    assert DESCRIPTOR["$schema"] == validate.PROFILE_BASE + "datapackage.json"
    resource = json.loads((folder / "dataresource.json").read_text(encoding="utf-8"))
    assert resource["properties"]["type"]["enum"] == ["table"]


def test_the_descriptor_passes_the_v2_profiles():
    assert rules(DESCRIPTOR) == []


def test_a_text_type_fails_the_profile_though_frictionless_passes_it():
    broken = copy.deepcopy(DESCRIPTOR)
    number = bulletin_index(broken)
    broken["resources"][number]["type"] = "text"
    assert rules(broken) == [f"at /resources/{number}/type: 'text' is not one of ['table'] (Data Package v2 profile)"]
    # frictionless 5.21 alone lets it through: the reason the gate needs the profile check
    assert frictionless.Resource.validate_descriptor(broken["resources"][number]).valid


def test_the_bulletin_stays_described_as_the_archived_text_with_its_rights():
    text = DESCRIPTOR["resources"][bulletin_index(DESCRIPTOR)]
    assert "type" not in text and "schema" not in text
    assert (text["mediatype"], text["encoding"], text["format"]) == ("text/plain", "utf-8", "txt")
    assert text["licenses"][0]["title"].startswith("(c) Metropolitan Police Service")
    assert text["title"].startswith("Archived bulletin: ")


def test_a_table_schema_is_checked_too():
    broken = copy.deepcopy(DESCRIPTOR)
    broken["resources"][0]["schema"]["fields"][0]["type"] = "text"
    assert any(r.startswith("at /resources/0/schema/fields/0") for r in rules(broken)), rules(broken)


def test_an_unknown_profile_is_named():
    broken = {**DESCRIPTOR, "$schema": "https://example.org/profiles/datapackage.json"}
    assert rules(broken)[0] == ("at /: unknown profile 'https://example.org/profiles/datapackage.json': "
                                "the package follows https://datapackage.org/profiles/2.0/")
