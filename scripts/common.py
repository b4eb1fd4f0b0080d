"""Paths, errors, YAML with line numbers and atomic writes shared by the build scripts."""

from __future__ import annotations

import copy
import csv
import io
import json
import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Modalities of a claim that has happened (or is happening): an event told so cannot be dated after the
# bulletin that reports it; a future, possible or planned one may (the build and the gate both check it).
PAST_MODALITIES = ("in_effect", "under_way")
# Modalities of a claim told as still to come: a weekday phrase on one ("on Saturday") is the next such
# day on or after the bulletin's publication, not the last one before it.
FORWARD_MODALITIES = ("future", "expected")


class BuildError(Exception):
    """A problem with the inputs, reported as `file:line: reason` (line optional)."""

    def __init__(self, path, reason, line=None, column=None):
        self.path, self.reason, self.line, self.column = Path(path), reason, line, column
        super().__init__(str(self))

    def __str__(self):
        try:
            shown = self.path.relative_to(ROOT)
        except ValueError:
            shown = self.path
        where = f"{shown}:{self.line}" if self.line else f"{shown}"
        if self.column:
            where += f" (column {self.column})"
        return f"{where}: {self.reason}"


def load_yaml(path: Path, with_lines: bool = False):
    """A YAML input, read strictly (scripts/inputs/yaml_input.py): YAML 1.2 scalars, no
    duplicate keys, no aliases. With `with_lines`, every mapping records its line as
    `__line__` and the line of each key as `__lines__[key]`. Raises InputErrors
    (a BuildError) listing every problem of the file."""
    from .inputs.yaml_input import load
    return load(path, with_lines=with_lines).data


def line_of(entry: dict, key: str | None = None) -> int | None:
    """The line of `key` in a mapping loaded with lines (else of the mapping)."""
    return entry.get("__lines__", {}).get(key) or entry.get("__line__")


_SPECS: dict[tuple[str, bytes], dict] = {}


def package_spec(root: Path = ROOT) -> dict:
    """schema/package.yaml: package metadata and the table schemas, checked before anything is
    built from them (scripts/inputs/declarations.py: every slip is an InputErrors naming its line)
    and parsed once per content; each caller gets its own copy. `_digest` names the content."""
    path = Path(root) / "schema" / "package.yaml"
    try:
        key = (str(path.resolve()), path.read_bytes())
    except OSError:
        return load_yaml(path)  # reports the missing or unreadable file
    if key not in _SPECS:
        import hashlib
        from .inputs import declarations
        _SPECS.clear()
        spec = declarations.spec(path)
        spec["_digest"], spec["_path"] = hashlib.sha256(key[1]).hexdigest(), str(path)
        _SPECS[key] = spec
    return copy.deepcopy(_SPECS[key])


ADDRESS_PATTERNS = {"homepage": r"https?://[^\s/]+(/\S*)?", "site_url": r"https?://[^\s/]+(/\S*)?",
                    "doi": r"10\.\d{4,9}/\S+"}


def addresses(spec: dict) -> dict[str, str]:
    """Where the dataset lives, from schema/package.yaml: `homepage` (its repository), `site_url` (its
    public site) and `doi`, only those that are set (each is empty until it is real), plus `doi_url`
    when there is a DOI. A malformed one stops the build, naming the key."""
    found = {}
    for key, pattern in ADDRESS_PATTERNS.items():
        value = str(spec.get(key) or "").strip()
        if not value:
            continue
        if not re.fullmatch(pattern, value):
            raise BuildError("schema/package.yaml", f"{key}: {value!r} is not "
                             + ("a DOI such as 10.5281/zenodo.123 (without https://doi.org/)" if key == "doi"
                                else "an http(s) address"), line=line_of(spec, key))
        found[key] = value.rstrip("/")
    if "doi" in found:
        found["doi_url"] = f"https://doi.org/{found['doi']}"
    return found


def load_descriptor(root: Path = ROOT) -> dict:
    """The built datapackage.json of the package at `root`."""
    path = Path(root) / "datapackage.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BuildError(path, "not built (run `make`)") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BuildError(path, f"not valid JSON: {exc}", line=getattr(exc, "lineno", None)) from None


def table_resources(descriptor: dict) -> list[dict]:
    """The descriptor's tables (Data Package v2: `"type": "table"`, with a schema), in order."""
    return [r for r in descriptor["resources"] if r.get("type") == "table"]


def text_resources(descriptor: dict) -> list[dict]:
    """The archived texts: plain-text resources, not tables. Data Package v2 allows no `type` but
    "table", so a text is known by its media type."""
    return [r for r in descriptor["resources"] if r.get("type") != "table" and r.get("mediatype") == "text/plain"]


def field_names(spec: dict) -> dict[str, list[str]]:
    """Table name -> ordered field names, as the descriptor defines them."""
    return {r["name"]: [f["name"] for f in r["fields"]] for r in spec["resources"]}


def read_csv_rows(path: Path) -> list[dict]:
    """A published table's rows as dicts of strings (empty cells stay "")."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    except FileNotFoundError:
        raise BuildError(path, "table not built (run `make`)") from None


def file_mode() -> int:
    """The mode a plain `open(path, "w")` gives a new file: 0o666 less the process's umask
    (reading the umask means setting it: it is put back at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: readers never see half a file.
    The file gets the mode a plain `open(path, "w")` would give it (`file_mode`): mkstemp
    creates it 0o600, which a file renamed into place would keep, so a web server
    running as another user could not read what the build publishes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            os.fchmod(handle.fileno(), file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def csv_bytes(fields: list[str], rows: list[dict]) -> bytes:
    """CSV with LF line endings, UTF-8, no BOM; None -> empty, booleans -> true/false."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(fields)
    for row in rows:
        extra = set(row) - set(fields)
        if extra:
            raise ValueError(f"row {row.get(fields[0])} has fields not in the schema: {sorted(extra)}")
        writer.writerow([_cell(row.get(name)) for name in fields])
    return buffer.getvalue().encode("utf-8")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def json_bytes(data) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def fail(error: Exception, code: int = 1):
    """Print the error (one line per problem when it lists several) and exit."""
    for problem in getattr(error, "problems", None) or [error]:
        print(f"error: {problem}", file=sys.stderr)
    sys.exit(code)
