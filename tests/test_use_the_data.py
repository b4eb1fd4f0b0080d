"""The README's "Use the data" recipes, run as written (the Datasette one against a real server on
127.0.0.1), with the types they promise; and the loader they use (scripts/load.py)."""

from __future__ import annotations

import datetime
import re
import shutil

import pandas as pd
import pytest
from conftest import ROOT, copy_package, read_table

from scripts import load

SECTION = "Use the data"
API_SITE = "http://127.0.0.1:8001"  # where the README's API recipe expects `make serve`


def recipes() -> dict[str, list[tuple[str, str]]]:
    """The section's code blocks, by sub-heading: [(language, code)]."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    (section,) = re.findall(rf"^## {SECTION}\n(.*?)(?=^## )", text, re.MULTILINE | re.DOTALL)
    found = {}
    for part in re.split(r"^### ", section, flags=re.MULTILINE)[1:]:
        heading = part.splitlines()[0].strip()
        found[heading] = re.findall(r"^```(\w*)\n(.*?)^```$", part, re.MULTILINE | re.DOTALL)
    return found


RECIPES = recipes()


def run(code: str, monkeypatch) -> dict:
    monkeypatch.chdir(ROOT)
    namespace = {"__name__": "__readme__"}
    exec(compile(code, "README.md", "exec"), namespace)
    return namespace


def only_block(heading: str) -> str:
    (block,) = RECIPES[heading]
    return block[1]


def test_the_section_has_a_python_recipe_for_each_way_in():
    assert list(RECIPES) == ["frictionless", "pandas", "DuckDB", "The Datasette JSON API"]
    # Every block is run below: a block in another language would go untested.
    assert all(language == "python" for blocks in RECIPES.values() for language, _ in blocks)
    assert all(len(blocks) == 1 for blocks in RECIPES.values())


def test_frictionless_recipe(monkeypatch, capsys):
    ns = run(only_block("frictionless"), monkeypatch)
    assert ns["contacts"][0]["e164"] == "+44800789321"
    assert capsys.readouterr().out == "+44800789321 False\n"


def test_pandas_recipe_keeps_the_descriptors_types(monkeypatch, capsys):
    ns = run(only_block("pandas"), monkeypatch)
    contacts, personnel, events, bulletin = ns["contacts"], ns["personnel"], ns["events"], ns["bulletin"]
    e164 = contacts["e164"].dropna()
    assert len(e164) and all(isinstance(v, str) and v.startswith("+") for v in e164)
    assert str(contacts["e164"].dtype) == "string" and str(contacts["emergency"].dtype) == "boolean"
    assert str(personnel["count_min"].dtype) == "Int64" and personnel["count_min"].isna().any()
    assert list(personnel.columns)[0] == "personnel_id" and isinstance(personnel.index, pd.RangeIndex)
    dates = events["date"].dropna()
    assert len(dates) and all(type(d) is datetime.date for d in dates)
    published = bulletin["published"]
    assert (published.hour, published.minute) == (20, 15)
    assert published.utcoffset() == datetime.timedelta(hours=1)
    assert all(not name.startswith("bulletin-") for name in ns["tables"])  # the text resource is skipped
    out = capsys.readouterr().out
    assert "['+44800789321']" in out and "2017-05-24T20:15:00+01:00" in out


def test_duckdb_recipe(monkeypatch):
    ns = run(only_block("DuckDB"), monkeypatch)
    events = {e["event_id"]: e for e in read_table("events")}
    expected = [(p["personnel_id"], p["qualifier"], int(p["count_min"]) if p["count_min"] else None,
                 int(p["count_max"]), datetime.date.fromisoformat(events[p["event_id"]]["date"]))
                for p in sorted(read_table("personnel"), key=lambda p: int(p["count_max"]))]
    assert [row[:5] for row in ns["figures"]] == expected
    assert None in [row[2] for row in ns["figures"]]  # "up to 3,800": no lower bound, NULL rather than 0 or NaN
    e164 = ns["con"].sql("select e164 from contacts where e164 is not null").fetchall()
    assert e164 == [("+44800789321",)]


def test_datasette_api_recipe(served, monkeypatch, capsys):
    code = only_block("The Datasette JSON API")
    assert API_SITE in code
    ns = run(code.replace(API_SITE, served), monkeypatch)
    assert ns["hotline"]["e164"] == "+44800789321" and ns["hotline"]["emergency"] == 0
    assert sorted(e["event_id"] for e in ns["timeline"]) == sorted(e["event_id"] for e in read_table("events"))
    assert capsys.readouterr().out.startswith("+44800789321 ")


def test_the_loader_skips_the_text_resource_and_loads_every_table():
    tables = load.load_tables()
    descriptor = load.descriptor_and_folder(load.DEFAULT_DESCRIPTOR)[0]
    assert list(tables) == [r["name"] for r in descriptor["resources"] if r.get("type") == "table"]
    assert any("schema" not in r and r["mediatype"] == "text/plain" for r in descriptor["resources"])


def test_the_loader_names_the_file_row_and_column_of_a_bad_value(tmp_path):
    root = copy_package(tmp_path / "package")
    path = root / "data" / "personnel.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",1000,1000,", ",1000,lots,", 1), encoding="utf-8")
    with pytest.raises(ValueError, match=r"personnel\.csv row 2 column count_max: invalid literal"):
        load.load_tables(root / "datapackage.json")


def test_the_loader_keeps_na_as_text(tmp_path):
    root = copy_package(tmp_path / "package")
    path = root / "data" / "people.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    assert "name" in header, header
    cells = lines[1].split(",")
    cells[header.index("name")] = "NA"
    path.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n", encoding="utf-8")
    assert load.load_table("people", root / "datapackage.json")["name"][0] == "NA"


def test_the_loader_from_the_command_line(capsys):
    load.main(["contacts"])
    out = capsys.readouterr().out
    assert out.startswith("## contacts: 2 rows") and "+44800789321" in out and "boolean" in out
    with pytest.raises(SystemExit, match="no table 'nope'"):
        load.main(["nope"])


def test_the_loader_needs_nothing_but_the_package(tmp_path):
    """As in the release archive: the package's files and the loader, no other code."""
    root = copy_package(tmp_path / "package")
    shutil.rmtree(root / "schema")
    frames = load.load_tables(root / "datapackage.json")
    assert frames["contacts"]["e164"].dropna().tolist() == ["+44800789321"]
    source = (ROOT / "scripts" / "load.py").read_text(encoding="utf-8")
    assert not re.search(r"^from \.|^import scripts|^from scripts", source, re.MULTILINE)
