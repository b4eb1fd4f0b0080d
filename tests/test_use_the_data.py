"""The README's "Use the data" recipes and docs/use.md's, run as a reader runs them: from a folder outside the
repository, against the unpacked release (built by the dist step), in a new interpreter that sees
nothing of the repository (the Datasette one against a real server on 127.0.0.1). And the loader
they use (temperer_data.py): its types, its categoricals (from a small descriptor of the tests'
own, in both forms a descriptor may declare them), its errors, and its install with pip."""

from __future__ import annotations

import datetime
import json
import re
import shutil
import subprocess
import sys
import zipfile

import pandas as pd
import pytest
from conftest import BULLETIN, ROOT, copy_package, read_table

import temperer_data as load

SECTION = "Use the data"
API_SITE = "http://127.0.0.1:8001"  # where the README's API recipe expects `make serve`
PACKAGE = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
RELEASE = f"{PACKAGE['name']}-{PACKAGE['version']}"  # the unpacked release's folder
QUESTIONS = ["Who raised the threat level, and when?",
             "How many personnel, with what status, on the common scale?",
             "What was the public asked to do, and by whom?",
             "How many claims does each speaker make, of what kind?"]


def blocks(part: str) -> list[tuple[str, str]]:
    return re.findall(r"^```(\w*)\n(.*?)^```$", part, re.MULTILINE | re.DOTALL)


def recipes() -> dict[str, list[tuple[str, str]]]:
    """The code blocks of the README's section, then of docs/use.md (which follows on from it), by
    sub-heading: [(language, code)]."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    (section,) = re.findall(rf"^## {SECTION}\n(.*?)(?=^## )", text, re.MULTILINE | re.DOTALL)
    found = {part.splitlines()[0].strip(): blocks(part) for part in re.split(r"^### ", section, flags=re.MULTILINE)[1:]}
    more = (ROOT / "docs" / "use.md").read_text(encoding="utf-8")
    found |= {part.splitlines()[0].strip(): blocks(part) for part in re.split(r"^## ", more, flags=re.MULTILINE)[1:]}
    return found


RECIPES = recipes()
# Recipes in a language this machine does not run: R (frictionless-r is in none of its registries).
# Their shape is checked instead (test_the_r_recipe_reads_the_release).
NOT_RUN = {"R"}


def only_block(heading: str) -> str:
    (block,) = RECIPES[heading]
    return block[1]


@pytest.fixture(scope="module")
def reader(release_archive, tmp_path_factory):
    """A reader's own folder, outside the repository, holding the release unpacked as downloaded (the run's
    release archive, conftest's release_archive, as `make dist` writes it)."""
    assert release_archive.name == f"{RELEASE}.zip"
    folder = tmp_path_factory.mktemp("reader")
    with zipfile.ZipFile(release_archive) as archive:
        archive.extractall(folder)
    assert ROOT not in folder.parents and (folder / RELEASE / "temperer_data.py").is_file()
    return folder


def run_python(code: str, cwd, *extra_path) -> subprocess.CompletedProcess:
    """A new interpreter in isolated mode (-I: neither the current folder nor PYTHONPATH on its path),
    so the repository's own copy of the loader cannot be what the code imports."""
    prelude = "".join(f"import sys; sys.path.insert(0, {str(p)!r})\n" for p in extra_path)
    return subprocess.run([sys.executable, "-I", "-c", prelude + code], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_the_section_has_the_loader_the_questions_and_each_way_in():
    assert list(RECIPES) == ["pandas", "R", "DuckDB", "The Datasette JSON API", *QUESTIONS, "frictionless"]
    # Every block but R's is run below: a block in another language would go untested.
    assert all(language == "python" for heading, blocks in RECIPES.items() if heading not in NOT_RUN
               for language, _ in blocks)
    assert [language for language, _ in RECIPES["R"]] == ["r"]
    loading = RECIPES["pandas"][0][1].strip().splitlines()
    assert len(loading) == 3 and f'"{RELEASE}"' in loading[0], "three lines load the release from anywhere"


@pytest.mark.parametrize("question", QUESTIONS)
def test_each_question_is_answered_in_at_most_three_lines(question):
    assert len(only_block(question).strip().splitlines()) <= 3


@pytest.fixture(scope="module")
def output(reader) -> list[str]:
    """Every local block of the section, in order (they follow on from each other), as one script in the
    reader's folder, run there."""
    code = "\n".join(code for heading, blocks in RECIPES.items()
                     if heading != "The Datasette JSON API" and heading not in NOT_RUN for _, code in blocks)
    (reader / "recipes.py").write_text(code, encoding="utf-8")
    result = subprocess.run([sys.executable, "-I", "recipes.py"], cwd=reader, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_the_loading_recipe_prints_what_its_comments_say(output):
    """The values the comments show, as the CSV tables hold them (typed by hand here, not by the loader):
    the archived bulletin's, with any other bulletin's rows after them."""
    contacts = [r["e164"] for r in read_table("contacts") if r["e164"]]
    weekdays = [datetime.date.fromisoformat(r["date"]).strftime("%A") for r in read_table("events") if r["date"]]
    published = next(r["published"] for r in read_table("sources") if r["published"])
    (personnel,) = [r for r in PACKAGE["resources"] if r["name"] == "personnel"]
    (status,) = [f for f in personnel["schema"]["fields"] if f["name"] == "status"]
    assert output[:4] == [str(contacts), str(weekdays), str(datetime.datetime.fromisoformat(published)).replace("T", " "),
                          str(status["constraints"]["enum"])]
    # The archived bulletin's own events, wherever other bulletins' fall on the one timeline.
    archived = next(r["source_id"] for r in read_table("sources") if r["path"] and BULLETIN in r["path"])
    archived_weekdays = [datetime.date.fromisoformat(r["date"]).strftime("%A") for r in read_table("events")
                         if r["date"] and r["source_id"] == archived]
    assert contacts[0] == "+44800789321" and archived_weekdays[:3] == ["Tuesday", "Wednesday", "Wednesday"]
    assert output[2] == "2017-05-24 20:15:00+01:00"


def rows_after(output: list[str], header_words: list[str]) -> list[list[str]]:
    (start,) = [i for i, line in enumerate(output) if line.split() == header_words]
    return [line.split() for line in output[start + 1:]]


def test_the_threat_level_was_raised_by_jtac_on_a_date_not_stated(output):
    (row, *_) = rows_after(output, ["actor_organisation_id", "actor_basis", "date", "date_basis", "date_latest"])
    assert row == ["jtac", "stated", "NaT", "not_stated", "2017-05-23"]


def test_the_personnel_figures_with_status_on_the_common_scale(output):
    rows = rows_after(output, ["count_min", "count_max", "qualifier", "role", "status", "modality", "organisation_id",
                               "organisation_basis", "speaker_organisation_id"])[:2]
    assert rows == [["1000", "1000", "exact", "armed", "officers", "freed_up", "in_effect", "police", "inferred",
                     "metropolitan-police"],
                    ["<NA>", "3800", "up_to", "military", "personnel", "mobilisable", "capacity", "military", "stated",
                     "metropolitan-police"]]


def test_every_request_to_the_public_with_its_giver(output):
    start = next(i for i, line in enumerate(output) if line.split()[:3] == ["action", "audience", "wording"])
    shown = output[start + 1:start + 1 + len(read_table("advice"))]
    assert len(shown) == len(read_table("advice"))
    for advice in read_table("advice"):
        assert any(advice["action"] in text and advice["wording"] in text and advice["actor_organisation_id"] in text
                   for text in shown), advice


def test_claims_by_speaker_and_claim_type(output):
    start = next(i for i, line in enumerate(output) if line.split()[:1] == ["claim_type"])
    totals = next(line.split() for line in output[start:] if line.split()[:1] == ["All"])
    assert int(totals[-1]) == len(read_table("claims"))


def test_the_frictionless_and_duckdb_recipes_from_the_readers_folder(output):
    assert "+44800789321 False" in output
    # The DuckDB recipe's first figure (the smallest count_max): the archived bulletin's officers freed up
    # when it is the only bulletin, whatever figure is smallest otherwise.
    events = {e["event_id"]: e for e in read_table("events")}
    figures = sorted((int(p["count_max"]), p["qualifier"], p["count_min"], p["event_id"]) for p in read_table("personnel")
                     if p["event_id"] in events)
    count_max, qualifier, count_min, event_id = figures[0]
    day = datetime.date.fromisoformat(events[event_id]["date"]) if events[event_id]["date"] else None
    assert str((qualifier, int(count_min) if count_min else None, count_max, day)) in output
    if len({e["source_id"] for e in events.values()}) == 1:
        assert "('exact', 1000, 1000, datetime.date(2017, 5, 24))" in output


def test_the_r_recipe_reads_the_release(reader):
    """frictionless-r's calls on the release's descriptor and on a table it holds (R itself does not run here)."""
    code = only_block("R")
    (path,) = re.findall(r'read_package\("([^"]+)"\)', code)
    assert path == f"{RELEASE}/datapackage.json" and (reader / path).is_file()
    (table,) = re.findall(r'read_resource\(package, "([^"]+)"\)', code)
    assert table in {r["name"] for r in PACKAGE["resources"] if r.get("type") == "table"}
    assert "library(frictionless)" in code


@pytest.mark.parametrize("source", ["release", "repository"])
def test_the_loader_installs_with_pip(reader, tmp_path, source):
    """`pip install <unpacked release>` or `pip install <repository>` (offline here: no index, the
    venv's flit_core) installs the loader; a script in another folder then imports it from where pip
    put it, not from the release or the repository."""
    target = tmp_path / "site-packages"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps",
                          "--no-build-isolation", "--disable-pip-version-check", "--target", str(target),
                          str(reader / RELEASE if source == "release" else ROOT)],
                         capture_output=True, text=True, timeout=300)
    assert pip.returncode == 0, pip.stderr
    script = ("import temperer_data; from temperer_data import load_tables\n"
              f"t = load_tables({str(reader / RELEASE)!r})\n"
              "print(temperer_data.__file__); print(t['personnel']['count_max'].tolist())\n")
    result = run_python(script, tmp_path, target)
    assert result.returncode == 0, result.stderr
    counts = [int(r["count_max"]) for r in read_table("personnel")]
    assert counts[:2] == [1000, 3800]  # the archived bulletin's, first
    assert result.stdout.splitlines() == [str(target / "temperer_data.py"), str(counts)]


def test_datasette_api_recipe(served, monkeypatch, capsys):
    code = only_block("The Datasette JSON API")
    assert API_SITE in code
    namespace = {"__name__": "__readme__"}
    exec(compile(code.replace(API_SITE, served), "README.md", "exec"), namespace)
    assert namespace["hotline"]["e164"] == "+44800789321" and namespace["hotline"]["emergency"] == 0
    assert sorted(e["event_id"] for e in namespace["timeline"]) == sorted(e["event_id"] for e in read_table("events"))
    assert capsys.readouterr().out.startswith("+44800789321 ")


# ---------------------------------------------------------------- the loader's types

@pytest.fixture(scope="module")
def tables():
    return load.load_tables(ROOT)


def test_the_loader_skips_the_text_and_loads_every_table(tables):
    assert list(tables) == [r["name"] for r in PACKAGE["resources"] if r.get("type") == "table"]
    assert any("schema" not in r and r["mediatype"] == "text/plain" for r in PACKAGE["resources"])


def test_dates_are_datetime64_and_datetimes_keep_their_offset(tables):
    events, sources = tables["events"], tables["sources"]
    assert pd.api.types.is_datetime64_dtype(events["date"]) and events["date"].isna().any()
    assert events["date"].dropna().dt.date.min() == datetime.date(2017, 5, 23)
    published = sources["published"]
    assert isinstance(published.dtype, pd.DatetimeTZDtype)
    bulletin = published.dropna().iloc[0]
    assert (bulletin.hour, bulletin.minute, bulletin.utcoffset()) == (20, 15, datetime.timedelta(hours=1))
    assert all(t is None or isinstance(t, datetime.time) for t in events["time"])


def test_strings_integers_and_booleans_keep_the_descriptors_types(tables):
    contacts, personnel = tables["contacts"], tables["personnel"]
    assert str(contacts["e164"].dtype) == "string" and str(contacts["emergency"].dtype) == "boolean"
    assert str(personnel["count_min"].dtype) == "Int64" and personnel["count_min"].isna().any()
    assert list(personnel.columns)[0] == "personnel_id" and isinstance(personnel.index, pd.RangeIndex)


def test_every_field_with_allowed_values_is_a_categorical_in_the_descriptors_order(tables):
    for res in load.table_resources(PACKAGE).values():
        for field in res["schema"]["fields"]:
            column = tables[res["name"]][field["name"]]
            allowed = load.categories(field)
            assert isinstance(column.dtype, pd.CategoricalDtype) == (allowed is not None), field["name"]
            if allowed:
                assert column.cat.categories.tolist() == allowed[0] and column.cat.ordered == allowed[1]


def small_package(tmp_path, fields: list[dict], rows: list[list[str]]):
    """A package of one table, written by the test: the loader reads any descriptor, not only this one's."""
    header = ",".join(f["name"] for f in fields)
    (tmp_path / "t.csv").write_text("\n".join([header, *(",".join(r) for r in rows)]) + "\n", encoding="utf-8")
    descriptor = {"name": "small", "resources": [{"name": "t", "type": "table", "path": "t.csv",
                                                  "schema": {"fields": fields, "missingValues": [""]}}]}
    (tmp_path / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    return tmp_path


def test_v2_categories_ordered_with_labels_and_the_enum_form(tmp_path):
    fields = [{"name": "level", "type": "string", "categoriesOrdered": True,
               "categories": [{"value": "low", "label": "Low"}, {"value": "moderate"}, {"value": "critical"}]},
              {"name": "basis", "type": "string", "categories": ["stated", "inferred"]},
              {"name": "force", "type": "string", "constraints": {"enum": ["police", "military"]}},
              {"name": "rank", "type": "integer", "categories": [1, 2, 3], "categoriesOrdered": True}]
    frame = load.load_table("t", small_package(tmp_path, fields, [["critical", "stated", "police", "3"],
                                                                  ["low", "", "military", "1"]]))
    level, basis, force, rank = (frame[c] for c in ("level", "basis", "force", "rank"))
    assert level.cat.categories.tolist() == ["low", "moderate", "critical"] and level.cat.ordered
    assert level.max() == "critical" and (level > "low").tolist() == [True, False]
    assert basis.cat.categories.tolist() == ["stated", "inferred"] and not basis.cat.ordered
    assert basis.isna().tolist() == [False, True]  # an empty cell is missing, not a category
    assert force.cat.categories.tolist() == ["police", "military"] and not force.cat.ordered
    assert rank.cat.categories.tolist() == [1, 2, 3] and rank.tolist() == [3, 1] and rank.cat.ordered


def test_a_value_outside_the_categories_is_an_error_not_a_silent_nan(tmp_path):
    fields = [{"name": "level", "type": "string", "categories": ["low", "critical"]}]
    with pytest.raises(ValueError, match=r"t\.csv row 3 column level: 'severe' is not one of its categories"):
        load.load_tables(small_package(tmp_path, fields, [["low"], ["severe"]]))


@pytest.mark.parametrize("cells, dtype, first", [
    (["2017-05-24T20:15:00+01:00", ""], "datetime64[us, UTC+01:00]", "2017-05-24 20:15:00+01:00"),
    (["2017-05-24T20:15:00+01:00", "2017-01-01T10:00:00+00:00"], "datetime64[us, UTC]", "2017-05-24 19:15:00+00:00"),
    (["2017-05-24T20:15:00", ""], "datetime64[us]", "2017-05-24 20:15:00"),
])
def test_datetimes_keep_one_offset_mixed_offsets_become_utc(tmp_path, cells, dtype, first):
    frame = load.load_table("t", small_package(tmp_path, [{"name": "at", "type": "datetime"}], [[c] for c in cells]))
    assert (str(frame["at"].dtype), str(frame["at"][0])) == (dtype, first)


def test_datetimes_with_and_without_an_offset_are_an_error(tmp_path):
    package = small_package(tmp_path, [{"name": "at", "type": "datetime"}],
                            [["2017-05-24T20:15:00+01:00"], ["2017-05-24T20:15:00"]])
    with pytest.raises(ValueError, match="column at: mixes times with and without a UTC offset"):
        load.load_tables(package)


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
    cells = lines[1].split(",")
    cells[header.index("name")] = "NA"
    path.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n", encoding="utf-8")
    assert load.load_table("people", root)["name"][0] == "NA"


def test_a_folder_without_a_descriptor_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no datapackage.json here"):
        load.load_tables(tmp_path)


def test_the_loader_from_the_command_line(capsys):
    from scripts.tools import load as repository_entry  # `python -m scripts.tools.load` in the repository
    repository_entry.main(["contacts"])
    out = capsys.readouterr().out
    assert out.startswith(f"## contacts: {len(read_table('contacts'))} rows") and "+44800789321" in out and "boolean" in out
    with pytest.raises(SystemExit, match="no table 'nope'"):
        load.main(["nope"])


def test_the_loader_needs_nothing_but_the_package(tmp_path):
    """As in the release archive: the package's files and the loader, no other code of the repository."""
    root = copy_package(tmp_path / "package")
    shutil.rmtree(root / "schema")
    assert load.load_tables(root)["contacts"]["e164"].dropna().tolist() == ["+44800789321"]
    source = (ROOT / "temperer_data.py").read_text(encoding="utf-8")
    assert not re.search(r"^from \.|^import scripts|^from scripts", source, re.MULTILINE)
