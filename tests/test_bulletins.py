"""A second bulletin is a data-only change: the fictional fixture bulletin under
tests/fixtures/raw/ goes through the whole build beside the archived one, adds
its rows to every table, keeps IDs unique and the first bulletin's rows intact,
is coverage-checked on its own, and the package still validates. The
repository's published data/ is never touched."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, SHARED_FIXTURES, add_bulletin, copy_inputs, read_table, run_step



from scripts.common import load_yaml, package_spec

FIXTURE = FIXTURES / "met-2017-10-14-fixture-railway-patrols"
FIXTURE_ID = load_yaml(FIXTURE / "metadata.yaml")["source_id"]
SPEC = package_spec()
TABLES = [res["name"] for res in SPEC["resources"]]
PRIMARY_KEYS = {res["name"]: res["primaryKey"] for res in SPEC["resources"]}


def with_fixture(dest: Path) -> Path:
    root = copy_inputs(dest)
    add_bulletin(root, FIXTURE)
    return root


@pytest.fixture(scope="module")
def built(fixtures_build):
    """The package's inputs plus the fixture bulletin (and the other fixtures the run builds with it,
    conftest's fixtures_build, which checks the repository's published files are left as they were)."""
    assert FIXTURE.name in SHARED_FIXTURES
    return fixtures_build


@pytest.fixture(scope="module")
def combined(built):
    return {name: read_table(name, built) for name in TABLES}


def fixture_rows(combined, name):
    return [row for row in combined[name] if row.get("source_id") == FIXTURE_ID]


# Tables about the package's versions rather than a source (no source_id column).
PACKAGE_TABLES = {"retired_ids"}
# Kinds every bulletin of data/raw/ leaves empty (e.g. `counts: []`): their published tables have no rows.
EMPTY_IN_DATA = set.intersection(*({name for name, entries in load_yaml(path).items() if entries == []}
                                   for path in (ROOT / "data" / "raw").glob("*/annotations.yaml")))


def one(rows, key, value):
    matches = [row for row in rows if row[key] == value]
    assert len(matches) == 1, f"expected one row with {key} = {value!r}, found {len(matches)}"
    return matches[0]


def test_fixture_rows_in_every_table_but_the_reference_scale(combined):
    reference = {row["source_id"] for row in combined["sources"] if row["source_kind"] == "reference"}
    reference_tables = {name for name, rows in combined.items()
                        if rows and name not in PACKAGE_TABLES and {r["source_id"] for r in rows} <= reference}
    assert reference_tables == {"threat_levels"}, reference_tables
    missing = [name for name in TABLES if name not in reference_tables | PACKAGE_TABLES
               and not fixture_rows(combined, name)]
    # A kind whose section the fixture leaves empty (`counts: []`) has no rows of it: every other table has
    left_empty = {name for name, entries in load_yaml(FIXTURE / "annotations.yaml").items() if entries == []}
    assert set(missing) <= left_empty, f"the fixture bulletin added no rows to: {sorted(set(missing) - left_empty)}"


def test_ids_unique_across_bulletins(combined):
    seen: dict[str, str] = {}
    for name in TABLES:
        keys = [tuple(row[k] for k in PRIMARY_KEYS[name]) for row in combined[name]]
        assert len(keys) == len(set(keys)), f"{name}: duplicate primary key"
        if name == "claims":  # the index of the fact kinds' rows, by their own IDs
            assert {key: seen.get(key) for key in keys} == {
                (row["claim_id"],): row["claim_type"] for row in combined[name]}
            continue
        for key in keys:
            assert key not in seen, f"ID {key} in both {seen.get(key)} and {name}"
            seen[key] = name
    for name in TABLES:
        if name in ("sources", "threat_levels", "organisations", "people", *PACKAGE_TABLES):
            continue  # the bulletin's own ID, the reference scale, and the IDs shared across bulletins
        key = PRIMARY_KEYS[name][0]
        for row in fixture_rows(combined, name):
            assert row[key].startswith(FIXTURE_ID + "-"), f"{name} ID {row[key]!r} lacks its bulletin's prefix"


def test_first_bulletin_rows_unchanged(combined):
    """Adding a later bulletin only adds rows: every published row is still there, byte for byte."""
    for name in TABLES:
        published = read_table(name)
        assert published or name in EMPTY_IN_DATA, name
        assert [row for row in combined[name] if row in published] == published, name


def test_organisations_and_people_are_shared_not_copied(combined):
    jtac = one(combined["organisations"], "organisation_id", "jtac")
    assert jtac["source_id"] != FIXTURE_ID, "the first bulletin to name JTAC defines it"
    mentioned = {row["organisation_id"] for row in fixture_rows(combined, "mentions")}
    assert {"jtac", "metropolitan-police", "british-transport-police"} <= mentioned
    btp = one(combined["organisations"], "organisation_id", "british-transport-police")
    assert (btp["name"], btp["kind"], btp["source_id"]) == ("British Transport Police", "police_force", FIXTURE_ID)


def test_fixture_values_come_from_its_words(combined, built):
    text = (FIXTURE / "source.txt").read_text(encoding="utf-8")
    evidence = {row["evidence_id"]: row for row in fixture_rows(combined, "evidence")}
    for row in evidence.values():
        assert text[int(row["start"]):int(row["end"])] == row["quote"], row["evidence_id"]

    source = one(combined["sources"], "source_id", FIXTURE_ID)
    assert (source["published"], source["characters"]) == ("2017-10-14T09:30:00+01:00", str(len(text)))

    events = {row["event_id"].removeprefix(FIXTURE_ID + "-"): row for row in fixture_rows(combined, "events")}
    raised = events["threat-level-lowered"]  # "On Friday night", said on Saturday 14 October 2017
    assert (raised["date"], raised["part_of_day"], raised["date_precision"], raised["date_basis"]) == (
        "2017-10-13", "night", "part_of_day", "inferred")
    assert "Friday night" in evidence[raised["evidence_id"]]["quote"]
    published = events["bulletin-published"]
    assert (published["date"], published["time"], published["utc_offset"]) == ("2017-10-14", "09:30:00", "+01:00")
    assert events["officers-freed-up"]["date_latest"] == "2017-10-14"

    level = one(fixture_rows(combined, "threat_assessments"), "assessor_organisation_id", "jtac")
    assert level["level_id"] == "severe" and "“severe”" in evidence[level["level_evidence_id"]]["quote"]

    personnel = {row["personnel_id"].removeprefix(FIXTURE_ID + "-"): row for row in fixture_rows(combined, "personnel")}
    words = personnel["armed-officers-freed-up"]  # "Two hundred"
    assert (words["qualifier"], words["count_min"], words["count_max"]) == ("exact", "200", "200")
    assert evidence[words["evidence_id"]]["quote"].startswith("Two hundred")
    span = personnel["transport-police-mobilisable"]  # "Between 40 and 60 ... within 2 to 6 hours"
    assert (span["qualifier"], span["count_min"], span["count_max"]) == ("range", "40", "60")
    assert (span["window_min_hours"], span["window_max_hours"]) == ("2", "6")

    contacts = {row["number_as_printed"]: row for row in fixture_rows(combined, "contacts")}
    assert set(contacts) == {"101"}  # the hotline it prints is the first bulletin's contact (a mention of it)
    assert (contacts["101"]["e164"], contacts["101"]["emergency"]) == ("", "false")
    hotline = [m for m in fixture_rows(combined, "mentions") if m["name"] == "0800 789321"]
    assert [one(combined["contacts"], "contact_id", m["contact_id"])["e164"] for m in hotline] == ["+44800789321"]

    marsh = one(combined["people"], "person_id", "helen-marsh")
    assert (marsh["name"], marsh["source_id"]) == ("Helen Marsh", FIXTURE_ID)
    ranks = {(m["rank"], m["role"]) for m in fixture_rows(combined, "mentions") if m["person_id"] == "helen-marsh"}
    assert ranks == {("Chief Superintendent", ""),
                     ("Chief Superintendent", "head of operations at British Transport Police")}, ranks
    statement = one(fixture_rows(combined, "statements"), "person_id", "helen-marsh")
    assert statement["text"].startswith("Our officers") and not statement["text"].endswith("”")
    places = {row["words"] for row in fixture_rows(combined, "claim_items") if row["item_type"] == "place"}
    assert places == {"railway stations", "airports"}
    freed = one(fixture_rows(combined, "personnel"), "personnel_id", f"{FIXTURE_ID}-armed-officers-freed-up")
    assert freed["claim_id"] == f"{FIXTURE_ID}-officers-freed-up"  # a facet of the event told by the same words


def test_package_with_fixture_validates(built):
    """The build published the package with the fixture only after `scripts.checks.validate` passed it
    (frictionless, every resource, then Pandera; in its staging folder, which then becomes the package),
    and the package describes every table and the fixture's text."""
    assert (built / "build" / "validated.stamp").exists(), "the build recorded no validation"
    described = {r["name"] for r in json.loads((built / "datapackage.json").read_text(encoding="utf-8"))["resources"]}
    assert set(TABLES) | {f"bulletin-{FIXTURE_ID}"} <= described, described


def test_coverage_runs_per_bulletin(tmp_path):
    """A fixture fact left unannotated stops the build, naming the fixture's files, not the archived bulletin's."""
    root = with_fixture(tmp_path / "package")
    path = root / "data" / "raw" / FIXTURE.name / "annotations.yaml"
    text = path.read_text(encoding="utf-8")
    # both code the sentence (and the aim names the first)
    for entry_id in ("transport-police-mobilisable", "transport-police-join-patrols", "join-the-patrols"):
        entry = re.search(rf"  - id: {entry_id}\n(?:    .*\n)+", text)
        assert entry, f"fixture entry {entry_id} not found"
        text = text.replace(entry.group(), "")
    text = re.sub(r"^(\w+):\n(?=\n|\S)", r"\1: []\n", text, flags=re.M)  # a section left with no entries
    path.write_text(text, encoding="utf-8")
    result = run_step("claims.extract", root)
    assert result.returncode != 0, "the build accepted an unannotated fact"
    assert f"{FIXTURE.name}/annotations.yaml" in result.stderr, result.stderr
    for token in ("number '40'", "number '60'", "number '2'", "number '6'", "relative_time 'hours'"):
        assert token in result.stderr, f"{token} not in: {result.stderr}"
    assert "met-2017-05-24" not in result.stderr
    assert not (root / "data" / "sources.csv").exists(), "a failed build published a table"


def test_the_oldest_bulletin_defines_shared_entities_whatever_its_folder_name(tmp_path):
    """The fixture (October 2017) placed in a folder that sorts first must not take over
    the organisations the May bulletin named first."""
    root = copy_inputs(tmp_path / "package")
    folder = root / "data" / "raw" / "aaa-fixture-sorts-first"
    shutil.rmtree(root / "data" / "raw" / FIXTURE.name, ignore_errors=True)  # there when data/raw/ holds every fixture
    shutil.copytree(FIXTURE, folder)
    metadata = folder / "metadata.yaml"  # the folder name starts with the source_id
    metadata.write_text(metadata.read_text(encoding="utf-8").replace(f"source_id: {FIXTURE_ID}\n", "source_id: aaa-fixture\n"),
                        encoding="utf-8")
    result = run_step("claims.extract", root)
    assert result.returncode == 0, result.stderr
    shared = {r["organisation_id"]: r["source_id"] for r in read_table("organisations", root)}
    assert shared["metropolitan-police"] == shared["jtac"] == "met-2017-05-24"


def test_a_bare_mention_codes_no_sentence(combined):
    """The fixture's page link and photo caption only name an organisation and a person: a mention
    is no claim, so their words are excused as page furniture, with a reason."""
    sentences = {row["text"]: row for row in fixture_rows(combined, "sentences")}
    for line in ("Follow Metropolitan Police", "[Chief Superintendent Helen Marsh]"):
        row = sentences[line]
        assert (row["words_covered"], row["words_excused"], row["excused_kind"]) == (
            "0", row["words"], "page_furniture") and row["reason"]


# ---------------------------------------------------------------- one corpus: contacts, organisations, one timeline


def test_a_contact_is_one_row_per_number_however_printed(combined):
    """Every number is one contact across bulletins: one row per normalised number, each printing a mention of
    it; the fixture prints the archived bulletin's hotline another way and reuses its ID."""
    contacts = combined["contacts"]
    keys = [row["e164"] or row["number_as_printed"] for row in contacts]
    assert len(keys) == len(set(keys)), keys
    printed: dict[str, set] = {}
    for mention in combined["mentions"]:
        if mention["contact_id"]:
            printed.setdefault(mention["contact_id"], set()).add((mention["source_id"], mention["name"]))
    assert set(printed) == {row["contact_id"] for row in contacts}, "a contact with no printing, or one without a row"
    shared = {cid: found for cid, found in printed.items() if len({sid for sid, _ in found}) > 1}
    assert shared, "no contact is printed by two bulletins"
    for cid, found in shared.items():
        row = one(contacts, "contact_id", cid)
        assert row["source_id"] == min((sid for sid, _ in found), key=lambda s: one(
            combined["sources"], "source_id", s)["published"]), "the oldest printing defines the contact"
    fixture_hotline = [r for r in fixture_rows(combined, "mentions") if r["contact_id"] in shared]
    assert fixture_hotline and all(r["contact_id"] != "" and not r["contact_id"].startswith(FIXTURE_ID)
                                   for r in fixture_hotline)
    archived = one(contacts, "contact_id", fixture_hotline[0]["contact_id"])
    assert fixture_hotline[0]["name"] != archived["number_as_printed"], "the fixture prints it another way"
    calls = [r for r in fixture_rows(combined, "advice") if r["contact_id"] == archived["contact_id"]]
    assert calls, "the fixture's advice names the shared contact by its one ID"


def test_part_of_names_an_organisation_and_its_words(combined):
    organisations = {row["organisation_id"]: row for row in combined["organisations"]}
    quotes = {row["evidence_id"]: row["quote"] for row in combined["evidence"]}
    parts = [row for row in organisations.values() if row["part_of_organisation_id"]]
    assert any(row["source_id"] == FIXTURE_ID for row in parts), "the fixture names no organisation part of another"
    for row in parts:
        parent = organisations[row["part_of_organisation_id"]]
        assert parent["organisation_id"] != row["organisation_id"]
        if row["part_of_basis"] == "stated":
            assert row["part_of_words"] == quotes[row["part_of_evidence_id"]]
            assert parent["name"].casefold() in row["part_of_words"].casefold()
        else:
            assert row["part_of_basis"] == "inferred" and row["part_of_rule"]
        seen, node = set(), row["organisation_id"]
        while node:  # no cycle
            assert node not in seen, f"part_of cycle through {node}"
            seen.add(node)
            node = organisations[node]["part_of_organisation_id"]


def test_a_change_of_threat_level_moves_along_the_scale(combined):
    rank = {row["level_id"]: int(row["rank"]) for row in combined["threat_levels"]}
    events = {row["event_id"]: row for row in combined["events"]}
    quotes = {row["evidence_id"]: row["quote"] for row in combined["evidence"]}
    direction = {"threat_level_raised": 1, "threat_level_lowered": -1}
    moved = 0
    for row in combined["threat_assessments"]:
        event = events[row["event_id"]]
        if row["from_level_id"]:
            moved += 1
            assert event["event_type"] in direction, row["assessment_id"]
            assert (rank[row["level_id"]] - rank[row["from_level_id"]]) * direction[event["event_type"]] > 0
            if row["from_level_basis"] == "stated":
                # the words print the level it moves from after "from", quoted or not
                assert re.search(rf"\bfrom\s+[“\"']?{row['from_level_id']}\b", quotes[row["level_evidence_id"]],
                                 re.IGNORECASE), quotes[row["level_evidence_id"]]
            else:
                assert row["from_level_basis"] == "inferred" and row["from_level_rule"]
        else:
            assert row["from_level_basis"] == "not_stated"
    assert moved, "no assessment records the level it moves from"
    lowered = [r for r in fixture_rows(combined, "threat_assessments") if r["from_level_id"]]
    assert [(r["from_level_id"], r["level_id"], r["from_level_basis"]) for r in lowered] == [
        ("critical", "severe", "stated")]


def test_one_timeline_of_every_bulletin(combined):
    """Every event of every bulletin has one place in one order that keeps each bulletin's sequence and every
    link to an earlier or later event, across bulletins too; a bound is the date of the event it cites."""
    events = {row["event_id"]: row for row in combined["events"]}
    place = {i: int(row["timeline"]) for i, row in events.items()}
    assert sorted(place.values()) == list(range(1, len(events) + 1))
    for a in events.values():
        for b in events.values():
            if a["source_id"] == b["source_id"] and int(a["sequence"]) < int(b["sequence"]):
                assert place[a["event_id"]] < place[b["event_id"]]
    crossing = 0
    for row in events.values():
        earlier, later = row["date_earliest_event_id"], row["date_latest_event_id"]
        if earlier:
            assert place[earlier] < place[row["event_id"]]
            crossing += events[earlier]["source_id"] != row["source_id"]
            if row["date_earliest"]:
                assert row["date_earliest"] == (events[earlier]["date"] or events[earlier]["date_earliest"])
        if later:
            assert place[row["event_id"]] < place[later]
            crossing += events[later]["source_id"] != row["source_id"]
            assert row["date_latest"] == (events[later]["date"] or events[later]["date_latest"])
        if row["date_earliest"] and row["date_latest"]:
            assert row["date_earliest"] <= row["date_latest"]
    assert crossing, "no event is linked to an event of another bulletin"
    reported = [r for r in fixture_rows(combined, "events") if r["date_latest_event_rule"].startswith("reported:")]
    assert reported and all(events[r["date_latest_event_id"]]["event_type"] == "bulletin_published" for r in reported)


def fixture_error(tmp_path, old: str, new: str, also: tuple = ()) -> tuple[str, int]:
    """The build's error after an edit of the fixture's annotations (and the edits `also` lists), and the line
    the edit is on."""
    root = with_fixture(tmp_path / "package")
    path = root / "data" / "raw" / FIXTURE.name / "annotations.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    line = text[:text.index(old)].count("\n") + 1
    text = text.replace(old, new)
    for before, after in also:
        assert text.count(before) == 1, before
        text = text.replace(before, after)
    path.write_text(text, encoding="utf-8")
    result = run_step("claims.extract", root)
    assert result.returncode != 0, "the build accepted it"
    assert not (root / "data" / "sources.csv").exists(), "a failed build published a table"
    return result.stderr, line


@pytest.mark.parametrize("old, new, expected", [
    ("  - id: 0800-789-321\n    quote: \"call the anti", "  - id: hotline\n    quote: \"call the anti",
     "the same contact number under two IDs: '0800 789321' is contact '0800-789-321'"),  # and the advice's ref
    ("    after: met-2017-05-24-threat-level-raised\n", "    after: met-2017-05-24-threat-level-lifted\n",
     "after 'met-2017-05-24-threat-level-lifted' is not an event of the package"),
    ("    part_of: counter-terrorism-policing\n", "    part_of: counter-terrorism-command\n",
     "part_of 'counter-terrorism-command' is not an organisation of the package"),
    ("  - id: counter-terrorism-policing\n    name: \"Counter Terrorism Policing\"\n",
     "  - id: counter-terrorism-policing\n    name: \"Counter Terrorism Policing\"\n"
     "    part_of: counter-terrorism-policing-south-east\n    part_of_rule: \"a cycle for the test\"\n",
     "part_of makes a cycle"),
    ("    event_type: threat_level_lowered\n", "    event_type: threat_level_raised\n",
     "does not move up the UK scale"),
], ids=["contact-number-under-two-ids", "link-to-a-missing-event", "part-of-unknown-organisation",
        "part-of-cycle", "raise-down-the-scale"])
def test_a_corpus_slip_stops_at_the_curators_line(tmp_path, old, new, expected):
    also = (("    contact: 0800-789-321\n", "    contact: hotline\n"),) if new.startswith("  - id: hotline") else ()
    message, line = fixture_error(tmp_path, old, new, also)
    assert expected in message, message
    where = f"{FIXTURE.name}/annotations.yaml:"
    assert where in message, message
    if expected.startswith(("the same", "after", "part_of '")):
        assert f"{where}{line}:" in message, (line, message)


def test_the_timeline_figure_draws_every_bulletin_in_one_order(built, monkeypatch):
    """The figure's lanes are the events of every bulletin, in the order of events.timeline."""
    from scripts.outputs import build_figures
    drawn = []
    real = build_figures.draw_timeline

    def spy(ax, data):
        real(ax, data)
        drawn.extend(text.get_text() for text in ax.texts if text.get_fontweight() == "bold"
                     and text.get_text() in {e["description"] for e in data["events"]})
    monkeypatch.setattr(build_figures, "draw_timeline", spy)
    assert build_figures.render(built).startswith(b"\x89PNG")
    events = sorted(read_table("events", built), key=lambda e: int(e["timeline"]))
    assert drawn == [e["description"] for e in events]
    assert len({e["source_id"] for e in events}) > 1
