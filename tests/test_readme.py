"""The README's generated parts (tables at a glance, data dictionary, citation) are current and
complete, and a stale or broken README is caught."""

from __future__ import annotations

import csv
import json
import re
import shutil

import pytest
from conftest import ROOT, copy_package, run_step

from scripts import build_readme


def descriptor() -> dict:
    return json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))


def readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def block(text: str, name: str) -> str:
    (content,) = re.findall(re.escape(build_readme.BEGIN.format(name=name)) + r"\n(.*?)\n"
                            + re.escape(build_readme.END.format(name=name)), text, re.DOTALL)
    return content


def test_generated_blocks_are_current():
    text = readme()
    assert build_readme.fill(text, build_readme.render(ROOT), ROOT / "README.md") == text, (
        "README.md is stale (run `make README.md`)")


def test_dictionary_lists_every_table_and_field_of_the_descriptor():
    dictionary = block(readme(), "dictionary")
    sections = re.split(r"^### ", dictionary, flags=re.MULTILINE)[1:]
    documented = {}
    for section in sections:
        table = re.match(r"`([^`]+)`", section).group(1)
        documented[table] = re.findall(r"^\| `([^`]+)` \| (\w+)", section, re.MULTILINE)
    tables = [r for r in descriptor()["resources"] if r.get("type") == "table"]
    assert list(documented) == [r["name"] for r in tables]
    for res in tables:
        assert documented[res["name"]] == [(f["name"], f["type"]) for f in res["schema"]["fields"]], res["name"]


def test_every_field_has_a_whole_description():
    """A field in the descriptor carries only Table Schema keys: an unquoted comma in a YAML flow
    mapping once cut descriptions short and left their tails as null-valued keys."""
    for res in descriptor()["resources"]:
        for field in res.get("schema", {}).get("fields", []):
            assert set(field) <= {"name", "type", "format", "description", "constraints", "unit", "printed",
                                  "categories", "categoriesOrdered"}, field
            assert field["description"].strip(), field["name"]


def test_row_counts_at_a_glance_are_the_tables_row_counts():
    glance = dict(re.findall(r"^\| `([^`]+)` \| (\d+) \|", block(readme(), "glance"), re.MULTILINE))
    counted = {}
    for res in descriptor()["resources"]:
        if res.get("type") == "table":
            with open(ROOT / res["path"], newline="", encoding="utf-8") as handle:
                counted[res["name"]] = str(sum(1 for _ in csv.DictReader(handle)))
    assert glance == counted


def test_the_row_citation_quotes_the_row_evidence(tables, evidence):
    citation = block(readme(), "citation")
    (res,) = [r for r in descriptor()["resources"] if r["name"] == build_readme.EXAMPLE_TABLE]
    (key,) = res["schema"]["primaryKey"]
    row = next(r for r in tables[build_readme.EXAMPLE_TABLE] if r[key] == build_readme.EXAMPLE_ROW)
    span = evidence[row["evidence_id"]]
    assert f"row `{build_readme.EXAMPLE_ROW}`; evidence `{span['evidence_id']}`" in citation
    assert f"characters {span['start']}–{span['end']}" in citation and span["quote"] in citation


@pytest.fixture
def package(tmp_path):
    """A copy of the built package (its committed tables are what its inputs build: test_build.py)
    with the repository's README and CHANGELOG."""
    root = copy_package(tmp_path / "package")
    for name in ("README.md", "CHANGELOG.md"):
        shutil.copy2(ROOT / name, root / name)
    return root


def test_a_changed_description_makes_the_readme_stale(package):
    spec = package / "schema" / "package.yaml"
    text = spec.read_text(encoding="utf-8")
    old = "description: Stable ID of the source."
    assert old in text
    spec.write_text(text.replace(old, "description: Stable ID of the document."), encoding="utf-8")
    assert run_step("build_descriptor", package).returncode == 0
    stale = run_step("build_readme", package, "--check")
    assert stale.returncode == 1 and "README.md: generated blocks are stale" in stale.stderr
    assert run_step("build_readme", package).returncode == 0
    assert "Stable ID of the document." in (package / "README.md").read_text(encoding="utf-8")
    assert run_step("build_readme", package, "--check").returncode == 0


def test_a_missing_marker_is_an_error_naming_the_file(package):
    path = package / "README.md"
    before = path.read_text(encoding="utf-8")
    path.write_text(before.replace(build_readme.END.format(name="dictionary"), ""), encoding="utf-8")
    result = run_step("build_readme", package)
    assert result.returncode == 1
    assert "README.md: needs exactly one generated block 'dictionary'" in result.stderr
    assert build_readme.END.format(name="dictionary") not in path.read_text(encoding="utf-8"), "rewritten anyway"
