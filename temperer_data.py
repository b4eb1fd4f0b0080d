"""Load a Frictionless data package's tables with the types its descriptor gives them: into pandas,
or into DuckDB.

A reader's tool, not a build step: it needs only pandas (and duckdb for `duckdb_views`), reads
nothing but datapackage.json and the CSV files it names, and works from any folder. It sits at the
top of the release archive beside datapackage.json, so a script of your own loads the release in
three lines:

    import sys; sys.path.insert(0, "operation-temperer-2017-05-24-2.0.0")  # or: pip install ./<that folder>
    from temperer_data import load_tables
    tables = load_tables("operation-temperer-2017-05-24-2.0.0")   # {table name: DataFrame}

    python -m temperer_data [TABLE ...] [--descriptor PATH]   # prints types and rows

pandas types, from each field of the descriptor:

    string    pandas "string" (IDs and e164 numbers stay text: '+44800789321', never 4.48e+10)
    integer   "Int64", nullable (an empty cell is <NA>, and 3800 stays 3800, not 3800.0)
    number    "Float64", nullable
    boolean   "boolean", nullable (the CSV's true/false)
    date      datetime64 (so `.dt` works); an empty cell is NaT
    datetime  datetime64 with a time zone. A column whose values state one UTC offset keeps it
              (2017-05-24T20:15:00+01:00 stays 20:15 in UTC+01:00, not 19:15 UTC); a column whose
              values state different offsets comes back in UTC (the same instants); a column with
              no offsets stays naive. A column mixing the two is an error.
    time      datetime.time objects (pandas has no time-of-day type)
    coded     a field with allowed values is a pandas Categorical of those values, in the
              descriptor's order: Data Package v2 `categories` (plain values or {value, label}),
              else `constraints.enum`; ordered when the field says `"categoriesOrdered": true`

Only tables (resources with a schema) are loaded: an archived text is skipped. The primary key stays
an ordinary column, and a cell is missing only when the schema's missingValues say so (here: the
empty string; "NA" is text). A value the type or the categories do not allow is an error naming the
file, row and column.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

import pandas as pd

__all__ = ["load_tables", "load_table", "duckdb_views", "table_resources", "categories"]

DEFAULT_DESCRIPTOR = Path(__file__).resolve().parent / "datapackage.json"
TRUE_VALUES, FALSE_VALUES = ("true", "True", "TRUE", "1"), ("false", "False", "FALSE", "0")
PARSERS = {"integer": int, "number": float, "date": datetime.date.fromisoformat,
           "time": datetime.time.fromisoformat, "datetime": datetime.datetime.fromisoformat}
DTYPES = {"string": "string", "integer": "Int64", "number": "Float64", "boolean": "boolean"}
DUCKDB_TYPES = {"string": "VARCHAR", "integer": "BIGINT", "number": "DOUBLE", "boolean": "BOOLEAN",
                "date": "DATE", "time": "TIME", "datetime": "TIMESTAMPTZ"}


def boolean(text: str) -> bool:
    if text in TRUE_VALUES:
        return True
    if text in FALSE_VALUES:
        return False
    raise ValueError(f"not a boolean: {text!r}")


def descriptor_and_folder(descriptor) -> tuple[dict, Path]:
    """The descriptor (a datapackage.json, or the folder holding one) and the folder its paths are in."""
    path = Path(descriptor).expanduser()
    if path.is_dir():
        path = path / "datapackage.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no datapackage.json here (give the unpacked release's folder or its "
                                "datapackage.json)")
    return json.loads(path.read_text(encoding="utf-8")), path.parent


def table_resources(package: dict) -> dict[str, dict]:
    """The resources that are tables (with a schema), by name, in the descriptor's order."""
    return {r["name"]: r for r in package["resources"] if r.get("type") == "table" and "schema" in r}


def categories(field: dict) -> tuple[list, bool] | None:
    """(the allowed values in order, whether they are ordered), or None for a field without them.
    Data Package v2 `categories` first (a list of values or of {"value", "label"}), else
    `constraints.enum` (never ordered)."""
    if "categories" in field:
        values = [c["value"] if isinstance(c, dict) else c for c in field["categories"]]
        return values, bool(field.get("categoriesOrdered", False))
    enum = field.get("constraints", {}).get("enum")
    return (list(enum), False) if enum else None


def parsed_cells(values: pd.Series, field: dict, missing: set[str], where: str) -> list:
    kind = field.get("type", "string")
    parse = boolean if kind == "boolean" else PARSERS.get(kind)
    cells = []
    for row, text in enumerate(values, start=2):  # row 1 is the header
        if text in missing:
            cells.append(None)
        elif parse is None:
            cells.append(text)
        else:
            try:
                cells.append(parse(text))
            except ValueError as error:
                raise ValueError(f"{where} row {row} column {field['name']}: {error}") from None
    return cells


def datetimes(cells: list, field: dict, where: str) -> pd.Series:
    """datetime64, keeping the column's one stated UTC offset (else UTC; naive when none is stated)."""
    offsets = {cell.utcoffset() for cell in cells if cell is not None}
    if not offsets or offsets == {None}:
        return pd.to_datetime(pd.Series(cells, dtype=object))
    if None in offsets:
        raise ValueError(f"{where} column {field['name']}: mixes times with and without a UTC offset")
    instants = pd.to_datetime(pd.Series(cells, dtype=object), utc=True)
    if len(offsets) > 1:
        return instants
    return instants.dt.tz_convert(datetime.timezone(offsets.pop()))


def categorical(cells: list, field: dict, allowed: tuple[list, bool], where: str) -> pd.Series:
    values, ordered = allowed
    known = set(values)
    for row, cell in enumerate(cells, start=2):
        if cell is not None and cell not in known:  # pandas would make it a silent NaN
            raise ValueError(f"{where} row {row} column {field['name']}: {cell!r} is not one of its categories "
                             f"{values}")
    return pd.Series(pd.Categorical(cells, categories=values, ordered=ordered))


def typed_column(values: pd.Series, field: dict, missing: set[str], where: str) -> pd.Series:
    kind = field.get("type", "string")
    cells = parsed_cells(values, field, missing, where)
    allowed = categories(field)
    if allowed is not None:
        values_typed = [PARSERS[kind](v) if kind in ("integer", "number") and isinstance(v, str) else v
                        for v in allowed[0]]
        column = categorical(cells, field, (values_typed, allowed[1]), where)
    elif kind == "date":
        column = pd.to_datetime(pd.Series(cells, dtype=object))
    elif kind == "datetime":
        column = datetimes(cells, field, where)
    else:
        column = pd.Series(cells, dtype=DTYPES.get(kind, "object"))
    return column.rename(field["name"])


def read_table(resource: dict, folder: Path) -> pd.DataFrame:
    path = folder / resource["path"]
    schema = resource["schema"]
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8")
    names = [f["name"] for f in schema["fields"]]
    if list(raw.columns) != names:
        raise ValueError(f"{path}: header {list(raw.columns)} is not the schema's fields {names}")
    missing = set(schema.get("missingValues", [""]))
    return pd.DataFrame({f["name"]: typed_column(raw[f["name"]], f, missing, str(path)) for f in schema["fields"]})


def load_table(name: str, descriptor=DEFAULT_DESCRIPTOR) -> pd.DataFrame:
    """One table of the package as a typed DataFrame."""
    package, folder = descriptor_and_folder(descriptor)
    tables = table_resources(package)
    if name not in tables:
        raise KeyError(f"no table {name!r} in {descriptor}; tables: {', '.join(tables)}")
    return read_table(tables[name], folder)


def load_tables(descriptor=DEFAULT_DESCRIPTOR) -> dict[str, pd.DataFrame]:
    """Every table of the package (its folder or its datapackage.json) as a typed DataFrame, by name."""
    package, folder = descriptor_and_folder(descriptor)
    return {name: read_table(resource, folder) for name, resource in table_resources(package).items()}


def duckdb_sql(resource: dict, folder: Path) -> str:
    """`select * from read_csv(...)` for one table, with every column typed from its schema."""
    columns = ", ".join(f"'{f['name']}': '{DUCKDB_TYPES.get(f.get('type'), 'VARCHAR')}'"
                        for f in resource["schema"]["fields"])
    path = str(folder / resource["path"]).replace("'", "''")
    return (f"select * from read_csv('{path}', header = true, auto_detect = false, nullstr = '', "
            f"columns = {{{columns}}})")


def duckdb_views(connection, descriptor=DEFAULT_DESCRIPTOR) -> list[str]:
    """A view per table in a DuckDB connection, typed from the descriptor. Returns the view names.
    A datetime is a TIMESTAMPTZ: the same instant, shown in the connection's time zone."""
    package, folder = descriptor_and_folder(descriptor)
    tables = table_resources(package)
    for name, resource in tables.items():
        connection.execute(f'create or replace view "{name}" as {duckdb_sql(resource, folder.resolve())}')
    return list(tables)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tables", nargs="*", help="tables to show (default: all)")
    parser.add_argument("--descriptor", type=Path, default=DEFAULT_DESCRIPTOR,
                        help="the package's datapackage.json, or its folder")
    args = parser.parse_args(argv)
    try:
        tables = load_tables(args.descriptor)
        unknown = [name for name in args.tables if name not in tables]
        if unknown:
            raise KeyError(f"no table {', '.join(map(repr, unknown))} in {args.descriptor}; tables: {', '.join(tables)}")
    except (OSError, ValueError, KeyError) as error:
        sys.exit(f"error: {error.args[0] if isinstance(error, KeyError) else error}")
    with pd.option_context("display.width", 200, "display.max_columns", None, "display.max_colwidth", 40):
        for name in args.tables or tables:
            frame = tables[name]
            print(f"## {name}: {len(frame)} rows\n")
            print(frame.dtypes.to_string(), end="\n\n")
            print(frame.to_string(), end="\n\n")


if __name__ == "__main__":
    main()
