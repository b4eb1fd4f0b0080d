"""Relations between entries, sections and files of the curator's input: a value given twice (an
alias under two organisations, one organisation with two kinds, one fact twice), the retired-ID table
against the release lists and the version, and the IDs a release records. Each slip is rejected with
the file and line the curator wrote, and where the entry it clashes with was written."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, add_bulletin, copy_inputs, copy_package
from test_input_contract import ANNOTATIONS, edit, rejected

from scripts.outputs import build_dist
from scripts.common import BuildError, load_descriptor

FIXTURE = FIXTURES / "met-2017-10-14-fixture-railway-patrols"
OTHER = Path("data") / "raw" / FIXTURE.name / "annotations.yaml"
RETIRED = Path("data") / "releases" / "retired-ids.yaml"


@pytest.fixture
def root(tmp_path):
    """The package's inputs and a second bulletin (the fixture, published later)."""
    root = copy_inputs(tmp_path / "package")
    add_bulletin(root, FIXTURE)
    return root


VERSION = load_descriptor(ROOT)["version"]
LATER = ".".join([VERSION.split(".")[0], str(int(VERSION.split(".")[1]) + 1), "0"])  # a version after this one


def listed_at(version: str, released: str) -> int:
    """The line of `released` in data/releases/<version>-ids.csv."""
    lines = (ROOT / "data" / "releases" / f"{version}-ids.csv").read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if line.endswith("," + released))


def line_of(root: Path, relpath: Path, text: str) -> int:
    content = (root / relpath).read_text(encoding="utf-8")
    return content[: content.index(text)].count("\n") + 1


# ---------------------------------------------------------------- organisations and people

def test_an_alias_under_two_organisations_of_one_file(root):
    """JTAC's alias given to the entry before it too: the later entry is the one named."""
    first = edit(root, ANNOTATIONS, "    name: \"Counter Terrorism Policing\"\n",
                 "    name: \"Counter Terrorism Policing\"\n    aliases: [\"JTAC\"]\n") + 1
    line = line_of(root, ANNOTATIONS, '    aliases: ["JTAC"]\n    kind: government_agency')
    assert rejected(root) == [
        f"{root / ANNOTATIONS}:{line}: organisations[2].aliases: organisation 'jtac': alias 'JTAC' already names "
        f"organisation 'counter-terrorism-policing' ({root / ANNOTATIONS}:{first}); a name or alias names one "
        "organisation or person, in every bulletin"]


def test_an_alias_under_two_ids_across_bulletins_is_named_in_the_later_bulletin(root):
    first = line_of(root, ANNOTATIONS, '    name: "Counter Terrorism Policing"')
    line = edit(root, OTHER, '    name: "British Transport Police"\n',
                '    name: "British Transport Police"\n    aliases: ["counter terrorism policing"]\n') + 1
    assert rejected(root) == [
        f"{root / OTHER}:{line}: organisations[2].aliases: organisation 'british-transport-police': alias "
        f"'counter terrorism policing' already names organisation 'counter-terrorism-policing' "
        f"({root / ANNOTATIONS}:{first}); a name or alias names one organisation or person, in every bulletin"]


def test_a_person_named_like_an_organisation(root):
    first = line_of(root, ANNOTATIONS, '    name: "military"')
    line = edit(root, OTHER, '    name: "Helen Marsh"\n', '    name: "Helen Marsh"\n    aliases: ["Military"]\n') + 1
    (problem,) = rejected(root)
    assert problem.startswith(f"{root / OTHER}:{line}: people[0].aliases: person 'helen-marsh': alias 'Military' "
                              f"already names organisation 'military' ({root / ANNOTATIONS}:{first})")


def test_one_organisation_given_two_kinds_by_two_bulletins(root):
    first = line_of(root, ANNOTATIONS, "  - id: jtac\n")
    line = edit(root, OTHER, '    aliases: ["JTAC"]\n', '    aliases: ["JTAC"]\n    kind: police_force\n') + 1
    assert rejected(root) == [
        f"{root / OTHER}:{line}: organisations[1].kind: organisation 'jtac': kind 'police_force' disagrees with its "
        f"definition ({root / ANNOTATIONS}:{first}, kind 'government_agency'); an organisation has one definition: "
        "give its kind where it is first named, and the same kind (or none) elsewhere"]


def test_the_same_kind_given_again_is_no_slip(root):
    from scripts.claims import extract
    edit(root, OTHER, '    aliases: ["JTAC"]\n', '    aliases: ["JTAC"]\n    kind: government_agency\n')
    organisations = extract.build(root)["rows"]["organisations"]
    assert [o["kind"] for o in organisations if o["organisation_id"] == "jtac"] == ["government_agency"]


def test_an_organisations_kind_is_required_where_it_is_first_named(root):
    line = edit(root, ANNOTATIONS, "  - id: counter-terrorism-policing\n", "  - id: counter-terrorism-policing\n")
    edit(root, ANNOTATIONS, "    kind: police_network\n", "")
    (problem,) = rejected(root)
    assert problem.startswith(f"{root / ANNOTATIONS}:{line}: organisations[1]: organisation "
                              "'counter-terrorism-policing': kind is required where it is first named (here, at "
                              "'Counter Terrorism Policing', source.txt character ")


def test_a_fact_copied_under_a_new_id(root):
    first = line_of(root, ANNOTATIONS, "  - id: 0800-789-321\n")
    text = (root / ANNOTATIONS).read_text(encoding="utf-8")
    entry = text[text.index("  - id: 0800-789-321\n"):text.index("  - id: emergency\n")]
    line = edit(root, ANNOTATIONS, "  - id: emergency\n",
                entry.replace("  - id: 0800-789-321", "  - id: hotline") + "  - id: emergency\n")
    assert rejected(root) == [f"{root / ANNOTATIONS}:{line}: contacts[1]: repeats contacts[0] (line {first}) in all "
                              "but its id: one fact, one entry"]


# ---------------------------------------------------------------- the retired-ID table

@pytest.mark.parametrize("old, new, key, expected", [
    ("  retired_in: 2.0.0\n  replaced_by: [met-2017-05-24-123-157]", "  retired_in: 1.0.0\n  replaced_by: [met-2017-05-24-123-157]",
     "[0].retired_in", "'met-2017-05-24-122-158' is retired in 1.0.0 but release 1.0.0 published it "
     f"(data/releases/1.0.0-ids.csv line {listed_at('1.0.0', 'met-2017-05-24-122-158')}); retired_in is the first "
     "version without it"),
    ("  retired_in: 2.0.0\n  replaced_by: [met-2017-05-24-123-157]", f"  retired_in: {LATER}\n  replaced_by: [met-2017-05-24-123-157]",
     "[0].retired_in", f"retired_in '{LATER}' is later than this version {VERSION} (schema/package.yaml)"),
    ("- id: met-2017-05-24-122-158\n  table: evidence", "- id: met-2017-05-24-122-158\n  table: mentions",
     "[0].table", "table 'mentions': release 1.0.0 published 'met-2017-05-24-122-158' in table evidence "
     f"(data/releases/1.0.0-ids.csv line {listed_at('1.0.0', 'met-2017-05-24-122-158')})"),
    ("- id: met-2017-05-24-122-158\n", "- id: met-2017-05-24-122-159\n",
     "[0].id", "'met-2017-05-24-122-159' was published by no release (no data/releases/<version>-ids.csv lists it): "
     "only a released ID is retired; a row never released is simply removed"),
])
def test_the_retired_id_table_agrees_with_the_release_lists_and_the_version(root, old, new, key, expected):
    line = edit(root, RETIRED, old, new) + (1 if key.endswith("table") else 0)
    assert rejected(root) == [f"{root / RETIRED}:{line}: {key}: {expected}"]


def test_an_id_retired_by_the_release_that_published_it(root):
    """2.0.0 published the 999 contact's ID: 2.0.0 cannot retire it (and it is still in use)."""
    text = (root / RETIRED).read_text(encoding="utf-8")
    line = text.count("\n") + 1
    entries = text.count("\n- id: ")
    (root / RETIRED).write_text(text + "- id: met-2017-05-24-emergency\n  table: contacts\n"
                                "  retired_in: 2.0.0\n  replaced_by: []\n  reason: test\n", encoding="utf-8")
    lines = rejected(root)
    assert [problem.split(": ", 2)[1] for problem in lines] == [f"[{entries}].id", f"[{entries}].retired_in"]
    assert lines[1] == (f"{root / RETIRED}:{line + 2}: [{entries}].retired_in: 'met-2017-05-24-emergency' is "
                        f"retired in 2.0.0 but release 2.0.0 published it (data/releases/2.0.0-ids.csv line "
                        f"{listed_at('2.0.0', 'met-2017-05-24-emergency')}); "
                        "retired_in is the first version without it")


# ---------------------------------------------------------------- the IDs a release records

def test_the_recorded_ids_of_the_current_release_are_the_packages():
    """Every ID data/releases/<version>-ids.csv of this version records is still published with its
    meaning (a bulletin added since, the version left as it is, only adds IDs)."""
    descriptor = load_descriptor(ROOT)
    recorded = ROOT / "data" / "releases" / f"{descriptor['version']}-ids.csv"
    listed = set(recorded.read_text(encoding="utf-8").splitlines())
    assert len(listed) > 100
    assert listed <= set(build_dist.release_ids(ROOT, descriptor).decode("utf-8").splitlines())
    assert build_dist.record_release(ROOT, descriptor).startswith(f"the IDs of release {descriptor['version']}")


def test_a_new_version_records_its_ids_and_a_released_one_cannot_change(tmp_path):
    root = copy_package(tmp_path / "package")
    descriptor = load_descriptor(root)
    descriptor["version"] = "2.1.0"
    message = build_dist.record_release(root, descriptor)
    written = root / "data" / "releases" / "2.1.0-ids.csv"
    assert message.startswith("recorded the IDs release 2.1.0 publishes")
    assert written.read_bytes() == build_dist.release_ids(root, descriptor)
    assert os.stat(written).st_mtime_ns <= os.stat(root / "datapackage.json").st_mtime_ns  # make rebuilds nothing
    assert build_dist.record_release(root, descriptor).startswith("the IDs of release 2.1.0 agree")
    assert build_dist.record_release(root, descriptor, releasing=True).startswith("the IDs of release 2.1.0 agree")
    people = root / "data" / "people.csv"
    original = people.read_text(encoding="utf-8")
    line = written.read_text(encoding="utf-8").splitlines().index("people,mark-rowley,") + 1
    # An ID added since the release: reported by a working build, refused when releasing.
    people.write_text(original + next(row for row in original.splitlines() if row.startswith("mark-rowley,"))
                      .replace("mark-rowley,", "mark-rowley-2,", 1) + "\n",
                      encoding="utf-8")
    assert "1 IDs added since are not released yet (the first: people,mark-rowley-2)" in \
        build_dist.record_release(root, descriptor)
    with pytest.raises(BuildError) as caught:
        build_dist.record_release(root, descriptor, releasing=True)
    assert str(caught.value).startswith(f"{written}:{len(written.read_text(encoding='utf-8').splitlines())}: ")
    assert "the package publishes 1 IDs release 2.1.0 does not record (the first: people,mark-rowley-2)" \
        in str(caught.value)
    # A released ID gone: refused by every build, at its recorded line.
    people.write_text(original.replace("mark-rowley,", "mark-rowley-2,"), encoding="utf-8")
    with pytest.raises(BuildError) as caught:
        build_dist.record_release(root, descriptor)
    assert str(caught.value).startswith(f"{written}:{line}: release 2.1.0 published people ID 'mark-rowley', "
                                        "which the package no longer has. A released version's IDs never change")


def test_one_id_for_an_organisation_and_a_person(root):
    first = line_of(root, ANNOTATIONS, "  - id: mark-rowley\n")
    line = line_of(root, OTHER, "  - id: british-transport-police\n")
    (other := root / OTHER).write_text(other.read_text(encoding="utf-8").replace("british-transport-police",
                                                                                 "mark-rowley"), encoding="utf-8")
    (problem,) = rejected(root)
    assert problem == (f"{root / OTHER}:{line}: organisations[2]: organisation 'mark-rowley': the ID is already a "
                       f"person ({root / ANNOTATIONS}:{first}); an ID names one organisation or person")


def test_a_misspelt_replacement_and_an_id_retired_twice(root):
    """Both problems of the file at once, each at its line."""
    line = edit(root, RETIRED, "  replaced_by: [met-2017-05-24-123-157]", "  replaced_by: [met-2017-05-24-123-175]")
    text = (root / RETIRED).read_text(encoding="utf-8")
    entry = text[text.index("- id: met-2017-05-24-313-417\n"):text.index("- id: met-2017-05-24-1006-1073-police\n")]
    (root / RETIRED).write_text(text + entry, encoding="utf-8")
    again = text.count("\n") + 1
    entries = text.count("\n- id: ")
    first = line_of(root, RETIRED, "- id: met-2017-05-24-313-417\n")
    assert rejected(root) == [
        f"{root / RETIRED}:{line}: [0].replaced_by: replacement 'met-2017-05-24-123-175' of 'met-2017-05-24-122-158' "
        "is not a row of this version",
        f"{root / RETIRED}:{again}: [{entries}].id: 'met-2017-05-24-313-417' is retired twice (first at line {first}); "
        "list it once"]


def test_a_released_organisation_renamed_names_the_files_that_list_organisations(root):
    """An organisation's ID carries no source_id: the error names the files that list organisations."""
    from scripts.claims import extract
    from test_input_contract import ANNOTATIONS as PATH
    files = sorted((root / "data" / "raw").glob("*/annotations.yaml"))
    for path in files:  # renamed in every bulletin that lists it, so the only fault is the released ID
        path.write_text(path.read_text(encoding="utf-8").replace("jtac", "jtac-uk"), encoding="utf-8")
    with pytest.raises(BuildError) as caught:
        extract.build(root)
    message = str(caught.value)
    assert message.startswith(f"{root / 'data/releases/1.0.0-ids.csv'}:{listed_at('1.0.0', 'jtac')}: released ID "
                              "'jtac' of table organisations is gone: keep it (the ID of an entry of ")
    named = re.search(r"the ID of an entry of (.*?)( and (\d+) more)?\), or list it in retired-ids\.yaml", message)
    shown = named.group(1).split(", ")
    assert str(root / PATH) in shown and set(shown) <= {str(p) for p in files}, message
    assert len(shown) + int(named.group(3) or 0) == len(files), message


def test_two_bulletins_with_one_source_id(root):
    """Every row ID starts with its bulletin's source_id: two folders stating one would share them all."""
    folder = root / "data" / "raw" / "met-2017-05-24-additional-armed-officers"
    shutil.copytree(folder, root / "data" / "raw" / "met-2017-05-24-second-copy")
    metadata = root / "data" / "raw" / "met-2017-05-24-second-copy" / "metadata.yaml"
    line = line_of(root, metadata.relative_to(root), "source_id: ")
    (problem,) = rejected(root)
    assert problem == f"{metadata}:{line}: ID 'met-2017-05-24' is used twice (already in sources)"


def test_mentions_take_no_entries(root):
    """The section is computed; its model rejects an entry where it is written (the build has no check of its own)."""
    line = edit(root, ANNOTATIONS, "\nuncoded:\n", "\nmentions:\n  - {id: x}\nuncoded:\n") + 1
    assert rejected(root) == [f"{root / ANNOTATIONS}:{line}: mentions: this section is computed by the build "
                              "and takes no entries; leave it out"]
