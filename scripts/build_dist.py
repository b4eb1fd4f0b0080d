"""The release: the data package -> dist/<name>-<version>.zip + dist/SHA256SUMS.

The archive holds every file datapackage.json names (the tables and the
archived bulletins), the rest of each bulletin's folder (its metadata and
annotations), the reference data, and what a reader needs (README, figures,
every citation format, CHANGELOG, licences, and the loader temperer_data.py with the
pyproject.toml that makes the folder pip-installable), all under one folder named
<name>-<version>/. The loader sits beside datapackage.json, so a script anywhere loads the
package by putting that folder on its path (or after `pip install <folder>`). It is byte-reproducible: entries in
sorted order, every timestamp set to the release date, fixed permissions and
compression, no directory entries or extra fields. SHA256SUMS is in `sha256sum -c` format.

    python -m scripts.build_dist [--root DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import zipfile
from datetime import date
from pathlib import Path

from .common import load_descriptor
from .common import ROOT, BuildError, atomic_write_bytes, fail

# Beside what the descriptor names: the documents a reader of the package needs, every citation
# format, and the loader the README's recipes use (it needs nothing but the package) with its
# pyproject.toml.
DOCUMENTS = ("README.md", "codebook.html", "CITATION.cff", ".zenodo.json", "CHANGELOG.md", "LICENSE", "LICENSE-DATA",
             "temperer_data.py", "pyproject.toml")
# Folders packed whole: the inputs behind the tables, the figures the README shows, the citations.
FOLDERS = ("data/raw", "data/reference", "figures", "citation")
FILE_MODE = 0o644


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


def zip_bytes(root: Path, prefix: str, names: list[str], released: date) -> bytes:
    buffer = io.BytesIO()
    stamp = (released.year, released.month, released.day, 0, 0, 0)
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            info = zipfile.ZipInfo(f"{prefix}/{name}", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the permissions below are read
            info.external_attr = (0o100000 | FILE_MODE) << 16  # a regular file, rw-r--r--
            archive.writestr(info, (Path(root) / name).read_bytes(), compresslevel=9)
    return buffer.getvalue()


def build(root: Path) -> tuple[str, bytes]:
    descriptor = load_descriptor(root)
    prefix = f"{descriptor['name']}-{descriptor['version']}"
    released = date.fromisoformat(descriptor["created"][:10])
    return f"{prefix}.zip", zip_bytes(root, prefix, archive_files(root, descriptor), released)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="package folder (holds datapackage.json)")
    parser.add_argument("--out", type=Path, default=None, help="folder for the archive (default: ROOT/dist)")
    args = parser.parse_args(argv)
    out = args.out or args.root / "dist"
    try:
        name, data = build(args.root)
    except BuildError as error:
        fail(error)
    atomic_write_bytes(out / name, data)
    digest = hashlib.sha256(data).hexdigest()
    atomic_write_bytes(out / "SHA256SUMS", f"{digest}  {name}\n".encode("ascii"))
    print(f"build_dist: wrote {out / name} ({len(data):,} bytes, sha256 {digest}) and {out / 'SHA256SUMS'}")


if __name__ == "__main__":
    main()
