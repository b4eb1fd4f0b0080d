"""One version, one place: schema/package.yaml's version and release date are the ones every
published file states. A new file that states them (such as the Datasette metadata built from
datapackage.json) belongs in claims()."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, copy_package

from scripts.common import package_spec


def claims(root: Path) -> dict[str, tuple[str, str]]:
    """(version, release date) as each published file states it, read the way a reader reads it."""
    package = json.loads((root / "datapackage.json").read_text(encoding="utf-8"))
    cff = yaml.safe_load((root / "CITATION.cff").read_text(encoding="utf-8"))
    readme = (root / "README.md").read_text(encoding="utf-8")
    stated = re.findall(r"describes version \*\*([^*]+)\*\*, released\s+\*\*([^*]+)\*\*", readme)
    assert len(stated) == 1, "README.md must state its version once ('describes version **X**, released **D**')"
    apa = re.findall(r"\((\d{4})\)\. .*?\(Version ([^)]+)\) \[Data ?set\]", readme)
    bibtex = re.findall(r"version = \{([^}]+)\},", readme)
    changelog = re.findall(r"^## (\S+) \((\d{4}-\d{2}-\d{2})\)$", (root / "CHANGELOG.md").read_text(encoding="utf-8"),
                           re.MULTILINE)
    assert changelog, "CHANGELOG.md has no '## VERSION (DATE)' entry"
    from scripts.outputs.build_datasette_metadata import metadata
    about = re.findall(r"^Version (\S+)\. How to cite: .*?\((\d{4})\)\. .*\(Version ([^)]+)\)",
                       metadata(package, root)["about"])
    assert len(about) == 1, "the Datasette about text must state the version and the citation"
    import bibtexparser
    import rispy
    bib = bibtexparser.parse_string((root / "citation" / "dataset.bib").read_text(encoding="utf-8")).entries[0]
    (ris, *_) = rispy.loads((root / "citation" / "dataset.ris").read_text(encoding="utf-8"))
    (csl, *_) = json.loads((root / "citation" / "dataset.csl.json").read_text(encoding="utf-8"))
    zenodo = json.loads((root / ".zenodo.json").read_text(encoding="utf-8"))
    jsonld = json.loads((root / "citation" / "dataset.jsonld").read_text(encoding="utf-8"))
    return {
        "citation/dataset.bib": (bib.fields_dict["version"].value, bib.fields_dict["date"].value),
        "citation/dataset.ris": (ris["edition"], ris["date"].replace("/", "-")),
        "citation/dataset.csl.json": (csl["version"], "-".join(f"{p:02d}" for p in csl["issued"]["date-parts"][0])),
        ".zenodo.json": (zenodo["version"], zenodo["publication_date"]),
        "citation/dataset.jsonld": (jsonld["version"], jsonld["datePublished"]),
        "datapackage.json": (package["version"], package["created"][:10]),
        "CITATION.cff": (str(cff["version"]), str(cff["date-released"])),
        "README.md (version statement)": stated[0],
        **{f"README.md (citation {i + 1})": (version, f"{year}") for i, (year, version) in enumerate(apa)},
        **{f"README.md (BibTeX {i + 1})": (version, None) for i, version in enumerate(bibtex)},
        "CHANGELOG.md (newest entry)": changelog[0],
        "Datasette about text": (about[0][0], None),
        "Datasette about text (citation)": (about[0][2], about[0][1]),
    }


def disagreements(root: Path) -> list[str]:
    spec = package_spec(root)
    version, released = str(spec["version"]), str(spec["released"])
    wrong = []
    for where, (v, d) in claims(root).items():
        date_ok = d is None or d == released or (len(d) == 4 and released.startswith(d))
        if v != version or not date_ok:
            wrong.append(f"{where} says {v} ({d}); schema/package.yaml says {version} ({released})")
    return wrong


def test_every_file_states_the_same_version_and_date():
    found = claims(ROOT)
    assert any(k.startswith("README.md (citation") for k in found) and any("BibTeX" in k for k in found)
    assert disagreements(ROOT) == []


@pytest.fixture
def published(tmp_path):
    dest = copy_package(tmp_path / "package")  # the Datasette about text is built from data/
    for name in ("CITATION.cff", "README.md", "CHANGELOG.md", "codebook.html"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "citation", dest / "citation")  # the site serves the citation files
    shutil.copy2(ROOT / ".zenodo.json", dest / ".zenodo.json")
    return dest


VERSION = str(package_spec(ROOT)["version"])


@pytest.mark.parametrize("name, old, new", [
    ("schema/package.yaml", f"version: {VERSION}", f"version: {VERSION.rsplit('.', 1)[0]}.{int(VERSION.rsplit('.', 1)[1]) + 1}"),
    ("CHANGELOG.md", f"## {VERSION} (", f"## {VERSION}.1 ("),
    ("CITATION.cff", "date-released: '", "date-released: '1999-01-01'\nx-was: '"),
    ("README.md", f"(Version {VERSION})", f"(Version {VERSION}.1)"),
    ("README.md", f"version = {{{VERSION}}}", f"version = {{{VERSION}.1}}"),
    ("citation/dataset.ris", f"ET  - {VERSION}", f"ET  - {VERSION}.1"),
    (".zenodo.json", f'"version": "{VERSION}"', f'"version": "{VERSION}.1"'),
])
def test_a_file_that_disagrees_is_caught(published, name, old, new):
    path = published / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text {old!r} not in {name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    assert disagreements(published), f"a changed {name} went unnoticed"
