"""The build as `make` runs it: extract, describe, validate, and only then publish.

1. scripts/claims/extract.py builds every table from data/raw/ (stops on bad input);
2. the tables and a descriptor (scripts/outputs/build_descriptor.py) are written to a
   staging folder under build/;
3. scripts/checks/validate.py checks the staged package (frictionless + Pandera);
4. only a valid package replaces the published data/*.csv and datapackage.json,
   file by file with an atomic rename. A failure at any step leaves the last
   good files byte for byte as they were, and exits non-zero.

    python -m scripts.outputs.publish [--root DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from . import build_descriptor, build_dictionary
from ..claims import extract
from ..checks import validate
from ..common import ROOT, BuildError, atomic_write_bytes, fail, json_bytes, load_descriptor, package_spec
from ..inputs import declarations
from ..inputs.yaml_input import Problem


VALIDATED_STAMP = Path("build") / "validated.stamp"  # the Makefile's $(VALIDATED)


class InvalidPackage(BuildError):
    """The staged package fails the gate: each failure of a row the curator's input made is named at
    the annotation file and line of that row (and the field's line in schema/package.yaml), the
    others under datapackage.json; nothing is published."""

    def __init__(self, root: Path, failures: list, result: dict):
        self.problems, rest = [], []
        spec, origins = result.get("spec") or {}, result.get("origins") or {}
        for failure in failures:
            origin = self.origin(failure, result, origins)
            if origin is None:
                rest.append(failure)
                continue
            table = Path(failure.file).stem
            declared = spec and failure.column and declarations.line(spec, table, failure.column)
            at = f" ({table}.{failure.column} is declared at {declarations.place(spec, table, failure.column)})" \
                if declared else ""
            self.problems.append(Problem(origin[0], origin[1], "", f"the row this entry makes fails the gate: "
                                         f"{failure}{at}; nothing was published"))
        if rest:
            report = "\n".join(f"  {f}" for f in rest)
            self.problems.append(Problem(root / "datapackage.json", None, "",
                                         f"the built package is not valid; nothing was published:\n{report}"))
        super().__init__(self.problems[0].path, self.problems[0].what, self.problems[0].line)

    @staticmethod
    def origin(failure, result: dict, origins: dict):
        """The annotation file and line of the row a failure names (`data/<table>.csv row N`)."""
        table = Path(failure.file).stem
        rows, fields = result["rows"].get(table), result["fields"].get(table)
        if not failure.file.startswith("data/") or not rows or not fields or not failure.row \
                or not 2 <= failure.row < len(rows) + 2:
            return None
        origin = origins.get(rows[failure.row - 2].get(fields[0]))
        return origin if origin and origin[1] else None

    def __str__(self):
        return "\n".join(map(str, self.problems))


def publish(root: Path = ROOT) -> dict:
    """Build, stage, validate and publish the package at `root`; returns row counts."""
    root = Path(root)
    result = extract.build(root)
    (root / "build").mkdir(exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix="stage-", dir=root / "build"))
    try:
        extract.write(result, stage / "data")
        (stage / "data" / "raw").symlink_to((root / "data" / "raw").resolve(), target_is_directory=True)
        atomic_write_bytes(stage / "datapackage.json",
                           json_bytes(build_descriptor.descriptor(package_spec(root), stage)))
        failures = validate.validate(stage)
        if failures:
            raise InvalidPackage(root, failures, result)
        for name in result["fields"]:
            os.replace(stage / "data" / f"{name}.csv", root / "data" / f"{name}.csv")
        os.replace(stage / "datapackage.json", root / "datapackage.json")
        # These very files were just validated: record it as `make validate` does, so make
        # does not run the same validation a second time.
        (root / VALIDATED_STAMP).touch()
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return {name: len(rows) for name, rows in result["rows"].items()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="package folder (default: this repository)")
    args = parser.parse_args(argv)
    try:
        counts = publish(args.root)
    except BuildError as error:
        fail(error)
    print("publish: " + ", ".join(f"{name} {n}" for name, n in counts.items()), file=sys.stdout)
    for line in build_dictionary.coverage_by_source(load_descriptor(args.root), args.root):
        print("coverage: " + line, file=sys.stdout)


if __name__ == "__main__":
    main()
