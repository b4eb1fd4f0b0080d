"""Every client reads the package typed: the properties frictionless-r needs in datapackage.json, and
the release's Parquet files read back with pandas, polars and DuckDB, each column of the type its
field's Table Schema type says (every table and field of the descriptor, none named here)."""

from __future__ import annotations

import datetime
import hashlib
import json
import zipfile

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import ROOT, read_table

import temperer_data
from scripts.outputs import build_parquet
from scripts.checks.validate import profile_failures

PACKAGE = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
TABLES = temperer_data.table_resources(PACKAGE)
FIELDS = [(name, field) for name, res in TABLES.items() for field in res["schema"]["fields"]]


def field_id(item):
    return f"{item[0]}.{item[1]['name']}"


def allowed(field: dict) -> list | None:
    """The allowed values, in order: v2 `categories` (plain or {value, label})."""
    if "categories" not in field:
        return None
    return [c["value"] if isinstance(c, dict) else c for c in field["categories"]]


def offsets(table: str, field: dict) -> set:
    """The UTC offsets the CSV's values of a datetime field state."""
    return {datetime.datetime.fromisoformat(row[field["name"]]).utcoffset()
            for row in read_table(table) if row[field["name"]]}


# ---------------------------------------------------------------- frictionless-r's requirements

def test_every_table_resource_names_the_tabular_profile_and_only_tables_do():
    assert TABLES and all(res["profile"] == "tabular-data-resource" for res in TABLES.values())
    assert all("profile" not in res for res in PACKAGE["resources"] if res["name"] not in TABLES)


def test_the_descriptor_with_the_profile_passes_the_v2_profiles():
    assert profile_failures(PACKAGE) == []


@pytest.mark.parametrize("item", [i for i in FIELDS if "categories" in i[1]], ids=field_id)
def test_each_field_with_categories_gives_them_as_enum_too(item):
    """frictionless-r makes factors from constraints.enum and ignores v2 categories."""
    _, field = item
    assert field["constraints"]["enum"] == allowed(field)


# ---------------------------------------------------------------- the Parquet files

@pytest.fixture(scope="module")
def release(release_archive, tmp_path_factory):
    """The release's files (Parquet and their descriptor) as build_dist packs them (the run's release
    archive, conftest's release_archive), unpacked."""
    out = tmp_path_factory.mktemp("release")
    with zipfile.ZipFile(release_archive) as archive:
        archive.extractall(out)
    return out / release_archive.name[:-len(".zip")]


def test_the_release_holds_a_parquet_file_per_table_described_beside_the_descriptor(release):
    described = json.loads((release / build_parquet.DESCRIPTOR).read_text(encoding="utf-8"))
    assert profile_failures(described) == []
    assert [r["name"] for r in described["resources"]] == list(TABLES)
    for res in described["resources"]:
        data = (release / res["path"]).read_bytes()
        assert (res["format"], res["mediatype"]) == ("parquet", "application/vnd.apache.parquet")
        assert res["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
        assert res["schema"] == TABLES[res["name"]]["schema"]
        assert res["profile"] == "tabular-data-resource"
    assert sorted(p.relative_to(release).as_posix() for p in (release / "parquet").iterdir()) == \
        sorted(r["path"] for r in described["resources"])


def test_frictionless_validates_the_parquet_package(release):
    """Every Parquet file read by frictionless against its table's schema, foreign keys included."""
    import frictionless
    report = frictionless.validate(release / build_parquet.DESCRIPTOR)
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:10]
    # frictionless gives no row count for an empty table (a kind no bulletin has rows of yet)
    assert {t.name: t.stats.get("rows", 0) for t in report.tasks} == {t: len(read_table(t)) for t in TABLES}


def parquet_path(release, table: str):
    return release / "parquet" / f"{table}.parquet"


@pytest.mark.parametrize("item", FIELDS, ids=field_id)
def test_arrow_types(release, item):
    table, field = item
    arrow = pq.read_schema(parquet_path(release, table)).field(field["name"]).type
    kind, values = field["type"], allowed(field)
    if values is not None:
        assert pa.types.is_dictionary(arrow) and arrow.ordered == bool(field.get("categoriesOrdered"))
        dictionary = pq.read_table(parquet_path(release, table)).column(field["name"]).combine_chunks().dictionary
        # Parquet keeps a column's dictionary with its data pages: a table with no rows keeps the type, not the values
        assert dictionary.to_pylist() == (values if read_table(table) else []), \
            "every allowed value, in the descriptor's order"
    elif kind == "datetime":
        stated = offsets(table, field)
        assert pa.types.is_timestamp(arrow)
        if len(stated) == 1:
            (offset,) = stated
            sign, minutes = ("-" if offset < datetime.timedelta(0) else "+"), abs(int(offset.total_seconds())) // 60
            assert arrow.tz == f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    else:
        expected = {"string": pa.string(), "integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_(),
                    "date": pa.date32(), "time": pa.time64("us")}[kind]
        assert arrow == expected


@pytest.fixture(scope="module")
def frames(release):
    return {"pandas": {t: pd.read_parquet(parquet_path(release, t)) for t in TABLES},
            "polars": {t: pl.read_parquet(parquet_path(release, t)) for t in TABLES}}


@pytest.mark.parametrize("item", FIELDS, ids=field_id)
def test_pandas_reads_each_column_typed(frames, item):
    table, field = item
    column = frames["pandas"][table][field["name"]]
    kind, values = field["type"], allowed(field)
    present = column.dropna().tolist()
    if values is not None:
        assert isinstance(column.dtype, pd.CategoricalDtype)
        # an empty table's Parquet file holds no dictionary (it is kept with the data pages)
        assert list(column.dtype.categories) == (values if len(column) else [])
        assert column.dtype.ordered == bool(field.get("categoriesOrdered"))
    elif kind == "string":
        assert pd.api.types.is_string_dtype(column.dtype) and column.dtype != object
    elif kind == "integer":
        assert column.dtype == "Int64", "nullable integers stay integers"
    elif kind == "number":
        assert pd.api.types.is_float_dtype(column.dtype)
    elif kind == "boolean":
        assert column.dtype == "boolean"
    elif kind == "date":
        assert all(type(v) is datetime.date for v in present)
    elif kind == "datetime":
        assert isinstance(column.dtype, pd.DatetimeTZDtype)
        stated = offsets(table, field)
        if len(stated) == 1:
            assert {v.utcoffset() for v in present} == stated, "shown at the offset the bulletin prints"
    elif kind == "time":
        assert all(type(v) is datetime.time for v in present)
    else:
        pytest.fail(f"no expectation for type {kind}")


@pytest.mark.parametrize("item", FIELDS, ids=field_id)
def test_polars_reads_each_column_typed(frames, item):
    table, field = item
    dtype = frames["polars"][table].schema[field["name"]]
    kind, values = field["type"], allowed(field)
    if values is not None:
        assert dtype == pl.Categorical
        return
    expected = {"string": pl.String, "integer": pl.Int64, "number": pl.Float64, "boolean": pl.Boolean,
                "date": pl.Date, "time": pl.Time, "datetime": pl.Datetime}[kind]
    assert dtype.is_(expected) or dtype == expected
    if kind == "datetime":
        assert dtype.time_zone is not None or offsets(table, field) == {None}


DUCKDB = {"string": "VARCHAR", "integer": "BIGINT", "number": "DOUBLE", "boolean": "BOOLEAN", "date": "DATE",
          "time": "TIME", "datetime": "TIMESTAMP WITH TIME ZONE"}


@pytest.mark.parametrize("table", list(TABLES))
def test_duckdb_reads_each_column_typed(release, table):
    path = str(parquet_path(release, table)).replace("'", "''")
    with duckdb.connect() as connection:
        described = connection.execute(f"describe select * from read_parquet('{path}')").fetchall()
        rows = connection.execute(f"select count(*) from read_parquet('{path}')").fetchone()[0]
    expected = [(f["name"], "VARCHAR" if allowed(f) is not None else DUCKDB[f["type"]])
                for f in TABLES[table]["schema"]["fields"]]
    assert [(name, kind) for name, kind, *_ in described] == expected
    assert rows == len(read_table(table))


@pytest.mark.parametrize("table", list(TABLES))
def test_every_value_reads_back_as_the_csv_states_it(frames, table):
    """Each cell, read from Parquet by pandas and by polars, written back as text, is the CSV's cell."""
    fields = TABLES[table]["schema"]["fields"]

    def text(value, kind):
        if value is None or value is pd.NA or (isinstance(value, float) and value != value) or value is pd.NaT:
            return ""
        if kind == "boolean":
            return "true" if value else "false"
        if kind == "datetime":
            return value.isoformat()
        if kind == "time":
            return value.isoformat()
        if kind == "number":
            return repr(float(value))
        return str(value)

    csv_rows = read_table(table)
    for library, rows in (("pandas", frames["pandas"][table].to_dict("records")),
                          ("polars", frames["polars"][table].to_dicts())):
        assert len(rows) == len(csv_rows), library
        for number, (row, csv_row) in enumerate(zip(rows, csv_rows), start=2):
            for field in fields:
                kind, cell = field["type"], csv_row[field["name"]]
                if kind == "number" and cell:
                    cell = repr(float(cell))
                if kind == "datetime" and cell:
                    cell = datetime.datetime.fromisoformat(cell).isoformat()
                value = row[field["name"]]
                assert text(value, kind) == cell, f"{library}: {table} row {number} column {field['name']}"
