"""The whole suite on the corpus: this checkout with every fixture bulletin of tests/fixtures/raw/
added to data/raw/, the version left as it is.

Copies the checkout (its files, times kept; not .git, the virtual environment or what the build
writes) to a scratch folder, adds each fixture bulletin to its data/raw/, and runs there, as a curator
adding bulletins would: `make` (the tables and descriptor with every bulletin, validated), `make docs`
(what is derived from them) and `make test`. The copy uses this checkout's virtual environment (and the
accessibility test's axe-core, when installed) through links. The checkout itself is never changed.
Exits with the first failing step's status.

    python -m scripts.tools.test_corpus [--out build/corpus] [--tests "tests/test_x.py ..."] [--workers auto]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from ..common import ROOT

# Not copied: the repository's history, the environments (linked instead) and what the build writes.
SKIP = {".git", ".venv-site", "build", "dist", ".pytest_cache", ".hypothesis", "__pycache__"}
LINKED = (Path(".venv"), Path(".ci") / "node")
FIXTURES = Path("tests") / "fixtures" / "raw"


def copy_checkout(root: Path, out: Path) -> list[str]:
    """`root` copied to `out` (times kept, so `make` sees what is stale as it would in `root`), with the
    environments linked and every fixture bulletin added to data/raw/: the names of those added."""
    if out.exists():
        shutil.rmtree(out)
    def ignored(folder: str, names: list[str]) -> list[str]:
        here = Path(folder).resolve().relative_to(root)
        return [n for n in names if n in SKIP or n.endswith(".tmp") or here / n in LINKED]

    shutil.copytree(root, out, ignore=ignored, symlinks=True)
    for linked in LINKED:
        if (root / linked).exists():
            (out / linked).parent.mkdir(parents=True, exist_ok=True)
            (out / linked).symlink_to((root / linked).resolve(), target_is_directory=True)
    added = []
    for fixture in sorted(p for p in (root / FIXTURES).iterdir() if (p / "source.txt").is_file()):
        target = out / "data" / "raw" / fixture.name
        if target.exists():
            raise SystemExit(f"error: {root / 'data' / 'raw' / fixture.name}: a fixture's folder name is already "
                             "a bulletin of the package")
        shutil.copytree(fixture, target)
        added.append(fixture.name)
    os.utime(out / "data" / "raw")  # the bulletins added are new to make, whatever their files' times
    return added


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--out", type=Path, default=None, help="scratch folder (default: ROOT/build/corpus)")
    parser.add_argument("--tests", default="", help="TESTS for make test (pytest arguments)")
    parser.add_argument("--workers", default="auto", help="TEST_WORKERS for make test")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    out = (args.out or root / "build" / "corpus").resolve()
    added = copy_checkout(root, out)
    print(f"test_corpus: {out}: data/raw/ holds every bulletin of the package and the {len(added)} fixture "
          f"bulletins: {', '.join(added)}", flush=True)
    steps = [["make"], ["make", "docs"], ["make", "test", f"TEST_WORKERS={args.workers}"]
             + ([f"TESTS={args.tests}"] if args.tests else [])]
    for step in steps:
        print(f"test_corpus: {' '.join(step)}", flush=True)
        result = subprocess.run(step, cwd=out)
        if result.returncode:
            print(f"test_corpus: `{' '.join(step)}` failed in {out} (exit {result.returncode})", file=sys.stderr)
            return result.returncode
    print(f"test_corpus: the suite passes with {len(added)} fixture bulletins in data/raw/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
