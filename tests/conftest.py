"""Shared helpers: a copy of the package's inputs in a temporary folder, and two
ways to run one build step on it: `run_step` calls the step's `main()` in this
process (same arguments, exit code and messages, without the seconds a new
interpreter spends importing pandas, frictionless and pandera), and `run_cli`
starts it as a user does (`python -m scripts.<stage>.<step>`), kept for the few tests
whose subject is the command line itself."""

from __future__ import annotations

import contextlib
import csv
import fcntl
import io
import os
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


def add_bulletin(root: Path, folder: Path) -> Path:
    """A bulletin folder (e.g. a fixture of tests/fixtures/raw/) added to the inputs at `root`; it may be
    there already, when data/raw/ holds every fixture. Returns its folder under `root`."""
    shutil.copytree(folder, dest := root / "data" / "raw" / folder.name, dirs_exist_ok=True)
    return dest


def copy_package(dest: Path) -> Path:
    """The published package (descriptor, tables, raw inputs) and its schema source copied to `dest`."""
    shutil.copytree(ROOT / "data", dest / "data")
    shutil.copytree(ROOT / "schema", dest / "schema")
    shutil.copy2(ROOT / "datapackage.json", dest / "datapackage.json")
    return dest


def doc_pages(root: Path = ROOT) -> dict[str, str]:
    """The README and the docs pages it links to ({path relative to root: text}), README first."""
    paths = [root / "README.md", *sorted((root / "docs").glob("*.md"))]
    return {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in paths}


def published_files(root: Path) -> dict[str, bytes]:
    """The published tables and descriptor of the package at `root`, byte for byte."""
    files = sorted((root / "data").glob("*.csv")) + [root / "datapackage.json"]
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in files}


def failing_publish(root: Path, path: Path | str, edits: list[tuple[str, str]]) -> tuple[str, int]:
    """Apply (old, new) edits, each once and in turn, to `path` (relative to `root`), run the publish
    step, restore the file; the build must fail and leave the published files as they were. Returns what
    it printed on standard error and the line of the first edit."""
    target = root / path
    kept = target.read_bytes()
    before = published_files(root)
    text = kept.decode("utf-8")
    assert edits[0][0] in text, edits[0][0]
    line = text[:text.index(edits[0][0])].count("\n") + 1
    try:
        for old, new in edits:
            assert old in text, old
            text = text.replace(old, new, 1)
        target.write_text(text, encoding="utf-8")
        result = run_step("outputs.publish", root)
    finally:
        target.write_bytes(kept)
    assert result.returncode != 0, f"the build accepted {edits}"
    assert published_files(root) == before, "a failing build changed the published files"
    return result.stderr, line


def run_step(module: str, root: Path, *args: str) -> subprocess.CompletedProcess:
    """`python -m scripts.<module> --root ROOT ARGS`, `module` being the step's path under scripts/
    (e.g. "outputs.publish"), run in this process: the step's `main()` with its standard output and
    error captured and its exit status (SystemExit) returned."""
    import importlib
    argv = ["--root", str(root), *args]
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            importlib.import_module(f"scripts.{module}").main(argv)
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
            if not isinstance(stop.code, (int, type(None))):
                print(stop.code, file=sys.stderr)
    return subprocess.CompletedProcess([sys.executable, "-m", f"scripts.{module}", *argv], code,
                                       out.getvalue(), err.getvalue())


def run_cli(module: str, root: Path, *args: str) -> subprocess.CompletedProcess:
    """`python -m scripts.<module> --root ROOT ARGS` (as for run_step) as a user runs it: a new interpreter."""
    return subprocess.run([sys.executable, "-m", f"scripts.{module}", "--root", str(root), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)


def once_per_run(tmp_path_factory, name: str, make) -> Path:
    """`make(folder)` run once in the whole test run, in a folder every pytest-xdist worker sees: the first
    test to ask makes it, behind a lock; the others wait for it and read what it made (never changing
    it). Returns the folder. A making that fails is tried again by the next test to ask, so each test
    that needs it reports the failure."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the run's folder, above each worker's own
    folder, done = base / f"once-{name}", base / f"once-{name}.done"
    with open(base / f"once-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            make(folder)
            done.touch()
    return folder


@pytest.fixture(scope="session")
def clean_build(tmp_path_factory) -> Path:
    """The package's inputs, unchanged, copied and built once in the run (once_per_run): the package folder."""
    def make(folder: Path) -> None:
        build_package(copy_inputs(folder / "package"))
    return once_per_run(tmp_path_factory, "clean-build", make) / "package"


# The fixture bulletins of tests/fixtures/raw/ that the bulletin, date and speech tests read, built with
# the package's inputs once in the run (fixtures_build).
FIXTURES = ROOT / "tests" / "fixtures" / "raw"
SHARED_FIXTURES = ("met-2017-05-27-fixture-bank-holiday", "met-2017-10-14-fixture-railway-patrols",
                   "cp-2017-06-03-fixture-reported-update")


def repository_published_bytes() -> dict[str, bytes]:
    """Every file of the repository's published package: data/ (tables and raw inputs) and the descriptor."""
    files = [p for p in (ROOT / "data").rglob("*") if p.is_file()] + [ROOT / "datapackage.json"]
    return {p.relative_to(ROOT).as_posix(): p.read_bytes() for p in files}


@pytest.fixture(scope="session")
def fixtures_build(tmp_path_factory) -> Path:
    """The package's inputs plus the SHARED_FIXTURES bulletins, built (extract, describe, validate, publish)
    once in the run (once_per_run) and only read: the package folder. Building it leaves the repository's
    published files byte for byte as they were."""
    def make(folder: Path) -> None:
        before = repository_published_bytes()
        root = copy_inputs(folder / "package")
        for name in SHARED_FIXTURES:
            add_bulletin(root, FIXTURES / name)
        build_package(root)
        after = repository_published_bytes()
        assert after == before, "building the fixtures changed the repository's published files: " + ", ".join(
            sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name)))
    return once_per_run(tmp_path_factory, "fixtures-build", make) / "package"


def build_package(root: Path) -> None:
    """Run the whole build (extract, describe, validate, publish) on the package at `root`."""
    result = run_step("outputs.publish", root)
    assert result.returncode == 0, result.stderr


@pytest.fixture
def inputs(tmp_path):
    return copy_inputs(tmp_path / "package")


@pytest.fixture
def archived_inputs(tmp_path):
    """The inputs with the archived bulletin alone in data/raw/: for tests that edit its annotations and
    read what the build says of them, which another bulletin printing the same number or name changes."""
    root = copy_inputs(tmp_path / "package")
    for folder in (root / "data" / "raw").iterdir():
        if folder.is_dir() and folder.name != BULLETIN:
            shutil.rmtree(folder)
    return root


@pytest.fixture(scope="session")
def source_text() -> str:
    return SOURCE_TEXT.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def source_texts(tables) -> dict[str, str]:
    """The archived text of every bulletin the package holds: {source_id: text}, read from each
    source's `path`."""
    return {r["source_id"]: (ROOT / r["path"]).read_text(encoding="utf-8")
            for r in tables["sources"] if r["source_kind"] == "bulletin"}


@pytest.fixture(scope="session")
def tables() -> dict[str, list[dict]]:
    names = [p.stem for p in (ROOT / "data").glob("*.csv")]
    return {name: read_table(name) for name in names}


@pytest.fixture(scope="session")
def archived_tables(tables) -> dict[str, list[dict]]:
    """Each table without the rows of the other bulletins (rows whose source_id is another bulletin's):
    the archived bulletin's (BULLETIN) rows, the reference's and the rows no bulletin owns (organisations,
    people). Tests of the facts of that bulletin read these, so they hold whatever other bulletins the
    package holds."""
    import yaml
    source_id = yaml.safe_load((ROOT / "data" / "raw" / BULLETIN / "metadata.yaml").read_text(encoding="utf-8"))["source_id"]
    others = {r["source_id"] for r in tables["sources"] if r["source_kind"] == "bulletin"} - {source_id}
    return {name: [r for r in rows if r.get("source_id") not in others] for name, rows in tables.items()}


@pytest.fixture(scope="session")
def evidence(tables) -> dict[str, dict]:
    return {row["evidence_id"]: row for row in tables["evidence"]}


# Lines printed at the end of the run: the bad-input suite's count (test_corruptions.py records each
# test's corruption kind), the drafting aid's recall and precision per bulletin (test_draft.py) and
# the fuzzing's figures (test_fuzz.py), both recorded as "summary_line"s. They travel as user
# properties in the test reports, so they reach this process also when pytest-xdist runs the tests
# in worker processes; they are printed in the order of the tests that recorded them.
CORRUPTION_RESULTS: dict[str, bool] = {}
SUMMARY_LINES: list[tuple[str, int, str]] = []


def pytest_runtest_logreport(report):
    for index, (name, value) in enumerate(report.user_properties):
        if name == "corruption_kind" and (report.when == "call" or not report.passed):
            CORRUPTION_RESULTS[value] = CORRUPTION_RESULTS.get(value, True) and report.passed
        elif name == "summary_line" and report.when == "call":
            SUMMARY_LINES.append((report.nodeid, index, value))


def pytest_terminal_summary(terminalreporter):
    for _, _, line in sorted(SUMMARY_LINES):
        terminalreporter.write_line(line)
    if CORRUPTION_RESULTS:
        rejected = sum(CORRUPTION_RESULTS.values())
        terminalreporter.write_line(f"corruption suite: {rejected}/{len(CORRUPTION_RESULTS)} kinds rejected")
        for kind, ok in CORRUPTION_RESULTS.items():
            if not ok:
                terminalreporter.write_line(f"  NOT rejected as expected: {kind}")


@pytest.fixture(scope="session")
def site_files(tmp_path_factory) -> dict[str, Path]:
    """The Datasette site's files (database, metadata, inspect data) built from this
    package into a temporary folder, as `make serve` builds them into build/ (once in the run)."""
    import json
    package = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))

    def files_in(out: Path) -> dict[str, Path]:
        return {"db": out / f"{package['name']}.db", "metadata": out / "metadata.json", "inspect": out / "inspect.json"}

    def make(out: Path) -> None:
        files = files_in(out)
        for step, key in (("outputs.build_db", "db"), ("outputs.build_datasette_metadata", "metadata")):
            result = run_step(step, ROOT, "--out", str(files[key]))
            assert result.returncode == 0, result.stderr
        from click.testing import CliRunner
        from datasette.cli import cli
        result = CliRunner().invoke(cli, ["inspect", str(files["db"]), "--inspect-file", str(files["inspect"])])
        assert result.exit_code == 0, result.output
    return files_in(once_per_run(tmp_path_factory, "site", make))


def datasette_for(db_files, metadata: dict | None = None, inspect: dict | None = None, template_dir=None):
    """An in-process Datasette as scripts.site.serve runs it: immutable, the same settings, the site's
    plugins (site/plugins/) and templates (site/templates/)."""
    from datasette.app import Datasette
    from scripts.site.serve import PLUGINS_DIR, SETTINGS, TEMPLATES_DIR
    return Datasette(immutables=[str(f) for f in db_files], settings=SETTINGS, metadata=metadata or {},
                     inspect_data=inspect, plugins_dir=str(PLUGINS_DIR), template_dir=str(template_dir or TEMPLATES_DIR))


@pytest.fixture(scope="session")
def ds(site_files):
    """The site built from this package, in process (Datasette's own client)."""
    import json
    return datasette_for([site_files["db"]], json.loads(site_files["metadata"].read_text(encoding="utf-8")),
                         json.loads(site_files["inspect"].read_text(encoding="utf-8")))


PUBLIC_ADDRESS = "https://data.example.org"  # the public address the tests give the site


@pytest.fixture(scope="session")
def public_ds(site_files):
    """The site of `ds` with a public address (as SITE_URL sets it: the metadata's plugin setting)."""
    import json
    metadata = json.loads(site_files["metadata"].read_text(encoding="utf-8"))
    metadata["plugins"]["publishing"] = {"site_url": PUBLIC_ADDRESS}
    return datasette_for([site_files["db"]], metadata, json.loads(site_files["inspect"].read_text(encoding="utf-8")))


@pytest.fixture(scope="session")
def release_archive(tmp_path_factory) -> Path:
    """The release archive of this package, as `make dist` writes it (dist/<name>-<version>.zip), in a
    temporary folder (once in the run)."""
    def make(folder: Path) -> None:
        from scripts.outputs import build_dist
        name, data = build_dist.build(ROOT)
        (folder / name).write_bytes(data)
    (path,) = once_per_run(tmp_path_factory, "dist", make).iterdir()
    return path


@pytest.fixture(scope="session")
def served(site_files, release_archive, tmp_path_factory):
    """The site as `make serve` runs it (scripts.site.serve's command, serving the release archive), on a
    free port of 127.0.0.1: its base URL. Stopped at the end of the run."""
    from scripts.site.serve import start_on_a_free_port
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    try:
        process, base = start_on_a_free_port(site_files["db"], site_files["metadata"], site_files["inspect"], log,
                                             release=release_archive)
    except RuntimeError as error:
        pytest.fail(str(error))
    yield base
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def chromium():
    """Debian's chromium, driven by Playwright, for the tests of one module (each opens its own page
    or context). Module scope: Playwright's loop runs while the browser is open, and the in-process
    site tests need none running. Skipped when absent, except under CI=true (.ci/run installs it)."""
    import os
    from scripts.tools.screenshots import CHROMIUM, CHROMIUM_ARGS
    if not CHROMIUM.exists():
        message = f"the browser test needs Debian's chromium at {CHROMIUM}: install it with `apt-get install -y chromium`"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (under CI=true the test never skips: .ci/run installs it)")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def repo_copy(tmp_path):
    """The repository's build inputs copied (mtimes kept) to run make on, with this venv."""
    dest = tmp_path / "repo"
    dest.mkdir()
    for name in ("Makefile", "requirements.txt", "requirements-nodeps.txt", "requirements-site.txt", "datapackage.json",
                 "CHANGELOG.md"):
        shutil.copy2(ROOT / name, dest / name)
    for name in ("schema", "scripts", "data"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def make(repo: Path, *args: str) -> str:
    result = subprocess.run(["make", f"VENV={ROOT / '.venv'}", *args], cwd=repo, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def start_bundle(folder: Path, log: Path, **env):
    """`folder`/start on a free port of 127.0.0.1, with this Python (which has the pinned
    requirements; the site's plugin packages on PYTHONPATH, as the Dockerfile installs them)."""
    from scripts.site.serve import HOST, free_port, site_environment, wait_until_answering
    port = free_port()
    environment = {**site_environment(None), "HOST": HOST, "PORT": str(port), "PYTHON": sys.executable, **env}
    with open(log, "w") as out:
        process = subprocess.Popen([str(folder / "start")], cwd="/", env=environment, stdout=out,
                                   stderr=subprocess.STDOUT)
    base = f"http://{HOST}:{port}"
    try:
        wait_until_answering(process, base, log)
    except RuntimeError as error:
        pytest.fail(str(error))
    return process, base
