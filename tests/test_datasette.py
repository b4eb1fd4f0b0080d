"""The Datasette site, in process (Datasette's own client): what it shows, that it
serves exactly the package's data, its canned queries, and that it is read-only
and bounded."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import shutil
import sqlite3
from urllib.parse import quote as urlquote

import pytest
from conftest import ROOT, copy_package, make, run_step
from frictionless import Package
from markupsafe import escape

from scripts.site.serve import PLUGINS_DIR, SETTINGS

PACKAGE = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
DB = PACKAGE["name"]
TABLES = [r for r in PACKAGE["resources"] if r.get("type") == "table"]
FIELDS = {r["name"]: r["schema"]["fields"] for r in TABLES}


def get(ds, path, **kwargs):
    return asyncio.run(ds.client.get(path, **kwargs))


def get_json(ds, path):
    response = get(ds, path)
    assert response.status_code == 200, f"{path}: {response.status_code} {response.text[:300]}"
    return response.json()


def query(ds, name, **params):
    args = "".join(f"&{key}={urlquote(value)}" for key, value in params.items())
    return get_json(ds, f"/{DB}/{name}.json?_shape=array{args}")


def as_served(value, field_type):
    """A value read by frictionless (typed), as the database serves it as JSON."""
    if value is None:
        return None
    if field_type == "boolean":
        return int(value)
    if field_type in ("date", "time", "datetime"):
        return value.isoformat()
    if field_type == "number":
        return float(value)  # frictionless reads a Decimal; SQLite stores a REAL
    return value


@pytest.fixture(scope="session")
def typed_rows():
    """Every table read and typed by frictionless from data/*.csv, independently of the database build."""
    package = Package(str(ROOT / "datapackage.json"))
    return {res.name: [{f.name: as_served(row[f.name], f.type) for f in res.schema.fields} for row in res.read_rows()]
            for res in package.resources if res.type == "table"}


@pytest.fixture(scope="session")
def source_text():
    sources = {row["source_id"]: row for row in csv.DictReader(open(ROOT / "data" / "sources.csv", encoding="utf-8"))}
    return {sid: (ROOT / row["path"]).read_text(encoding="utf-8") for sid, row in sources.items() if row["path"]}


def test_home_page_names_dataset_licence_and_version(ds):
    page = get(ds, "/")
    assert page.status_code == 200
    text = page.text
    assert str(escape(PACKAGE["title"])) in text
    licence = PACKAGE["licenses"][0]
    assert f'<a href="{licence["path"]}">{licence["name"]}</a>' in text
    assert f"Version {PACKAGE['version']}" in text
    assert "How to cite" in text
    assert PACKAGE.get("homepage", "How to cite") in text  # the home is linked once it is set
    assert "github.com/operation-temperer-data" not in text  # an address no repository backs


@pytest.mark.parametrize("table", [r["name"] for r in TABLES])
def test_table_json_equals_its_csv(ds, typed_rows, table):
    assert len(typed_rows[table]) < SETTINGS["max_returned_rows"], "table larger than one page: test would truncate"
    served = get_json(ds, f"/{DB}/{table}.json?_shape=array&_size=max")
    pk = next(r["schema"]["primaryKey"] for r in TABLES if r["name"] == table)
    key = lambda row: [row[name] for name in pk]  # noqa: E731 (rows compared in primary-key order)
    assert sorted(served, key=key) == sorted(typed_rows[table], key=key)


@pytest.fixture(scope="session")
def exported_package(ds, tmp_path_factory):
    """Every table exported from the site as CSV, in a copy of the package in place of its files."""
    root = tmp_path_factory.mktemp("exported")
    shutil.copytree(ROOT / "data" / "raw", root / "data" / "raw")
    for table in FIELDS:
        response = get(ds, f"/{DB}/{table}.csv?_size=max")
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
        (root / "data" / f"{table}.csv").write_bytes(response.content)
    # The descriptor without the published files' sizes and hashes: the site lists rows in reading
    # order, which need not be the files' order.
    descriptor = {**PACKAGE, "resources": [{k: v for k, v in r.items() if k not in ("bytes", "hash")}
                                           for r in PACKAGE["resources"]]}
    (root / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    return root


def test_csv_exports_validate_against_the_descriptor(exported_package):
    """The whole tables exported from the site validate as the package (schemas, foreign keys)."""
    report = Package(str(exported_package / "datapackage.json")).validate()
    assert report.valid, report.flatten(["resourceName", "rowNumber", "fieldName", "type", "note"])


@pytest.mark.parametrize("table", [r["name"] for r in TABLES])
def test_csv_export_is_the_published_table(exported_package, table):
    """Same columns in the same order, the same rows and values as data/<table>.csv (booleans true/false)."""
    exported = (exported_package / "data" / f"{table}.csv").read_text(encoding="utf-8")
    published = (ROOT / "data" / f"{table}.csv").read_text(encoding="utf-8")
    assert exported.splitlines()[0] == published.splitlines()[0]
    assert sorted(exported.splitlines()[1:]) == sorted(published.splitlines()[1:])


def test_filtered_export_keeps_booleans_and_the_page_names_the_canonical_file(ds):
    exported = list(csv.DictReader(io.StringIO(get(ds, f"/{DB}/contacts.csv?emergency=1").text)))
    assert exported and {row["emergency"] for row in exported} == {"true"}
    page = get(ds, f"/{DB}/contacts").text
    assert 'class="note canonical-file"' in page
    assert (">data/contacts.csv</a>" if PACKAGE.get("homepage") else "<code>data/contacts.csv</code>") in page


def test_timeline_in_date_order(ds, typed_rows):
    """Every event of every bulletin, on the one timeline (column timeline): each bulletin's own
    sequence kept, the dates never going back, and an undated event's bounds kept by its place: no dated
    event before it is later than its latest day, none after it earlier than its earliest."""
    evidence = {row["evidence_id"]: row["quote"] for row in typed_rows["evidence"]}
    events = sorted(typed_rows["events"], key=lambda e: e["timeline"])
    rows = query(ds, "timeline")
    assert [r["event_id"] for r in rows] == [e["event_id"] for e in events]
    assert all(r["quote"] == evidence[r["evidence_id"]] for r in rows)
    for source in {r["source_id"] for r in rows}:
        sequence = [e["sequence"] for e in events if e["source_id"] == source]
        assert sequence == list(range(1, len(sequence) + 1)), f"{source}: its own sequence is not kept"
    dates = [r["date"] for r in rows if r["date"]]
    assert dates == sorted(dates)
    for place, row in enumerate(rows):
        earliest, latest = row["date_earliest"], row["date_latest"]
        if row["date"]:
            continue
        assert not latest or all(r["date"] <= latest for r in rows[:place] if r["date"]), row["event_id"]
        assert not earliest or all(r["date"] >= earliest for r in rows[place + 1:] if r["date"]), row["event_id"]


def test_personnel_figures_with_their_quotes(ds, typed_rows):
    evidence = {row["evidence_id"]: row for row in typed_rows["evidence"]}
    rows = {r["personnel_id"]: r for r in query(ds, "personnel_figures")}
    assert set(rows) == {p["personnel_id"] for p in typed_rows["personnel"]}
    for figure in typed_rows["personnel"]:
        row = rows[figure["personnel_id"]]
        assert (row["count_min"], row["count_max"], row["force"]) == \
               (figure["count_min"], figure["count_max"], figure["force"])
        quoted = evidence[figure["evidence_id"]]
        assert (row["quote"], row["start"], row["end"]) == (quoted["quote"], quoted["start"], quoted["end"])


def test_contacts(ds, typed_rows):
    rows = query(ds, "contact_numbers")
    assert sorted(r["contact_id"] for r in rows) == sorted(c["contact_id"] for c in typed_rows["contacts"])
    for row in rows:
        assert row["number_as_printed"] in row["quote"]


def test_threat_assessments_on_the_scale(ds, typed_rows):
    """Every level of the scale, in its order, each once with no assessment or once per assessment at it
    (any bulletin's; several may assess one level)."""
    rows = query(ds, "threat_level_assessments")
    scale = sorted(typed_rows["threat_levels"], key=lambda level: level["rank"])
    assert list(dict.fromkeys(r["level_id"] for r in rows)) == [level["level_id"] for level in scale]
    assert [r["rank"] for r in rows] == sorted(r["rank"] for r in rows)
    assessed = sorted((r["level_id"], r["assessment_id"]) for r in rows if r["assessment_id"])
    assert assessed == sorted((a["level_id"], a["assessment_id"]) for a in typed_rows["threat_assessments"])
    unassessed = [r["level_id"] for r in rows if not r["assessment_id"]]
    assert not set(unassessed) & {level for level, _ in assessed}, "a level assessed is also listed as unassessed"
    assert all(r["quote"] for r in rows if r["assessment_id"])


def test_evidence_for_any_row_gives_quote_offsets_and_sentences_around_it(ds, typed_rows, source_text):
    for evidence in typed_rows["evidence"]:
        rows = query(ds, "evidence_for_row", row_id=evidence["evidence_id"])
        (row,) = [r for r in rows if r["row_table"] == "evidence"]
        text = source_text[evidence["source_id"]]
        assert {k: row[k] for k in evidence} == evidence
        start, end = row["context_start"], row["context_end"]
        assert row["context"] == text[start:end]
        assert start <= evidence["start"] < evidence["end"] <= end
        assert start == 0 or text[start - 1].isspace(), f"context of {evidence['evidence_id']} starts mid-sentence"
        assert end == len(text) or text[end].isspace(), f"context of {evidence['evidence_id']} ends mid-word"
    (row,) = query(ds, "evidence_for_row", row_id="met-2017-05-24-594-680")
    text = source_text[row["source_id"]]
    before, sentence, after = (text.index(s) for s in (
        "The extra officers add to", "Following the appalling terrorist attack", "This means that their assessment"))
    assert (row["context_start"], row["context_end"]) == (before, text.index("\n", after)), \
        "the context runs from the sentence before the quote's to the sentence after it"
    assert len(row["context"]) > len(row["quote"]), "the context is the quote itself"
    assert query(ds, "evidence_for_row", row_id="no-such-row") == []


@pytest.mark.parametrize("table", [r["name"] for r in TABLES])
def test_evidence_for_row_accepts_the_id_of_any_row(ds, typed_rows, table):
    resource = next(r for r in TABLES if r["name"] == table)
    pk = resource["schema"]["primaryKey"][0]
    cites = [fk["fields"][0] for fk in resource["schema"].get("foreignKeys", [])
             if fk["reference"].get("resource") == "evidence"] or (["evidence_id"] if table == "evidence" else [])
    for row in typed_rows[table]:
        found = query(ds, "evidence_for_row", row_id=str(row[pk]))
        mine = {(r["cited_by"], r["evidence_id"]) for r in found if r["row_table"] == table}
        assert mine == {(c, row[c]) for c in cites if row[c]}, f"{table} {row[pk]}"


@pytest.mark.parametrize("table", [r["name"] for r in TABLES])
def test_table_page_describes_every_column(ds, table):
    page = get(ds, f"/{DB}/{table}").text
    for field in FIELDS[table]:
        assert f"<dt>{field['name']}</dt><dd>{escape(field['description'])}" in page
        if field.get("unit"):
            assert f"Unit: {field['unit']}." in page


def test_units_are_shown_with_values(ds, typed_rows):
    page = get(ds, f"/{DB}/personnel").text
    for figure in typed_rows["personnel"]:
        if figure["window_max_hours"]:
            assert f">{figure['window_max_hours']}&nbsp;h</td>" in page
        assert f">{figure['count_max']}</td>" in page, "a head count is shown as a plain integer"


def test_foreign_key_cell_links_to_its_evidence(ds, typed_rows):
    page = get(ds, f"/{DB}/personnel").text
    for figure in typed_rows["personnel"]:
        link = f'<a href="/{DB}/evidence/{figure["evidence_id"]}">'
        assert link in page, f"no link to the evidence of {figure['personnel_id']}"
        target = get(ds, f"/{DB}/evidence/{figure['evidence_id']}")
        assert target.status_code == 200
        quote = next(e["quote"] for e in typed_rows["evidence"] if e["evidence_id"] == figure["evidence_id"])
        assert str(escape(quote)) in target.text
        assert f"{link}{escape(quote)}</a>" in page, "the link is not labelled with the quote"


def test_default_facets(ds, site_files):
    metadata = json.loads(site_files["metadata"].read_text(encoding="utf-8"))
    for table, spec in metadata["databases"][DB]["tables"].items():
        if spec.get("facets"):
            served = get_json(ds, f"/{DB}/{table}.json")
            assert set(served["facet_results"]) == set(spec["facets"]), table
            assert served["suggested_facets"] == [], f"{table}: only the curated facets are offered"
    assert {"event_type"} <= set(metadata["databases"][DB]["tables"]["events"]["facets"])
    assert {"measure_type", "modality"} <= set(metadata["databases"][DB]["tables"]["measures"]["facets"])


@pytest.mark.parametrize("table, column, word", [("evidence", "quote", "officer"), ("statements", "text", "vigilant"),
                                                 ("source_texts", "text", "Temperer"),
                                                 ("sentences", "text", "imminent")])
def test_full_text_search_of_evidence_statements_and_source_text(ds, table, column, word):
    """A search finds every row whose text has the word, in any case, singular or plural (the index
    stems words, porter), and no other row."""
    whole = get_json(ds, f"/{DB}/{table}.json?_size=max")  # every row, unfiltered
    (key,) = whole["primary_keys"]
    rows = [dict(zip(whole["columns"], row)) for row in whole["rows"]]
    assert len(rows) == whole["filtered_table_rows_count"], f"{table}: larger than one page"
    found = get_json(ds, f"/{DB}/{table}.json?_search={word}&_shape=array&_size=max")
    has_word = re.compile(rf"\b{word}s?\b", re.IGNORECASE)
    assert found and all(has_word.search(row[column]) for row in found), table
    assert sorted(row[key] for row in found) == sorted(row[key] for row in rows if has_word.search(row[column]))


def test_full_text_search_finds_the_archived_bulletin_s_words(ds):
    (statement,) = [s for s in get_json(ds, f"/{DB}/statements.json?_search=vigilant&_shape=array")
                    if s["source_id"] == "met-2017-05-24"]
    assert statement["paragraph"] == 2
    assert "met-2017-05-24" in [t["source_id"] for t in
                                get_json(ds, f"/{DB}/source_texts.json?_search=Temperer&_shape=array")]
    sentences = get_json(ds, f"/{DB}/sentences.json?_search=imminent&_shape=array")
    assert "This means that their assessment is not only that an attack remains highly likely, but a further " \
           "attack may be imminent." in [s["text"] for s in sentences if s["source_id"] == "met-2017-05-24"]


@pytest.mark.parametrize("sql", [
    "insert into evidence (evidence_id, source_id, start, end, quote) values ('x', 'met-2017-05-24', 0, 1, 'F')",
    "update personnel set count_max = 1",
    "delete from evidence",
    "select 1; delete from evidence",
    "drop table evidence",
])
def test_writes_are_refused(ds, typed_rows, sql):
    response = get(ds, f"/{DB}.json?sql={urlquote(sql)}")
    assert response.status_code == 400
    assert response.json()["ok"] is False
    counts = {t: get_json(ds, f"/{DB}/{t}.json?_size=0")["filtered_table_rows_count"] for t in ("evidence", "personnel")}
    assert counts == {"evidence": len(typed_rows["evidence"]), "personnel": len(typed_rows["personnel"])}
    assert get_json(ds, f"/{DB}/personnel.json?_shape=array&_sort=personnel_id") == \
        sorted(typed_rows["personnel"], key=lambda row: row["personnel_id"])


def test_database_is_immutable_even_below_the_sql_check(ds):
    db = ds.get_database(DB)
    assert not db.is_mutable
    with pytest.raises(AssertionError):
        asyncio.run(db.execute_write("delete from evidence"))
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        db.connect().execute("delete from evidence")
    for method in ("put", "patch", "delete"):
        assert asyncio.run(ds.client.request(method.upper(), f"/{DB}/evidence")).status_code == 405, method
    # Datasette 0.65 takes a POST to a table for a canned-query write, finds none and fails (status 500).
    assert asyncio.run(ds.client.post(f"/{DB}/evidence", data={"quote": "x"})).status_code >= 400
    assert asyncio.run(ds.client.post(f"/{DB}?sql=delete+from+evidence")).status_code == 405
    # The only plugins are the site's own, from site/plugins/ (none installed from packages).
    assert sorted(p["name"] for p in get_json(ds, "/-/plugins.json")) == sorted(p.name for p in PLUGINS_DIR.glob("*.py"))
    assert get_json(ds, f"/{DB}/evidence.json?_size=0")["filtered_table_rows_count"] == \
        len(list(csv.DictReader(open(ROOT / "data" / "evidence.csv", encoding="utf-8"))))


def test_expensive_query_is_stopped_and_the_site_keeps_serving(ds):
    sql = "with recursive n(x) as (select 1 union all select x + 1 from n) select count(*) from n"
    response = get(ds, f"/{DB}.json?sql={urlquote(sql)}")
    assert response.status_code == 400
    assert "took too long" in response.json()["error"]
    assert get_json(ds, f"/{DB}/personnel.json?_shape=array")


def test_bad_value_stops_the_database_build_and_keeps_the_last_good_one(tmp_path):
    root = copy_package(tmp_path / "package")
    out = tmp_path / "site.db"
    assert run_step("outputs.build_db", root, "--out", str(out)).returncode == 0
    good = out.read_bytes()
    personnel = root / "data" / "personnel.csv"
    lines = personnel.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = lines[2].replace(",3800,", ",many,")
    personnel.write_text("".join(lines), encoding="utf-8")
    result = run_step("outputs.build_db", root, "--out", str(out))
    assert result.returncode != 0
    assert "data/personnel.csv:3 (column count_max): 'many' is not a valid integer" in result.stderr
    assert out.read_bytes() == good, "a failed build replaced the database"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["package", "site.db"], "a temporary file was left"


def test_database_is_rebuilt_only_when_the_package_changes(repo_copy):
    (repo_copy / "build").mkdir()
    (repo_copy / "build" / "validated.stamp").touch()  # as `make` leaves it: the package it published is valid
    first = make(repo_copy, "db")
    assert "scripts.outputs.build_db" in first and "scripts.outputs.build_datasette_metadata" in first
    assert "Nothing to be done" in make(repo_copy, "db")
    assert (repo_copy / "build" / f"{DB}.db").exists() and (repo_copy / "build" / "inspect.json").exists()
    (repo_copy / "data" / "personnel.csv").touch()
    again = make(repo_copy, "--dry-run", "db")  # what make would run: the same commands that ran above
    assert "scripts.checks.validate" in again and "scripts.outputs.build_db" in again


@pytest.mark.parametrize("table, column", [("events", "timeline"), ("evidence", "start"), ("threat_levels", "rank"),
                                           ("sentences", "start")])
def test_tables_are_listed_in_reading_order(ds, table, column):
    """The events on the one timeline of every bulletin (each bulletin's own sequence kept), evidence in
    text order, the scale by rank: not by string ID."""
    rows = get_json(ds, f"/{DB}/{table}.json?_shape=array&_size=max")
    served = [row[column] for row in rows]
    assert served == sorted(served) and len(served) > 1
    if table == "events":
        for source in {row["source_id"] for row in rows}:
            sequence = [row["sequence"] for row in rows if row["source_id"] == source]
            assert sequence == sorted(sequence), f"{source}: its events out of their sequence"
