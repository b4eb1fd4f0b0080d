"""`make serve` on its own tools: requirements-serve.txt is exactly what the serving steps import and
what that needs (pinned as the project's), and scripts.site.site_files serves the package as committed,
built once per committed state, and sends anything else to the build and validation first."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, run_step

from scripts.site import build_bundle, site_files
from scripts.outputs import build_datasette_metadata

SERVE_REQUIREMENTS = ROOT / "requirements-serve.txt"
# The modules `make serve` runs on .venv-site: the step that writes the site's files, the server, and
# the site's own plugins (Datasette imports them).
SERVING = ["scripts/site/site_files.py", "scripts/site/serve.py", *sorted(str(p.relative_to(ROOT)) for p in
                                                                (ROOT / "site" / "plugins").glob("*.py"))]


def lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


def test_the_serve_requirements_are_the_closure_of_what_serving_imports():
    expected = build_bundle.closure(build_bundle.pins(build_bundle.REQUIREMENTS[:1]), list(site_files.SERVE_ROOTS))
    assert lines(SERVE_REQUIREMENTS) == expected, (
        "requirements-serve.txt is not the closure of scripts/site/site_files.py's SERVE_ROOTS; write:\n"
        + "\n".join(expected))
    names = {line.split("==")[0].lower() for line in expected}
    assert not {"pandas", "frictionless", "pandera", "playwright", "pytest", "hypothesis", "matplotlib"} & names


def imported(path: Path) -> set[str | Path]:
    """What a file imports, at any depth (lazy imports included): the top-level name of each outside
    module, and the file of each module within scripts/ (a relative import, resolved from `path`'s
    package, with the `__init__.py` of every package it passes through)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str | Path] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # within scripts/: follow it
                base = path.parent
                for _ in range(node.level - 1):
                    base = base.parent
                for part in (node.module or "").split(".") if node.module else []:
                    base = base / part
                    names.add(base / "__init__.py")
                for alias in node.names:  # a module of that package, or a name defined in its module
                    names.add(base / f"{alias.name}.py" if (base / f"{alias.name}.py").is_file() else
                              base.with_suffix(".py"))
            else:
                names.add(node.module.split(".")[0])
    return {n for n in names if isinstance(n, str) or n.is_file()}


def test_every_module_serving_runs_imports_only_the_serve_requirements():
    """From the serving modules, through every scripts module they import, each third-party import is
    a package requirements-serve.txt (or requirements-site.txt) installs."""
    allowed = {line.split("==")[0].lower().replace("_", "-") for path in (SERVE_REQUIREMENTS, ROOT / "requirements-site.txt")
               for line in lines(path)}
    providers = importlib.metadata.packages_distributions()
    todo, seen, outside = [ROOT / p for p in SERVING], set(), {}
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in imported(path):
            if isinstance(name, Path):
                todo.append(name)
            elif name not in sys.stdlib_module_names and name not in ("scripts", "__future__"):
                dists = {d.lower().replace("_", "-") for d in providers.get(name, [name])}
                if not dists & allowed:
                    outside.setdefault(name, []).append(path.relative_to(ROOT).as_posix())
    outputs = ROOT / "scripts" / "outputs"
    assert outputs / "build_db.py" in seen and outputs / "build_datasette_metadata.py" in seen
    assert not outside, f"imported by the serving steps but not in requirements-serve.txt: {outside}"


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
                   check=True, capture_output=True)


@pytest.fixture
def checkout(tmp_path) -> Path:
    """A git checkout holding the committed package: every path the served files are made from."""
    root = tmp_path / "checkout"
    root.mkdir()
    for name in site_files.PACKAGE_PATHS:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy2(source, root / name)
    (root / ".gitignore").write_text("build/\n__pycache__/\n", encoding="utf-8")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "the package")
    return root


def test_the_committed_package_is_served_from_files_built_once(checkout):
    result = run_step("site.site_files", checkout)
    assert result.returncode == 0, result.stderr
    folder = checkout / "build" / "site"
    assert result.stdout.strip() == str(folder)
    name = json.loads((checkout / "datapackage.json").read_text(encoding="utf-8"))["name"]
    assert {p.name for p in folder.iterdir()} == {f"{name}.db", "metadata.json", "inspect.json", "key"}
    package = json.loads((checkout / "datapackage.json").read_text(encoding="utf-8"))
    assert json.loads((folder / "metadata.json").read_bytes()) == build_datasette_metadata.metadata(package, checkout)
    assert name in json.loads((folder / "inspect.json").read_text(encoding="utf-8"))
    built = (folder / f"{name}.db").stat().st_mtime_ns
    again = run_step("site.site_files", checkout)
    assert again.returncode == 0 and (folder / f"{name}.db").stat().st_mtime_ns == built, "built once per commit"


@pytest.mark.parametrize("change", ["edited table", "untracked bulletin file", "staged descriptor"])
def test_a_package_that_differs_from_the_commit_goes_to_the_build_first(checkout, change):
    if change == "edited table":
        with open(checkout / "data" / "events.csv", "a", encoding="utf-8") as handle:
            handle.write("x\n")
        named = "data/events.csv"
    elif change == "untracked bulletin file":
        (checkout / "data" / "raw" / "new-bulletin").mkdir()
        (checkout / "data" / "raw" / "new-bulletin" / "source.txt").write_text("text", encoding="utf-8")
        named = "data/raw/new-bulletin/source.txt"
    else:
        (checkout / "datapackage.json").write_text("{}", encoding="utf-8")
        git(checkout, "add", "datapackage.json")
        named = "datapackage.json"
    result = run_step("site.site_files", checkout)
    assert result.returncode == site_files.NOT_COMMITTED
    assert named in result.stderr and "building and validating it with the build tools first" in result.stderr
    assert not (checkout / "build" / "site").exists() and result.stdout == ""


def test_a_folder_without_git_goes_to_the_build_first(checkout):
    shutil.rmtree(checkout / ".git")
    result = run_step("site.site_files", checkout)
    assert result.returncode == site_files.NOT_COMMITTED and "not a git checkout" in result.stderr


def test_without_git_the_package_goes_to_the_build_first(checkout, monkeypatch):
    monkeypatch.setenv("PATH", str(checkout / "no-such-folder"))
    result = run_step("site.site_files", checkout)
    assert result.returncode == site_files.NOT_COMMITTED and "git is not available" in result.stderr
