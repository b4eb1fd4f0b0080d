"""The contract of the hand-written inputs (annotations.yaml, metadata.yaml, the
reference scale): each slip a curator is likely to make is rejected with one line
per problem naming the file, the line and the key path; YAML's own surprises are
errors; the JSON Schema for editors is committed, current and referenced by every
annotations.yaml. Everything runs in process except the one command-line check.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from conftest import BULLETIN, FIXTURES, ROOT, add_bulletin, copy_inputs, make

from scripts.outputs import build_input_schemas
from scripts.claims import extract
from scripts.common import BuildError, package_spec
from scripts.inputs.yaml_input import load, strip_lines

ANNOTATIONS = Path("data") / "raw" / BULLETIN / "annotations.yaml"
METADATA = Path("data") / "raw" / BULLETIN / "metadata.yaml"


def edit(root: Path, relpath: Path, old: str, new: str) -> int:
    """Replace the first `old` by `new` in a copied input; return the line `old` started on."""
    path = root / relpath
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {relpath}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1


def rejected(root: Path) -> list[str]:
    """The build's error lines for the inputs at `root` (it must fail with BuildError)."""
    with pytest.raises(BuildError) as caught:
        extract.build(root)
    lines = [str(p) for p in getattr(caught.value, "problems", [caught.value])]
    for line in lines:
        assert re.match(r"\S+\.(yaml|txt)(:\d+)?: ", line), f"does not start with file[:line]: {line}"
    return lines


@pytest.fixture
def root(tmp_path):
    return copy_inputs(tmp_path / "package")


def only(lines: list[str], expected: str) -> None:
    assert [line for line in lines if expected in line], f"{expected!r} not in:\n" + "\n".join(lines)


# ---------------------------------------------------------------- the slips from the issue, one test each

def test_sequence_in_words(root):
    line = edit(root, ANNOTATIONS, "    sequence: 1\n", "    sequence: one\n")
    assert rejected(root) == [f"{root / ANNOTATIONS}:{line}: events[0].sequence: expected a whole number, got 'one'"]


def test_confidential_maybe(root):
    line = edit(root, ANNOTATIONS, "confidential: true", "confidential: maybe")
    assert rejected(root) == [f"{root / ANNOTATIONS}:{line}: contacts[0].confidential: expected true or false, got 'maybe'"]


def test_same_key_twice_names_both_lines(root):
    line = edit(root, ANNOTATIONS, "    status: freed_up\n", "    status: freed_up\n    status: deployed\n")
    assert rejected(root) == [f"{root / ANNOTATIONS}:{line + 1}: personnel[0].status: key 'status' given twice "
                              f"in one mapping (lines {line} and {line + 1}); keep one"]


def test_places_as_a_string(root):
    line = edit(root, ANNOTATIONS, "places: [key sites]", "places: key sites")
    assert rejected(root) == [f"{root / ANNOTATIONS}:{line}: measures[3].places: expected a list of strings, got 'key sites'"]


def test_numeric_id(root):
    line = edit(root, ANNOTATIONS, "  - id: jtac\n", "  - id: 42\n")
    assert rejected(root) == [f"{root / ANNOTATIONS}:{line}: organisations[2].id: expected an ID, got 42"]


def test_misspelt_metadata_key(root):
    line = edit(root, METADATA, "language: en-GB", "langauge: en-GB")
    lines = rejected(root)
    only(lines, f"{root / METADATA}:{line}: langauge: unknown key (did you mean 'language'?)")
    only(lines, f"{root / METADATA}:")  # and language: required key missing
    assert any(line.endswith("language: required key missing") for line in lines)


def test_unknown_top_level_section(root):
    text = (root / ANNOTATIONS).read_text(encoding="utf-8")
    (root / ANNOTATIONS).write_text(text + "\nremarks:\n  - checked twice\n", encoding="utf-8")
    line = text.count("\n") + 2
    (problem,) = rejected(root)
    assert problem.startswith(f"{root / ANNOTATIONS}:{line}: remarks: unknown key; allowed: advice, aims, claim_links, command, contacts,")


def test_organisation_id_reused(root):
    first = edit(root, ANNOTATIONS, "  - id: jtac\n", "  - id: jtac\n")
    line = edit(root, ANNOTATIONS, "\npeople:\n", "  - id: jtac\n    name: \"Analysis Centre\"\n"
                "    kind: government_agency\n\npeople:\n")
    assert rejected(root) == [f"{root / ANNOTATIONS}:{line}: organisations[5].id: ID 'jtac' is already used by "
                              f"organisations[2] (line {first}); an ID names one entry"]


def test_alias_expanded_into_a_description(root):
    edit(root, ANNOTATIONS, '    name: "Joint Terrorism Analysis Centre"', '    name: &jtac "Joint Terrorism Analysis Centre"')
    line = edit(root, ANNOTATIONS, "    description: JTAC raised", "    description: *jtac\n    x: JTAC raised")
    assert rejected(root)[0] == (f"{root / ANNOTATIONS}:{line}: events[1].description: a YAML alias (*name) repeats "
                              "a value written elsewhere; write the value out here instead")


def test_contacts_section_deleted(root):
    text = (root / ANNOTATIONS).read_text(encoding="utf-8")
    start, end = text.index("contacts:\n"), text.index("statements:\n")
    (root / ANNOTATIONS).write_text(text[:start] + text[end:], encoding="utf-8")
    first_key = text[: text.index("\nsource:")].count("\n") + 2
    assert rejected(root) == [f"{root / ANNOTATIONS}:{first_key}: contacts: required section missing "
                              "(write `contacts: []` if there is none)"]


# ---------------------------------------------------------------- YAML 1.1 surprises and other slips

@pytest.mark.parametrize("old, new, expected", [
    ("    sequence: 2\n", "    sequence: 017\n",
     "events[1].sequence: unquoted 017 means 17 in YAML 1.2 (editors) but 15 in YAML 1.1; write 17 for the number"),
    ("    purpose: emergencies\n", "    purpose: 1:30\n",
     "contacts[1].purpose: unquoted 1:30 means '1:30' in YAML 1.2 (editors) but 90 in YAML 1.1"),
    ("confidential: false", "confidential: no",
     "contacts[1].confidential: unquoted no means 'no' in YAML 1.2 (editors) but false in YAML 1.1; write true or false"),
    ("    modality: in_effect\n", "    modality: on\n", "events[0].modality: unquoted on means 'on'"),
])
def test_yaml_11_surprises_are_errors(root, old, new, expected):
    line = edit(root, ANNOTATIONS, old, new)
    only(rejected(root), f"{root / ANNOTATIONS}:{line}: {expected}")


def test_all_problems_of_a_file_at_once(root):
    edit(root, ANNOTATIONS, "confidential: true", "confidential: maybe")
    edit(root, ANNOTATIONS, "places: [key sites]", "places: key sites")
    edit(root, ANNOTATIONS, "    event_type: bulletin_published", "    event_type: bulletin_publish")
    edit(root, METADATA, "language: en-GB", "langauge: en-GB")
    lines = rejected(root)
    assert len(lines) == 5, lines  # metadata: unknown + missing; annotations: three
    only(lines, "events[4].event_type: expected one of terrorist_attack, threat_level_raised")


def test_unknown_reference_is_named_where_typed(root):
    line = edit(root, ANNOTATIONS, "    organisation: police\n", "    organisation: polise\n")
    (problem,) = rejected(root)
    assert problem.startswith(f"{root / ANNOTATIONS}:{line}: personnel[0].organisation: organisation 'polise' is "
                              "not an organisation of the package")


def test_look_alike_letters_and_invisible_spaces(root):
    edit(root, ANNOTATIONS, "description: Operation Temperer activated", "description: Operation Temperer аctivated")
    edit(root, ANNOTATIONS, "purpose: emergencies", "purpose: emergencies\u00a0only")
    lines = rejected(root)
    only(lines, "events[2].description: contains 'а' (U+0430 CYRILLIC SMALL LETTER A); type plain letters")
    only(lines, "contacts[1].purpose: contains '\\xa0' (U+00A0 NO-BREAK SPACE)")


def test_an_empty_optional_key_is_a_slip(root):
    line = edit(root, ANNOTATIONS, '    name: "Counter Terrorism Policing"', "    name:")
    assert rejected(root) == [f"{root / ANNOTATIONS}:{line}: organisations[1].name: expected a string, "
                              "got nothing (an empty value)"]


def test_reference_scale_checked(root):
    line = edit(root, Path("data/reference/uk-threat-levels.yaml"), "levels: [low,", "levels: [lowish,")
    (problem,) = rejected(root)
    assert re.match(rf".*uk-threat-levels.yaml:{line}: levels\[0\]: expected one of low, moderate", problem)


def test_retired_ids_checked(root):
    retired = Path("data/releases/retired-ids.yaml")
    first = edit(root, retired, "  table: evidence", "  table: evidense")
    second = edit(root, retired, "  retired_in: 2.0.0", "  retired_in: 2.0")
    lines = rejected(root)
    only(lines, f"retired-ids.yaml:{first}: [0].table: expected one of sources, evidence,")
    only(lines, f"retired-ids.yaml:{second}: [0].retired_in: expected a string, got 2.0")


def test_build_errors_name_the_key_path_too(root):
    """Errors found while building rows (a quote not in the text) name the key written on their line."""
    line = edit(root, ANNOTATIONS, 'quote: "Operation Temperer was activated on Tuesday night"',
                'quote: "Operation Temperer was activated on Monday night"')
    assert rejected(root) == [f"{root / ANNOTATIONS}:{line}: events[2].quote: quote not found in source.txt: "
                              "'Operation Temperer was activated on Monday night'"]


def test_cli_prints_one_line_per_problem_without_traceback(root):
    edit(root, ANNOTATIONS, "confidential: true", "confidential: maybe")
    edit(root, ANNOTATIONS, "places: [key sites]", "places: key sites")
    result = subprocess.run([sys.executable, "-m", "scripts.outputs.publish", "--root", str(root)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and all(line.startswith("error: ") and "annotations.yaml:" in line for line in lines)


# ---------------------------------------------------------------- the schema for editors

def test_committed_json_schemas_are_current():
    stale = [p.name for p, data in build_input_schemas.rendered(ROOT).items()
             if not p.exists() or p.read_bytes() != data]
    assert not stale, f"stale (run `make`): {stale}"


def every_annotations_file() -> list[Path]:
    """Every bulletin's annotations, in data/raw/ and among the fixtures; a fixture copied into data/raw/
    once (its modeline is the fixture's, for the folder it is kept in) is checked where it is kept."""
    fixtures = sorted(ROOT.glob("tests/fixtures/raw/*/annotations.yaml"))
    copies = {(ROOT / "data" / "raw" / p.parent.name / "annotations.yaml") for p in fixtures
              if (ROOT / "data" / "raw" / p.parent.name / "annotations.yaml").is_file()
              and (ROOT / "data" / "raw" / p.parent.name / "annotations.yaml").read_bytes() == p.read_bytes()}
    return [p for p in sorted(ROOT.glob("data/raw/*/annotations.yaml")) if p not in copies] + fixtures


@pytest.mark.parametrize("path", every_annotations_file(), ids=lambda p: p.parent.name)
def test_every_annotations_file_names_its_schema_for_editors(path):
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith(build_input_schemas.MODELINE), first
    target = (path.parent / first[len(build_input_schemas.MODELINE):]).resolve()
    assert target == (ROOT / "schema" / "annotations.schema.json").resolve()


def test_editor_schema_accepts_the_annotations_and_rejects_a_broken_copy():
    schema = json.loads((ROOT / "schema" / "annotations.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    for path in every_annotations_file():
        assert not list(validator.iter_errors(strip_lines(load(path).data))), path
    broken = yaml.safe_load((ROOT / ANNOTATIONS).read_text(encoding="utf-8"))
    broken["measures"][1]["places"] = "key sites"
    broken["contacts"][0]["confidential"] = "maybe"
    broken["events"][0]["forse"] = 1
    del broken["people"]
    paths = sorted("/".join(map(str, e.absolute_path)) or e.message for e in validator.iter_errors(broken))
    assert paths == ["'people' is a required property", "contacts/0/confidential", "events/0", "measures/1/places"]


def test_the_docs_tell_curators_about_the_schema():
    section = (ROOT / "docs" / "adding-a-bulletin.md").read_text(encoding="utf-8")
    assert "yaml-language-server" in section and "schema/annotations.schema.json" in section


# ---------------------------------------------------------------- make rebuilds what is missing

def test_make_rebuilds_a_deleted_table(repo_copy):
    make(repo_copy)
    before = (repo_copy / "data" / "events.csv").read_bytes()
    (repo_copy / "data" / "events.csv").unlink()
    ran = make(repo_copy)
    assert "scripts.outputs.publish" in ran
    assert (repo_copy / "data" / "events.csv").read_bytes() == before
    assert "Nothing to be done" in make(repo_copy)


# ---------------------------------------------------------------- the section registry

def test_every_registered_section_has_an_input_model():
    """A new kind of fact is a schema entry, a section function registered with its model, and tests."""
    missing = [name for name, model in extract.SECTION_MODELS.items() if model is None]
    assert not missing, f"sections registered without an input model: {missing}"
    assert list(extract.ANNOTATIONS.model_fields) == list(extract.SECTIONS)


def test_enums_come_from_the_descriptor(root):
    """A value added to an enum in schema/package.yaml is accepted with no other edit."""
    # Coded on a bulletin no release published (a released row's coding never changes: its meaning is recorded).
    folder = add_bulletin(root, FIXTURES / "met-2017-10-14-fixture-railway-patrols")
    annotations = Path("data") / "raw" / folder.name / "annotations.yaml"
    measure_types = "enum: [policing_plan, increased_patrols,"
    edit(root, Path("schema/package.yaml"), measure_types, measure_types.replace("[", "[rumoured_patrols, "))
    line = edit(root, annotations, "    measure_type: additional_checks\n", "    measure_type: rumoured_patrols\n")
    extract.build(root)
    edit(root, Path("schema/package.yaml"), "[rumoured_patrols, ", "[")
    (problem,) = rejected(root)
    assert re.match(rf"{re.escape(str(root / annotations))}:{line}: measures\[\d+\]\.measure_type: expected one of "
                    "policing_plan, increased_patrols,", problem), problem
    assert problem.endswith("(measures.measure_type in schema/package.yaml), got 'rumoured_patrols'")


# ---------------------------------------------------------------- coverage that a copy cannot satisfy

def remove_entry(root: Path, entry_id: str) -> None:
    path = root / ANNOTATIONS
    text = path.read_text(encoding="utf-8")
    entry = re.search(rf"  - id: {entry_id}\n(?:    .*\n|\s*#.*\n)+", text)
    assert entry, entry_id
    path.write_text(text.replace(entry.group(), ""), encoding="utf-8")


def test_contacts_emptied_leave_the_phone_numbers_uncovered(root):
    """The advice and the statement quoting the numbers do not stand in for contacts rows. The archived
    bulletin alone: a later one printing the numbers would then have to define them (another error)."""
    for folder in (root / "data" / "raw").iterdir():
        if folder.name != Path(ANNOTATIONS).parent.name:
            shutil.rmtree(folder)
    text = (root / ANNOTATIONS).read_text(encoding="utf-8")
    start, end = text.index("contacts:\n"), text.index("statements:\n")
    text = text[:start] + "contacts: []\n\n" + text[end:]
    (root / ANNOTATIONS).write_text(re.sub(r"\n    contact: [a-z0-9-]+", "", text), encoding="utf-8")
    (problem,) = rejected(root)
    assert re.match(rf"{re.escape(str(root / ANNOTATIONS))}: \d+ fact-bearing token\(s\) of source.txt lie in no "
                    "evidence span", problem), problem
    assert "phone '0800 789 321'" in problem and "phone '999'" in problem


def test_a_statement_copy_does_not_cover_the_facts_in_its_paragraph(root):
    """'in the coming days' is inside statement rowley-1; without the claim that codes it, it is uncovered."""
    for entry in ("police-patrols-increased-in-coming-days", "increased-in-police-patrols", "in-the-coming-days"):
        remove_entry(root, entry)  # the claim and its qualifiers (one quotes "in the coming days")
    (problem,) = rejected(root)
    assert "lie in no evidence span that a row uses" in problem and "relative_time 'days'" in problem


def test_a_look_alike_in_the_source_id_is_named_where_it_was_typed(root):
    """Every ID of the bulletin's rows starts with its source_id: an 'l' typed for a '1' would
    rename them all, and only surface as released IDs gone missing. The folder name says it too."""
    line = edit(root, METADATA, "source_id: met-2017-05-24\n", "source_id: met-20l7-05-24\n")
    only(rejected(root), f"metadata.yaml:{line}: source_id 'met-20l7-05-24' is not the start of the bulletin's folder name")
