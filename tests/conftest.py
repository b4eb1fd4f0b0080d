"""Shared helpers: a copy of the package's inputs in a temporary folder, and a
way to run one build step on it as a user would (a subprocess, exit code and
messages)."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BULLETIN = "met-2017-05-24-additional-armed-officers"
SOURCE_TEXT = ROOT / "data" / "raw" / BULLETIN / "source.txt"


def read_table(name: str, root: Path = ROOT) -> list[dict]:
    with open(root / "data" / f"{name}.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def copy_inputs(dest: Path) -> Path:
    """The hand-kept inputs (schema, raw bulletins, reference) copied to `dest`."""
    shutil.copytree(ROOT / "schema", dest / "schema")
    shutil.copytree(ROOT / "data" / "raw", dest / "data" / "raw")
    shutil.copytree(ROOT / "data" / "reference", dest / "data" / "reference")
    shutil.copytree(ROOT / "data" / "releases", dest / "data" / "releases")
    return dest


def copy_package(dest: Path) -> Path:
    """The published package (descriptor, tables, raw inputs) and its schema source copied to `dest`."""
    shutil.copytree(ROOT / "data", dest / "data")
    shutil.copytree(ROOT / "schema", dest / "schema")
    shutil.copy2(ROOT / "datapackage.json", dest / "datapackage.json")
    return dest


def published_files(root: Path) -> dict[str, bytes]:
    """The published tables and descriptor of the package at `root`, byte for byte."""
    files = sorted((root / "data").glob("*.csv")) + [root / "datapackage.json"]
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in files}


def run_step(module: str, root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", f"scripts.{module}", "--root", str(root), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)


def build_package(root: Path) -> None:
    """Run the whole build (extract, describe, validate, publish) on the package at `root`."""
    result = run_step("publish", root)
    assert result.returncode == 0, result.stderr


@pytest.fixture
def inputs(tmp_path):
    return copy_inputs(tmp_path / "package")


@pytest.fixture(scope="session")
def source_text() -> str:
    return SOURCE_TEXT.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def tables() -> dict[str, list[dict]]:
    names = [p.stem for p in (ROOT / "data").glob("*.csv")]
    return {name: read_table(name) for name in names}


@pytest.fixture(scope="session")
def evidence(tables) -> dict[str, dict]:
    return {row["evidence_id"]: row for row in tables["evidence"]}


def pytest_terminal_summary(terminalreporter):
    """The summary lines of the bad-input suite (see test_corruptions.py), of the drafting aid's
    recall and precision on each bulletin it drafted (see test_draft.py) and of the fuzzing (see
    test_fuzz.py)."""
    import sys
    fuzz = sys.modules.get("fuzz_inputs")
    if fuzz is not None and fuzz.TALLY.counts["cases"]:
        for line in fuzz.TALLY.report():
            terminalreporter.write_line(line)
    try:
        from test_draft import FIGURES
    except ImportError:
        FIGURES = []
    for line in FIGURES:
        terminalreporter.write_line(line)
    try:
        from test_corruptions import RESULTS
    except ImportError:
        return
    if RESULTS:
        rejected = sum(RESULTS.values())
        terminalreporter.write_line(f"corruption suite: {rejected}/{len(RESULTS)} kinds rejected")
        for kind, ok in RESULTS.items():
            if not ok:
                terminalreporter.write_line(f"  NOT rejected as expected: {kind}")


@pytest.fixture(scope="session")
def site_files(tmp_path_factory) -> dict[str, Path]:
    """The Datasette site's files (database, metadata, inspect data) built from this
    package into a temporary folder, as `make serve` builds them into build/."""
    import json
    out = tmp_path_factory.mktemp("site")
    package = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
    files = {"db": out / f"{package['name']}.db", "metadata": out / "metadata.json", "inspect": out / "inspect.json"}
    for step, key in (("build_db", "db"), ("build_datasette_metadata", "metadata")):
        result = run_step(step, ROOT, "--out", str(files[key]))
        assert result.returncode == 0, result.stderr
    result = subprocess.run([sys.executable, "-m", "datasette", "inspect", str(files["db"]),
                             "--inspect-file", str(files["inspect"])], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return files


@pytest.fixture
def repo_copy(tmp_path):
    """The repository's build inputs copied (mtimes kept) to run make on, with this venv."""
    dest = tmp_path / "repo"
    dest.mkdir()
    for name in ("Makefile", "requirements.txt", "requirements-nodeps.txt", "datapackage.json"):
        shutil.copy2(ROOT / name, dest / name)
    for name in ("schema", "scripts", "data"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def make(repo: Path, *args: str) -> str:
    result = subprocess.run(["make", f"VENV={ROOT / '.venv'}", *args], cwd=repo, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout
