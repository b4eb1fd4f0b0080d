"""The README leads (small, with a contents list in the reader's order) and, with the docs pages it
links to, is current and whole: the generated blocks (citation, tables at a glance, where the dataset
lives) are fresh, every local link and anchor resolves, and a stale or broken page is caught."""

from __future__ import annotations

import csv
import json
import re
import shutil

import pytest
from conftest import ROOT, copy_package, doc_pages, run_step

from scripts.outputs import build_readme

# The repository refuses a README above this (its own size check); the README leads, the rest is in docs/.
README_LIMIT = 15_000
# What a reader looks for, in the order they look for it.
SECTIONS = ["What the dataset is", "Browse", "Download", "Use the data", "Cite"]


def descriptor() -> dict:
    return json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))


def readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def block(text: str, name: str) -> str:
    (content,) = re.findall(re.escape(build_readme.BEGIN.format(name=name)) + r"\n(.*?)\n"
                            + re.escape(build_readme.END.format(name=name)), text, re.DOTALL)
    return content


def page(name: str) -> str:
    """The page of PAGES that holds the generated block `name`."""
    (path,) = [p for p, names in build_readme.PAGES.items() if name in names]
    return (ROOT / path).read_text(encoding="utf-8")


def anchor(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_generated_blocks_are_current():
    for path, blocks in build_readme.render(ROOT).items():
        text = (ROOT / path).read_text(encoding="utf-8")
        assert build_readme.fill(text, blocks, ROOT / path) == text, f"{path} is stale (run `make docs`)"


def test_the_readme_is_small_and_leads_with_a_contents_list():
    size = (ROOT / "README.md").stat().st_size
    assert size <= README_LIMIT, f"README.md is {size} bytes; move detail to docs/ (at most {README_LIMIT})"
    headings = re.findall(r"^## (.+)$", readme(), re.MULTILINE)
    assert [h for h in headings if h in SECTIONS] == SECTIONS and headings[:len(SECTIONS)] == SECTIONS
    (contents,) = re.findall(r"^\*\*Contents:\*\*(.*?)\n\n", readme(), re.MULTILINE | re.DOTALL)
    listed = re.findall(r"\]\(#([^)]+)\)", contents)
    assert [a for a in listed if a in map(anchor, SECTIONS)] == [anchor(h) for h in SECTIONS]
    for command in ("make serve", "make test"):
        assert re.search(rf"^{command}\b", readme(), re.MULTILINE), f"the README shows `{command}`"


def test_the_data_dictionary_is_the_codebooks_alone():
    """No page repeats the codebook's field tables; the README links to the codebook."""
    assert "](codebook.html)" in readme()
    for path, text in doc_pages().items():
        assert not re.search(r"^\| field \| type \|", text, re.MULTILINE), f"{path} repeats the data dictionary"


def test_every_local_link_and_anchor_resolves():
    pages = doc_pages()
    targets = 0
    for path, text in pages.items():
        folder = (ROOT / path).parent
        text = re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)  # links in code are not links
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            file, _, fragment = target.partition("#")
            resolved = (folder / file).resolve() if file else ROOT / path
            assert resolved.exists(), f"{path}: link to {target}: no such file"
            if fragment and resolved.suffix == ".md":
                headings = re.findall(r"^#+ (.+)$", resolved.read_text(encoding="utf-8"), re.MULTILINE)
                assert fragment in map(anchor, headings), f"{path}: link to {target}: no such heading"
            targets += 1
    assert targets > 20
    linked = set(re.findall(r"\]\((docs/[^)#]+)", readme()))
    assert linked >= {p for p in pages if p.startswith("docs/")}, "every docs page is linked from the README"


def test_row_counts_at_a_glance_are_the_tables_row_counts():
    glance = dict(re.findall(r"^\| `([^`]+)` \| (\d+) \|", block(page("glance"), "glance"), re.MULTILINE))
    counted = {}
    for res in descriptor()["resources"]:
        if res.get("type") == "table":
            with open(ROOT / res["path"], newline="", encoding="utf-8") as handle:
                counted[res["name"]] = str(sum(1 for _ in csv.DictReader(handle)))
    assert glance == counted


def test_every_field_has_a_whole_description():
    """A field in the descriptor carries only Table Schema keys: an unquoted comma in a YAML flow
    mapping once cut descriptions short and left their tails as null-valued keys."""
    for res in descriptor()["resources"]:
        for field in res.get("schema", {}).get("fields", []):
            assert set(field) <= {"name", "type", "format", "description", "constraints", "unit", "printed",
                                  "categories", "categoriesOrdered"}, field
            assert field["description"].strip(), field["name"]


def test_the_row_citation_quotes_the_row_evidence(tables, evidence):
    citation = block(page("citation"), "citation")
    (res,) = [r for r in descriptor()["resources"] if r["name"] == build_readme.EXAMPLE_TABLE]
    (key,) = res["schema"]["primaryKey"]
    row = next(r for r in tables[build_readme.EXAMPLE_TABLE] if r[key] == build_readme.EXAMPLE_ROW)
    span = evidence[row["evidence_id"]]
    assert f"row `{build_readme.EXAMPLE_ROW}`; evidence `{span['evidence_id']}`" in citation
    assert f"characters {span['start']}–{span['end']}" in citation and span["quote"] in citation


@pytest.fixture
def package(tmp_path):
    """A copy of the built package (its committed tables are what its inputs build: test_build.py)
    with the repository's README, docs pages and CHANGELOG."""
    root = copy_package(tmp_path / "package")
    for name in ("README.md", "CHANGELOG.md"):
        shutil.copy2(ROOT / name, root / name)
    shutil.copytree(ROOT / "docs", root / "docs")
    return root


def test_a_changed_description_makes_a_docs_page_stale(package):
    spec = package / "schema" / "package.yaml"
    text = spec.read_text(encoding="utf-8")
    old = "The documents the facts come from."
    assert old in text
    spec.write_text(text.replace(old, "The documents the facts are coded from."), encoding="utf-8")
    assert run_step("outputs.build_descriptor", package).returncode == 0
    stale = run_step("outputs.build_readme", package, "--check")
    assert stale.returncode == 1 and "docs/tables.md: generated blocks are stale" in stale.stderr
    assert "README.md:" not in stale.stderr, "only the page that shows the description is stale"
    assert run_step("outputs.build_readme", package).returncode == 0
    assert "The documents the facts are coded from." in (package / "docs" / "tables.md").read_text(encoding="utf-8")
    assert run_step("outputs.build_readme", package, "--check").returncode == 0


@pytest.mark.parametrize("path, name", [(p, n) for p, names in build_readme.PAGES.items() for n in names])
def test_a_missing_marker_is_an_error_naming_the_file_and_nothing_is_written(package, path, name):
    pages = {p: (package / p).read_bytes() for p in build_readme.PAGES}
    broken = pages[path].decode("utf-8").replace(build_readme.END.format(name=name), "")
    (package / path).write_text(broken, encoding="utf-8")
    result = run_step("outputs.build_readme", package)
    assert result.returncode == 1
    assert f"{path}: needs exactly one generated block {name!r}" in result.stderr
    assert (package / path).read_text(encoding="utf-8") == broken, "rewritten anyway"
    assert all((package / p).read_bytes() == b for p, b in pages.items() if p != path), "another page rewritten"
