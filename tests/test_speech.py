"""Speech of every form: a statement with or without quotation marks (direct or reported), its speaker
found by rule (the mention its attribution verb governs, schema/package.yaml speech.speaker_rule), a role
printed before or after a name (never a verb phrase), and a curator's correction of a mention's rank or
role, checked against the words. The fictional fixture bulletin under tests/fixtures/raw/ that prints
reported speech is built beside the package's bulletins in a temporary folder; the assertions ask the
tables what they hold (other fixture bulletins may sit beside it)."""

from __future__ import annotations

import re
import shutil

import pytest
from conftest import FIXTURES, SHARED_FIXTURES, add_bulletin, copy_package, published_files, read_table, run_step

from scripts.claims import derive
from scripts.common import load_yaml, package_spec

FIXTURE = FIXTURES / "cp-2017-06-03-fixture-reported-update"
FIXTURE_ID = load_yaml(FIXTURE / "metadata.yaml")["source_id"]
SPEECH = package_spec()["speech"]
QUOTATION_MARKS = "“\"‘'"


def mention_at(text: str, name: str) -> derive.MentionWords:
    start = text.index(name)
    return derive.person_at(text, start, start + len(name), SPEECH)


@pytest.mark.parametrize("text, rank, role", [
    ("Assistant Commissioner Mark Rowley, head of national Counter Terrorism Policing, said:",
     "Assistant Commissioner", "head of national Counter Terrorism Policing"),
    ("The head of national Counter Terrorism Policing, Assistant Commissioner Mark Rowley, gave an update "
     "today on the Manchester investigation, saying that", "Assistant Commissioner",
     "head of national Counter Terrorism Policing"),
    ("Head of national Counter Terrorism Policing, Mark Rowley, said", None,
     "Head of national Counter Terrorism Policing"),
    # Words after a name that are a verb phrase are no role, set off by commas or not.
    ("Assistant Commissioner Mark Rowley, gave an update today on the Manchester investigation, adding",
     "Assistant Commissioner", None),
    ("Assistant Commissioner Mark Rowley gave an update today on the Manchester investigation.",
     "Assistant Commissioner", None),
    ("Speaking today, Mark Rowley said", None, None),
    ("Speaking as national lead for Counter Terrorism Policing, Mark Rowley said", None, None),
    ("In a statement, the Senior National Coordinator for Counter Terrorism Policing, Mark Rowley, said",
     None, "Senior National Coordinator for Counter Terrorism Policing"),
])
def test_rank_and_role_before_or_after_a_name(text, rank, role):
    found = mention_at(text, "Mark Rowley")
    assert (found.rank, found.role) == (rank, role)
    if role:  # the mention's words hold the role where it is printed
        assert role in text[found.start:found.end] and text[slice(*found.role_span)] == role


@pytest.mark.parametrize("text, speaker", [
    ("Assistant Commissioner Mark Rowley, head of national Counter Terrorism Policing, said:", "Mark Rowley"),
    ("Mark Rowley said that", "Mark Rowley"),
    ("said Mark Rowley.", "Mark Rowley"),
    ("According to the Metropolitan Police,", "Metropolitan Police"),
    ("The Metropolitan Police gave an update, according to Mark Rowley,", "Metropolitan Police"),
])
def test_the_speaker_is_the_mention_the_attribution_verb_governs(text, speaker):
    names = ["Mark Rowley", "Metropolitan Police"]
    spans = [(m.start(), m.end()) for name in names for m in re.finditer(name, text)]
    found = derive.attribution_speaker(text, 0, len(text), spans, SPEECH)
    assert found.speaker and text[slice(*found.speaker)] == speaker


def test_an_attribution_without_a_verb_names_no_speaker():
    text = "Mark Rowley:"
    assert derive.attribution_speaker(text, 0, len(text), [(0, 11)], SPEECH).speaker is None


@pytest.fixture(scope="module")
def built(fixtures_build):
    """The tables of the package with the fixture bulletin (and the other fixtures the run builds with it,
    conftest's fixtures_build: extract, describe, validate (the schema's rules and keys), publish)."""
    assert FIXTURE.name in SHARED_FIXTURES
    names = ("statements", "mentions", "evidence", "claims", "measures")
    return {name: read_table(name, fixtures_build) for name in names}


def test_every_statement_is_direct_or_reported_by_its_words(built):
    quotes = {r["evidence_id"]: r for r in built["evidence"]}
    mentions = {m["mention_id"]: m for m in built["mentions"]}
    kinds = set()
    for s in built["statements"]:
        words, attribution = quotes[s["evidence_id"]], quotes[s["attribution_evidence_id"]]
        direct = words["quote"][:1] in QUOTATION_MARKS
        assert s["kind"] == ("direct" if direct else "reported"), s["statement_id"]
        assert s["text"] == (words["quote"].strip("“”\"‘’ ") if direct else words["quote"]), s["statement_id"]
        kinds.add(s["kind"])
        speaker = mentions[s["speaker_mention_id"]]  # the speaker's mention lies in the attribution
        spoken = quotes[speaker["evidence_id"]]
        assert int(attribution["start"]) <= int(spoken["start"]) and int(spoken["end"]) <= int(attribution["end"])
        assert (s["person_id"] or s["organisation_id"]) == (speaker["person_id"] or speaker["organisation_id"])
        assert s["speaker_organisation_id"] == (speaker["organisation_id"] or speaker["role_organisation_id"])
    assert kinds == {"direct", "reported"}, "the build holds a quoted and a reported statement"


def test_reported_speech_finds_its_speaker_and_a_role_printed_before_the_name(built):
    quotes = {r["evidence_id"]: r["quote"] for r in built["evidence"]}
    mine = {s["statement_id"].removeprefix(FIXTURE_ID + "-"): s for s in built["statements"]
            if s["source_id"] == FIXTURE_ID}
    assert {s["kind"] for s in mine.values()} == {"reported"}
    update = mine["rowley-update"]
    assert (update["person_id"], update["speaker_organisation_id"]) == ("mark-rowley", "counter-terrorism-policing")
    said = next(m for m in built["mentions"] if m["mention_id"] == update["speaker_mention_id"])
    assert (said["rank"], said["role"], said["corrected"]) == (
        "Assistant Commissioner", "head of national Counter Terrorism Policing", "")
    assert quotes[said["evidence_id"]].startswith("head of national") and "gave" not in quotes[said["evidence_id"]]
    by_organisation = mine["metropolitan-police-patrols"]  # "According to the Metropolitan Police, ..."
    assert (by_organisation["person_id"], by_organisation["organisation_id"]) == ("", "metropolitan-police")
    # First-person words inside reported speech resolve by the one first-person rule.
    checks = next(m for m in built["measures"] if m["statement_id"] == update["statement_id"])
    assert (checks["actor_words"], checks["actor_organisation_id"], checks["actor_basis"]) == (
        "our", "counter-terrorism-policing", "inferred")
    claims = [c for c in built["claims"] if c["statement_id"] in {s["statement_id"] for s in mine.values()}]
    assert claims and all(c["speaker_organisation_id"] for c in claims)


def test_no_role_is_a_verb_phrase_and_every_role_is_printed_in_its_mention(built):
    quotes = {r["evidence_id"]: r["quote"] for r in built["evidence"]}
    roles = [m for m in built["mentions"] if m["role"]]
    assert roles
    for m in roles:
        assert m["role"] in quotes[m["evidence_id"]], m["mention_id"]
        assert m["corrected"] or derive.is_role(m["role"], SPEECH), m["mention_id"]
    corrected = [m for m in built["mentions"] if m["corrected"]]
    assert corrected and all(set(m["corrected"].split()) <= {"rank", "role"} for m in corrected)


def bad_fixture(tmp_path, old: str, new: str):
    """The published package with the fixture added, one line of its annotations replaced."""
    root = copy_package(tmp_path / "package")
    folder = add_bulletin(root, FIXTURE)
    path = folder / "annotations.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    line = text[:text.index(old)].count("\n") + 1
    return root, path, line


@pytest.mark.parametrize("old, new, reason", [
    ('        role: "leads national Counter Terrorism Policing"', '        role: "head of the investigation"',
     "is not printed in its sentence"),
    ('        role: "leads national Counter Terrorism Policing"', '        rank: "Commissioner"\n'
     '        role: "leads national Counter Terrorism Policing"', "is not printed in its sentence"),
    ('    attribution_quote: "According to the Metropolitan Police,"',
     '    speaker: mark-rowley\n    attribution_quote: "According to the Metropolitan Police,"',
     "is not named in the attribution"),
])
def test_a_correction_the_words_do_not_print_stops_the_build_at_its_line(tmp_path, old, new, reason):
    root, path, line = bad_fixture(tmp_path, old, new)
    before = published_files(root)
    result = run_step("outputs.publish", root)
    assert result.returncode != 0, "the build accepted a correction the words do not print"
    assert f"{path}:{line}" in result.stderr and reason in result.stderr, result.stderr
    assert published_files(root) == before, "a failed build changed the published files"
