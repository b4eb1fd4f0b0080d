"""The release: the data package -> dist/<name>-<version>.zip + dist/SHA256SUMS.

The archive holds every file datapackage.json names (the tables and the
archived bulletins), the rest of each bulletin's folder (its metadata and
annotations), the reference data, and what a reader needs (README, figures,
every citation format, CHANGELOG, licences, and the loader temperer_data.py with the
pyproject.toml that makes the folder pip-installable), each table as Parquet with
datapackage.parquet.json describing those files (scripts/outputs/build_parquet.py), all under one folder named
<name>-<version>/. The loader sits beside datapackage.json, so a script anywhere loads the
package by putting that folder on its path (or after `pip install <folder>`). It is byte-reproducible: entries in
sorted order, every timestamp set to the release date, fixed permissions and
compression, no directory entries or extra fields. SHA256SUMS is in `sha256sum -c` format.

The release also records the IDs it publishes: data/releases/<version>-ids.csv (table_name, id;
every row of every table but retired_ids, in the descriptor's order), which the build checks every
later version against (a released ID is kept or retired, scripts/claims/extract.py add_retired). The
first `make dist` of a version writes it (commit it with the release); a later one checks that the
package still publishes every one of those IDs with its meaning, and stops naming the first that
changed: a released version's IDs never change. IDs added since (a bulletin added, the version left
as it is) are reported; `make release` (--release) refuses them, since what it publishes under a
released version must be that release: a changed package is a new version.

    python -m scripts.outputs.build_dist [--root DIR] [--out DIR] [--release]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import os
import zipfile
from datetime import date
from pathlib import Path

from . import build_parquet
from ..claims import claim_rows
from ..common import ROOT, BuildError, atomic_write_bytes, csv_bytes, fail, load_descriptor, package_spec

# Beside what the descriptor names: the documents a reader of the package needs, every citation
# format, and the loader the README's recipes use (it needs nothing but the package) with its
# pyproject.toml.
DOCUMENTS = ("README.md", "codebook.html", "CITATION.cff", ".zenodo.json", "CHANGELOG.md", "LICENSE", "LICENSE-DATA",
             "temperer_data.py", "pyproject.toml")
# Folders packed whole: the inputs behind the tables, the figures the README shows, the citations,
# and the docs pages the README links to.
FOLDERS = ("data/raw", "data/reference", "figures", "citation", "docs")
FILE_MODE = 0o644
# The table of IDs earlier releases published and this one no longer has: not IDs of its own.
RETIRED_TABLE = "retired_ids"
# The index of the fact kinds' rows by their own IDs: each ID is recorded once, in its own table.
CLAIMS_INDEX = "claims"


def release_ids(root: Path, descriptor: dict) -> bytes:
    """data/releases/<version>-ids.csv as this package would record it: (table_name, id, meaning) of
    every row of every table but the retired IDs, tables in the descriptor's order, rows in the
    table's order. `meaning` is a fact kind's row's meaning (scripts/claims/claim_rows.py): a later version
    that keeps the ID must keep it too (a changed meaning is a new row, with a new ID)."""
    spec = {res["name"]: res for res in package_spec(root)["resources"]}
    rows = []
    for res in descriptor["resources"]:
        key = (res.get("schema") or {}).get("primaryKey")
        if not key or res["name"] == RETIRED_TABLE or res["name"] == CLAIMS_INDEX:
            continue
        key = key if isinstance(key, str) else key[0]
        with open(Path(root) / res["path"], newline="", encoding="utf-8") as handle:
            fact_kind = spec.get(res["name"], {}).get("claim") is not None
            rows += [{"table_name": res["name"], "id": row[key],
                      "meaning": claim_rows.meaning(spec[res["name"]], row) if fact_kind else None}
                     for row in csv.DictReader(handle)]
    return csv_bytes(["table_name", "id", "meaning"], rows)


def record_release(root: Path, descriptor: dict, releasing: bool = False) -> str:
    """Write data/releases/<version>-ids.csv if this version has none yet; else check the package
    still publishes every ID it records, with the same meaning (raises BuildError at the recorded line
    that differs). IDs the package adds beyond the list (a bulletin added since) are the next
    release's: a working build reports them; `releasing` (make release) refuses them, since a released
    version's IDs never change and the changed package must be given a new version."""
    path = Path(root) / "data" / "releases" / f"{descriptor['version']}-ids.csv"
    data = release_ids(root, descriptor)
    version = descriptor["version"]
    if not path.exists():
        atomic_write_bytes(path, data)
        # Written from the published tables, it is no newer than they are: `make` need not rebuild them.
        stamp = (Path(root) / "datapackage.json").stat().st_mtime_ns
        os.utime(path, ns=(stamp, stamp))
        return f"recorded the IDs release {version} publishes in {path} (commit it with the release)"
    recorded = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))[1:]
    current = {(table, id_): meaning for table, id_, meaning in csv.reader(io.StringIO(data.decode("utf-8")))}
    never = (f"A released version's IDs never change: keep or retire each ID release {version} published "
             "(data/releases/retired-ids.yaml) and give the changed package a new version (schema/package.yaml)")
    for line, (table, id_, meaning) in enumerate(recorded, 2):
        if (table, id_) not in current:
            raise BuildError(path, f"release {version} published {table} ID '{id_}', which the package no "
                             f"longer has. {never}", line)
        if current[(table, id_)] != meaning:
            raise BuildError(path, f"release {version} published {table} ID '{id_}' meaning {meaning!r}; the "
                             f"package gives it {current[(table, id_)]!r}. {never}", line)
    released = {(table, id_) for table, id_, _ in recorded}
    added = [f"{table},{id_}" for table, id_ in current if (table, id_) not in released | {("table_name", "id")}]
    if added and releasing:
        raise BuildError(path, f"the package publishes {len(added)} IDs release {version} does not record "
                         f"(the first: {added[0]}): it is not release {version}. Give it a new version "
                         "(schema/package.yaml) and a CHANGELOG.md entry, then `make release`", len(recorded) + 1)
    if added:
        return (f"the IDs of release {version} are all kept ({path}); {len(added)} IDs added since are not "
                f"released yet (the first: {added[0]}): give the package a new version before `make release`")
    return f"the IDs of release {version} agree with {path}"


def archive_files(root: Path, descriptor: dict) -> list[str]:
    """Paths (relative, POSIX) of everything the archive holds, sorted."""
    root = Path(root)
    names = {res["path"] for res in descriptor["resources"]} | {"datapackage.json", *DOCUMENTS}
    for folder in FOLDERS:
        names |= {p.relative_to(root).as_posix() for p in (root / folder).rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts and not p.name.endswith(".tmp")}
    missing = sorted(n for n in names if not (root / n).is_file())
    if missing:
        raise BuildError(root, f"files the release needs are missing: {', '.join(missing)} (run `make docs`)")
    return sorted(names)


def zip_bytes(root: Path, prefix: str, names: list[str], released: date, made: dict[str, bytes] | None = None) -> bytes:
    """The archive of `names` (files under `root`) and of `made` (name -> bytes written for the release)."""
    made = made or {}
    buffer = io.BytesIO()
    stamp = (released.year, released.month, released.day, 0, 0, 0)
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted({*names, *made}):
            info = zipfile.ZipInfo(f"{prefix}/{name}", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the permissions below are read
            info.external_attr = (0o100000 | FILE_MODE) << 16  # a regular file, rw-r--r--
            data = made[name] if name in made else (Path(root) / name).read_bytes()
            archive.writestr(info, data, compresslevel=9)
    return buffer.getvalue()


def build(root: Path) -> tuple[str, bytes]:
    descriptor = load_descriptor(root)
    prefix = f"{descriptor['name']}-{descriptor['version']}"
    released = date.fromisoformat(descriptor["created"][:10])
    # The Parquet files and their descriptor are made from the validated tables for the release only.
    return f"{prefix}.zip", zip_bytes(root, prefix, archive_files(root, descriptor), released,
                                      build_parquet.build(root, descriptor))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="package folder (holds datapackage.json)")
    parser.add_argument("--out", type=Path, default=None, help="folder for the archive (default: ROOT/dist)")
    parser.add_argument("--release", action="store_true",
                        help="releasing: the package must publish exactly the IDs its version records")
    args = parser.parse_args(argv)
    out = args.out or args.root / "dist"
    try:
        name, data = build(args.root)
        recorded = record_release(args.root, load_descriptor(args.root), releasing=args.release)
    except BuildError as error:
        fail(error)
    atomic_write_bytes(out / name, data)
    digest = hashlib.sha256(data).hexdigest()
    atomic_write_bytes(out / "SHA256SUMS", f"{digest}  {name}\n".encode("ascii"))
    print(f"build_dist: {recorded}")
    print(f"build_dist: wrote {out / name} ({len(data):,} bytes, sha256 {digest}) and {out / 'SHA256SUMS'}")


if __name__ == "__main__":
    main()
