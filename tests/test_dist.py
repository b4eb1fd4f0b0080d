"""`make dist`: a byte-reproducible release archive that validates once unpacked."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import frictionless
import pytest
from conftest import ROOT, run_step

from scripts.outputs import build_citation
from scripts.tools import load

FRICTIONLESS = Path(sys.executable).parent / "frictionless"


def build_into(out: Path) -> Path:
    result = run_step("outputs.build_dist", ROOT, "--out", str(out))
    assert result.returncode == 0, result.stderr
    (archive,) = out.glob("*.zip")
    return archive


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    return build_into(tmp_path_factory.mktemp("dist"))


def test_two_builds_give_identical_bytes(release, tmp_path):
    again = build_into(tmp_path / "again")
    assert again.name == release.name
    assert again.read_bytes() == release.read_bytes()


def test_sha256sums_checks_the_archive(release):
    sums = (release.parent / "SHA256SUMS").read_text(encoding="ascii")
    assert sums == f"{hashlib.sha256(release.read_bytes()).hexdigest()}  {release.name}\n"
    check = subprocess.run(["sha256sum", "--check", "--strict", "SHA256SUMS"], cwd=release.parent,
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0 and f"{release.name}: OK" in check.stdout


def test_entries_are_sorted_with_fixed_times_and_permissions(release):
    package = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
    prefix = f"{package['name']}-{package['version']}/"
    assert release.name == f"{package['name']}-{package['version']}.zip"
    with zipfile.ZipFile(release) as archive:
        infos = archive.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names) and all(n.startswith(prefix) for n in names)
    released = tuple(int(p) for p in package["created"][:10].split("-")) + (0, 0, 0)
    assert {i.date_time for i in infos} == {released}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}
    inside = {n[len(prefix):] for n in names}
    needed = {r["path"] for r in package["resources"]} | {
        "datapackage.json", "README.md", "CITATION.cff", "CHANGELOG.md", "LICENSE", "LICENSE-DATA",
        "figures/timeline.png", "codebook.html"}
    needed |= {p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md")}  # the pages the README links
    needed |= {p.relative_to(ROOT).as_posix() for p in (ROOT / "data" / "raw").rglob("*") if p.is_file()}
    needed |= set(build_citation.FILES.values()) | {"temperer_data.py", "pyproject.toml"}  # every citation format, the loader
    assert needed <= inside, sorted(needed - inside)


@pytest.fixture
def unpacked(release, tmp_path) -> Path:
    with zipfile.ZipFile(release) as archive:
        archive.extractall(tmp_path)
    (folder,) = tmp_path.iterdir()
    return folder


def test_the_unpacked_archive_validates(unpacked):
    """As docs/versions.md says a reader checks it: `frictionless validate datapackage.json`, a new process."""
    result = subprocess.run([str(FRICTIONLESS), "validate", "datapackage.json"], cwd=unpacked, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    for path in (ROOT / "data" / "raw").rglob("source.txt"):
        assert (unpacked / path.relative_to(ROOT)).read_bytes() == path.read_bytes()


def test_the_loader_reads_the_unpacked_archive(unpacked):
    tables = load.load_tables(unpacked / "datapackage.json")
    assert tables["contacts"]["e164"].dropna().tolist() == ["+44800789321"]
    for kind, name in build_citation.FILES.items():
        assert (unpacked / name).read_bytes() == (ROOT / name).read_bytes(), kind


def test_a_tampered_unpacked_table_fails_validation(unpacked):
    table = unpacked / "data" / "personnel.csv"
    table.write_bytes(table.read_bytes().replace(b",3800,", b",3900,"))
    report = frictionless.validate(str(unpacked / "datapackage.json"))
    assert not report.valid
    assert "hash-count" in {error.type for task in report.tasks for error in task.errors}


def test_missing_documents_stop_the_build(tmp_path):
    root = tmp_path / "package"
    root.mkdir()
    (root / "datapackage.json").write_bytes((ROOT / "datapackage.json").read_bytes())
    result = run_step("outputs.build_dist", root)
    assert result.returncode == 1 and "files the release needs are missing" in result.stderr
    assert not (root / "dist").exists()
