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
    return dest


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
    """The bad-input suite's summary line (see test_corruptions.py)."""
    try:
        from test_corruptions import CORRUPTIONS, RESULTS
    except ImportError:
        return
    if RESULTS:
        rejected = sum(RESULTS.values())
        terminalreporter.write_line(f"corruption suite: {rejected}/{len(RESULTS)} kinds rejected")
        for kind, ok in RESULTS.items():
            if not ok:
                terminalreporter.write_line(f"  NOT rejected as expected: {kind}")
