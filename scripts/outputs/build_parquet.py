"""The release's Parquet files: each table of datapackage.json as parquet/<table>.parquet, typed, and
datapackage.parquet.json, a Data Package v2 descriptor of them beside datapackage.json.

A CSV file carries text: every reader guesses its types, and some guesses damage values (a phone
number such as +44800789321 read as a float, an integer column with blanks as float64, a list of
sentence numbers as one integer). A Parquet file carries its types, so pandas, polars, DuckDB and R's
arrow read the same table the descriptor describes. Each field's Arrow type comes from its Table
Schema type:

    string    string (text, as in the CSV)
    integer   int64, nullable (an empty cell is null)
    number    float64
    boolean   bool
    date      date32
    datetime  timestamp with a time zone: the column's one stated UTC offset (e.g. +01:00), else
              UTC (the same instants) when its values state different offsets; naive when none is
              stated (read by temperer_data.py, which checks the values as it parses them)
    time      time64 (microseconds)
    coded     a field with categories (v2 `categories`, else `constraints.enum`) is a dictionary
              (categorical) of every allowed value in the descriptor's order, ordered when the field
              says `"categoriesOrdered": true`

The files also hold pandas' own metadata, so `pandas.read_parquet` gives nullable Int64, boolean and
string columns and Categoricals. Written with fixed settings (one row group, zstd, the pinned
pyarrow), the bytes depend only on the tables: scripts/outputs/build_dist.py packs them into the release
archive, which stays byte-reproducible.

datapackage.parquet.json names the same tables, with the same schemas, as resources with format
`parquet`; it is separate from datapackage.json so that a reader of the CSV package (frictionless,
frictionless-r, the loader) meets only the CSV files. `frictionless validate datapackage.parquet.json`
reads every file against its schema; each resource gives the file's SHA-256 but not its `bytes`,
which frictionless 5.21 cannot count for a Parquet file (it reports every such count as wrong).
"""

from __future__ import annotations

import datetime
import hashlib
import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

import temperer_data

from ..common import json_bytes

FOLDER = "parquet"
DESCRIPTOR = "datapackage.parquet.json"
MEDIATYPE = "application/vnd.apache.parquet"
PLAIN_TYPES = {"string": pa.string(), "integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_(),
               "date": pa.date32(), "time": pa.time64("us")}
# The resource keys that describe the CSV file, not the table: replaced by the Parquet file's own.
CSV_KEYS = ("path", "scheme", "format", "mediatype", "encoding", "bytes", "hash", "dialect")


def path_of(resource: dict) -> str:
    return f"{FOLDER}/{resource['name']}.parquet"


def zone_name(zone) -> str | None:
    """An Arrow time zone for a pandas one: a fixed offset as +HH:MM (what polars and DuckDB read),
    UTC as UTC, a named zone by its name; None for naive times."""
    if zone is None or str(zone) == "UTC":
        return None if zone is None else "UTC"
    if isinstance(zone, datetime.timezone):
        minutes = int(zone.utcoffset(None).total_seconds()) // 60
        return f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return str(zone)


def arrow_type(field: dict, column) -> pa.DataType:
    """The Arrow type of one field (`column` is the loader's typed pandas column, whose time zone a
    datetime takes)."""
    allowed = temperer_data.categories(field)
    kind = field.get("type", "string")
    if allowed is not None:
        return pa.dictionary(pa.int32(), PLAIN_TYPES.get(kind, pa.string()), ordered=allowed[1])
    if kind == "datetime":
        return pa.timestamp("s", tz=zone_name(getattr(column.dtype, "tz", None)))
    if kind not in PLAIN_TYPES:
        raise ValueError(f"field {field['name']}: no Parquet type for Table Schema type {kind!r}")
    return PLAIN_TYPES[kind]


def table_bytes(resource: dict, folder: Path) -> bytes:
    """One table as Parquet bytes, typed from its schema (see the module's docstring)."""
    frame = temperer_data.read_table(resource, folder)
    fields = resource["schema"]["fields"]
    schema = pa.schema([pa.field(f["name"], arrow_type(f, frame[f["name"]]), nullable=True,
                                 metadata={"description": f.get("description", "")}) for f in fields])
    table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd", row_group_size=max(len(frame), 1), write_statistics=True)
    return buffer.getvalue()


def build(root: Path, descriptor: dict) -> dict[str, bytes]:
    """{path in the release: bytes}: parquet/<table>.parquet for every table of `descriptor`, and
    datapackage.parquet.json describing them."""
    root = Path(root)
    files, resources = {}, []
    for resource in temperer_data.table_resources(descriptor).values():
        data = table_bytes(resource, root)
        path = path_of(resource)
        files[path] = data
        described = {k: v for k, v in resource.items() if k not in CSV_KEYS}
        resources.append({**{k: described[k] for k in ("name", "type", "title") if k in described},
                          "description": f"{resource.get('description', '')} Parquet: the table of "
                                         f"{resource['path']} with its types (scripts/outputs/build_parquet.py).".strip(),
                          "path": path, "scheme": "file", "format": "parquet", "mediatype": MEDIATYPE,
                          "hash": "sha256:" + hashlib.sha256(data).hexdigest(),
                          **{k: v for k, v in described.items() if k not in ("name", "type", "title", "description")}})
    package = {k: v for k, v in descriptor.items() if k != "resources"}
    package["name"] = f"{descriptor['name']}-parquet"
    package["title"] = f"{descriptor['title']} (Parquet)"
    package["description"] = (f"The tables of {descriptor['name']} {descriptor['version']} as Parquet files, typed "
                              "from datapackage.json, which describes the same tables as CSV.")
    package["resources"] = resources
    files[DESCRIPTOR] = json_bytes(package)
    return files
