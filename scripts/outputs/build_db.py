"""Step 4 of the flow: the validated package -> build/<package name>.db for Datasette.

Every table of datapackage.json becomes a SQLite table with the descriptor's
column types, primary key, foreign keys (indexed) and NOT NULL for required
fields. One table exists only in the database, to read the archived text in
place: `source_texts` (each bulletin's full text); its sentences come from the
package's own `sentences` table (cut by scripts/claims/sentences.py). Full-text search
(FTS5, porter stemming) covers the evidence quotes, the statements, the source
texts, the sentences and the free-text columns of every other table that has
one. The database is written to a temporary file and renamed.

    python -m scripts.outputs.build_db [--root DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import tempfile
from pathlib import Path

import sqlite_utils

from ..common import ROOT, BuildError, fail, file_mode, load_descriptor

# Table Schema type -> SQLite column type (dates and times stay ISO 8601 text).
SQL_TYPES = {"string": str, "integer": int, "number": float, "boolean": int,
             "date": str, "time": str, "datetime": str, "year": int}
TRUE_VALUES, FALSE_VALUES = ("true", "True", "TRUE", "1"), ("false", "False", "FALSE", "0")

# Columns searchable with full-text search: the words of the source, as quoted or archived.
FULL_TEXT = {"evidence": ["quote"], "statements": ["text"], "source_texts": ["text"], "sentences": ["text"]}

FTS5_RESERVED = {"rank", "rowid"}  # column names an FTS5 table cannot have


def search_columns(resource: dict) -> list[str]:
    """The columns of a package table a reader searches: free text (strings with no pattern, no enum,
    not a key). Every table with one gets full-text search, so a search box is offered where it works."""
    schema = resource["schema"]
    keys = set(schema["primaryKey"]) | {f for fk in schema.get("foreignKeys", []) for f in fk["fields"]}
    return [f["name"] for f in schema["fields"]
            if f["type"] == "string" and f["name"] not in keys | FTS5_RESERVED and not f["name"].endswith("_id")
            and not {"pattern", "enum"} & set(f.get("constraints", {}))]


# The tables that exist only in the database: their columns and what they hold.
# build_datasette_metadata documents them from here.
EXTRA_TABLES = {
    "source_texts": {
        "title": "Source texts",
        "description": "The full archived text of each bulletin, exactly as the evidence offsets read it "
                       "(decoded UTF-8). Built from the files under data/raw/.",
        "pk": "source_id",
        "foreign_keys": [("source_id", "sources", "source_id")],
        "columns": {
            "source_id": (str, "The source whose text this is."),
            "path": (str, "Path of the archived text inside the package."),
            "characters": (int, "Length of the text in characters."),
            "text": (str, "The archived text."),
        },
    },
}

def cell(value: str, field: dict, path: Path, line: int):
    """A CSV cell as the typed value SQLite stores; an empty cell is NULL."""
    if value == "":
        return None
    kind = field["type"]
    try:
        if kind in ("integer", "year"):
            return int(value)
        if kind == "number":
            return float(value)
        if kind == "boolean":
            if value in field.get("trueValues", TRUE_VALUES):
                return 1
            if value in field.get("falseValues", FALSE_VALUES):
                return 0
            raise ValueError
    except ValueError:
        raise BuildError(path, f"{value!r} is not a valid {kind}", line=line, column=field["name"]) from None
    return value


def read_rows(root: Path, resource: dict) -> list[dict]:
    path = root / resource["path"]
    fields = resource["schema"]["fields"]
    names = [f["name"] for f in fields]
    try:
        handle = open(path, newline="", encoding="utf-8")
    except FileNotFoundError:
        raise BuildError(path, "table not built (run `make data`)") from None
    with handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != names:
            raise BuildError(path, f"header {reader.fieldnames} does not match the descriptor's fields {names}",
                             line=1)
        return [{f["name"]: cell(row[f["name"]], f, path, reader.line_num) for f in fields} for row in reader]


def archived_texts(root: Path, sources: list[dict]) -> list[dict]:
    """Each source with an archived file: its text, checked against its recorded SHA-256."""
    texts = []
    for src in sources:
        if not src.get("path"):
            continue
        path = root / src["path"]
        data = path.read_bytes()
        if src.get("sha256") and hashlib.sha256(data).hexdigest() != src["sha256"]:
            raise BuildError(path, f"SHA-256 differs from the one recorded in sources ({src['sha256']})")
        text = data.decode("utf-8")
        texts.append({"source_id": src["source_id"], "path": src["path"], "characters": len(text), "text": text})
    return texts


def build(db: sqlite_utils.Database, package: dict, root: Path) -> None:
    tables = [r for r in package["resources"] if r.get("type") == "table"]
    rows = {r["name"]: read_rows(root, r) for r in tables}
    foreign_keys = []
    for res in tables:
        schema = res["schema"]
        db[res["name"]].create({f["name"]: SQL_TYPES[f["type"]] for f in schema["fields"]},
                               pk=schema["primaryKey"][0] if len(schema["primaryKey"]) == 1
                               else tuple(schema["primaryKey"]),
                               not_null={f["name"] for f in schema["fields"]
                                         if f.get("constraints", {}).get("required")})
        for fk in schema.get("foreignKeys", []):
            ref = fk["reference"]
            foreign_keys.append((res["name"], fk["fields"][0], ref.get("resource") or res["name"], ref["fields"][0]))
    texts = archived_texts(root, rows.get("sources", []))
    rows["source_texts"] = texts
    for name, spec in EXTRA_TABLES.items():
        db[name].create({col: kind for col, (kind, _) in spec["columns"].items()}, pk=spec["pk"],
                        not_null=set(spec["columns"]))
        foreign_keys.extend((name, *fk) for fk in spec["foreign_keys"])
    db.add_foreign_keys(foreign_keys)
    for name, table_rows in rows.items():
        db[name].insert_all(table_rows)
    broken = db.execute("PRAGMA foreign_key_check").fetchall()
    if broken:
        table, rowid, parent, _ = broken[0]
        row = db.execute(f"select * from [{table}] where rowid = ?", [rowid]).fetchone()
        raise BuildError(root / "datapackage.json", f"{len(broken)} foreign key(s) point nowhere, first: "
                         f"table {table} row {row[0]!r} references a missing row of {parent}")
    for table, column, _, _ in foreign_keys:
        if [column] != db[table].pks:
            db[table].create_index([column], find_unique_name=True)
    searched = {res["name"]: search_columns(res) for res in tables}
    searched.update(FULL_TEXT)
    for table, columns in searched.items():
        if columns and table in rows:
            db[table].enable_fts(columns, tokenize="porter")


def site_step(doc: str, out_help: str, argv) -> tuple[argparse.Namespace, dict]:
    """The arguments (--root, --out) of a step that builds the site from the package, and the package."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="package folder (holds datapackage.json)")
    parser.add_argument("--out", type=Path, help=out_help)
    args = parser.parse_args(argv)
    try:
        return args, load_descriptor(args.root)
    except BuildError as error:
        fail(error)


def main(argv=None) -> None:
    args, package = site_step(__doc__, "database file (default: ROOT/build/<package name>.db)", argv)
    out = args.out or args.root / "build" / f"{package['name']}.db"
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        db = sqlite_utils.Database(tmp, recreate=True)
        build(db, package, args.root)
        db.vacuum()
        db.close()
        os.chmod(tmp, file_mode())  # not mkstemp's 0o600: the site may run as another user
        os.replace(tmp, out)
    except BuildError as error:
        fail(error)
    finally:
        Path(tmp).unlink(missing_ok=True)
    print(f"build_db: wrote {out}")


if __name__ == "__main__":
    main()
