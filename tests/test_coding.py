"""The coding is faithful and complete: every sentence is coded or excused, every value that
claims to be the bulletin's words stands in its quote, actors are coded like dates, mentions are
found by code. Each new fact is pinned to its value and its words, as in test_facts.py; each
rule is shown to stop the build with the annotation file and line."""

from __future__ import annotations

import re

import pytest

from scripts.common import BuildError
from scripts.extract import build

SID = "met-2017-05-24"
ANNOTATIONS = "data/raw/met-2017-05-24-additional-armed-officers/annotations.yaml"


def row(tables, table, suffix):
    key = next(iter(tables[table][0]))
    matches = [r for r in tables[table] if r[key] == f"{SID}-{suffix}"]
    assert len(matches) == 1, f"{table}: no row {SID}-{suffix}"
    return matches[0]


def quote(evidence, r, column="evidence_id"):
    return evidence[r[column]]["quote"]


# ---------------------------------------------------------------- sentences

def test_every_sentence_is_coded_or_excused(tables, source_text):
    sentences = tables["sentences"]
    assert [int(s["number"]) for s in sentences] == list(range(1, 25))
    assert sentences[0]["sentence_id"] == f"{SID}-sentence-01"
    for s in sentences:
        assert source_text[int(s["start"]):int(s["end"])] == s["text"]
        assert (s["coded"] == "true") == (s["reason"] == "")
    excused = [s for s in sentences if s["coded"] == "false"]
    assert len(excused) <= 3


@pytest.mark.parametrize("number, table, suffix", [
    (10, "command", "police-in-control"), (12, "tactics", "armed-officers-targeted-patrols"),
    (15, "advice", "passengers-allow-extra-time"), (17, "partnerships", "security-advice-to-organisers"),
    (21, "advice", "public-remain-vigilant"), (22, "advice", "report-concerns"), (23, "advice", "look-out"),
])
def test_sentences_once_left_out_are_coded(tables, evidence, number, table, suffix):
    sentence = tables["sentences"][number - 1]
    words = quote(evidence, row(tables, table, suffix))
    assert words in sentence["text"] and sentence["coded"] == "true"


# ---------------------------------------------------------------- new facts, pinned to their words

ADVICE = {  # id: (audience, action, condition, action_type, wording)
    "passengers-plan-in-advance": ("Passengers", "plan in advance", "", "plan_journey", "should"),
    "passengers-allow-extra-time": ("Passengers", "allow extra time to travel", "where possible",
                                    "allow_extra_time", "should"),
    "public-work-with-police": ("the public", "work with us", "", "cooperate_with_police", "appeal"),
    "public-remain-vigilant": ("the public", "remain vigilant", "", "remain_vigilant", "appeal"),
    "report-concerns": ("you", "let us know immediately", "If you see anything that causes concern",
                        "report_concerns", "imperative"),
    "look-out": ("", "Look out for anything that seems out of place, unusual or doesn’t seem to fit in with "
                     "day-to-day life", "", "look_out", "imperative"),
    "trust-instinct": ("you", "trust your instinct", "if you see or hear anything that could be terrorist-related",
                       "trust_instinct", "imperative"),
    "call-hotline": ("you", "call us in confidence on 0800 789 321",
                     "if you see or hear anything that could be terrorist-related", "call_hotline", "imperative"),
    "call-999": ("you", "call us in confidence on 0800 789 321, or in an emergency 999", "in an emergency",
                 "call_emergency", "imperative"),
}


@pytest.mark.parametrize("suffix", sorted(ADVICE))
def test_advice(tables, evidence, suffix):
    r = row(tables, "advice", suffix)
    assert (r["audience"], r["action"], r["condition"], r["action_type"], r["wording"]) == ADVICE[suffix]
    for column in ("audience", "action", "condition"):
        assert r[column] in quote(evidence, r)
    if suffix.startswith("passengers"):
        assert (r["actor_organisation_id"], r["actor_basis"], r["statement_id"]) == ("", "not_stated", "")
    else:  # inside Rowley's statement: its speaker heads national Counter Terrorism Policing
        assert (r["actor_organisation_id"], r["actor_basis"], r["statement_id"]) == (
            "counter-terrorism-policing", "inferred", f"{SID}-rowley-2")
        assert "head of national Counter Terrorism Policing" in r["actor_rule"]


def test_advice_links_its_numbers(tables):
    assert row(tables, "advice", "call-hotline")["contact_id"] == f"{SID}-anti-terrorist-hotline"
    assert row(tables, "advice", "call-999")["contact_id"] == f"{SID}-emergency"


@pytest.mark.parametrize("suffix, tactic, tactic_type", [
    ("armed-officers-on-foot", "on foot", "on_foot"), ("armed-officers-in-vehicles", "in vehicles", "in_vehicles"),
    ("armed-officers-proactive-operations", "proactive operations", "proactive_operations"),
    ("armed-officers-targeted-patrols", "targeted patrols", "targeted_patrols"),
])
def test_armed_officer_tactics(tables, evidence, suffix, tactic, tactic_type):
    r = row(tables, "tactics", suffix)
    assert (r["who"], r["tactic"], r["tactic_type"], r["place"], r["purpose"], r["status"]) == (
        "armed officers", tactic, tactic_type, "out and about", "to help deter and disrupt terrorist activity",
        "expected")  # "the public will see"
    assert quote(evidence, r).startswith("It means the public will see more armed officers")
    assert (r["actor_organisation_id"], r["actor_basis"]) == ("police", "inferred")


def test_increased_police_patrols_expected(tables, evidence):
    r = row(tables, "tactics", "increased-police-patrols")
    assert (r["tactic"], r["timing"], r["status"], r["actor_organisation_id"], r["actor_basis"]) == (
        "increased police patrols", "in the coming days", "expected", "police", "stated")
    assert quote(evidence, r, "actor_evidence_id") == "police"
    assert "They will see increased police patrols" in quote(evidence, r)


def test_partnership_with_organisers(tables, evidence):
    r = row(tables, "partnerships", "security-advice-to-organisers")
    assert (r["who"], r["partner"], r["activity"], r["activity_type"], r["status"]) == (
        "Specialist officers and protective security experts", "organisers",
        "having appropriate security measures in place", "event_security", "in_effect")  # "continue to work"
    assert (r["actor_organisation_id"], r["actor_basis"], r["partner_organisation_id"], r["partner_basis"]) == (
        "", "not_stated", "", "not_stated")


def test_military_enabled_police(tables, evidence):
    r = row(tables, "partnerships", "military-enabled-police")
    assert (r["activity"], r["activity_type"], r["actor_organisation_id"], r["actor_basis"]) == (
        "enabled us to put even more police on the streets", "enabling_deployment", "military", "stated")
    assert quote(evidence, r, "actor_evidence_id") == "military"
    assert (r["partner_organisation_id"], r["partner_basis"]) == ("police", "inferred")


def test_command_and_control(tables, evidence):
    control = row(tables, "command", "police-in-control")
    assert (control["commander"], control["relation"], control["subordinate"], control["status"]) == (
        "Police", "in_control", "any operation that has military support", "in_effect")
    troops = row(tables, "command", "police-command-troops")
    assert (troops["relation"], troops["subordinate"], troops["scope"], troops["subordinate_organisation_id"],
            troops["subordinate_basis"]) == ("commands", "the troops", "in line with their own officers",
                                             "military", "inferred")
    for r in (control, troops):
        assert quote(evidence, r).startswith("Police remain in control of any operation that has military support")
        assert (r["actor_organisation_id"], r["actor_basis"], quote(evidence, r, "actor_evidence_id")) == (
            "police", "stated", "Police")


# ---------------------------------------------------------------- values in the bulletin's words

def test_personnel_purpose_is_printed(tables, evidence):
    for suffix, purpose in (("armed-officers-freed-up", "to carry out patrols across the UK"),
                            ("military-mobilisable", "to support police")):
        r = row(tables, "personnel", suffix)
        assert r["purpose"] == purpose and purpose in quote(evidence, r)


@pytest.mark.parametrize("suffix, actor, basis, status", [
    ("transport-checks-ports", "", "not_stated", "possible"),
    ("security-review-key-sites", "", "not_stated", "under_way"),  # "We are urgently reviewing"
    ("armed-officers-key-locations-key-locations", "police", "inferred", "expected"),  # "there will be"
    ("increased-patrolling-crowded-places", "police-and-partners", "stated", "in_effect"),
    ("no-military-street-patrols-streets", "military", "stated", "not_planned"),
])
def test_measure_actor_and_status_say_what_the_words_say(tables, evidence, suffix, actor, basis, status):
    r = row(tables, "measures", suffix)
    assert (r["actor_organisation_id"], r["actor_basis"], r["status"]) == (actor, basis, status)
    if basis == "stated":
        assert quote(evidence, r, "actor_evidence_id") in quote(evidence, r)
    else:
        assert r["actor_evidence_id"] == "" and r["actor_rule"]


def test_event_description_adds_no_fact(tables):
    raised = row(tables, "events", "threat-level-raised")
    assert "national" not in raised["description"] and "UK" not in raised["description"]


# ---------------------------------------------------------------- mentions

def test_mentions_are_every_occurrence(tables, evidence, source_text):
    military = [m for m in tables["mentions"] if m["organisation_id"] == "military"]
    assert len(military) == len(re.findall(r"\bmilitary\b", source_text)) == 5
    orgs = {o["organisation_id"]: o for o in tables["organisations"]}
    first = min(military, key=lambda m: int(evidence[m["evidence_id"]]["start"]))
    assert orgs["military"]["evidence_id"] == first["evidence_id"]
    # "Police" starts sentence 10; the first mention of the police is "support police" (sentence 9)
    assert orgs["police"]["name"] == "police"
    assert int(evidence[orgs["police"]["evidence_id"]]["start"]) < source_text.index("Police remain")
    assert quote(evidence, orgs["jtac"]) == "Joint Terrorism Analysis Centre (JTAC)"


# ---------------------------------------------------------------- the rules stop the build

def annotations_of(inputs):
    return inputs / ANNOTATIONS


def edit(inputs, old, new, count=1):
    path = annotations_of(inputs)
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return text[:text.index(old)].count("\n") + 1  # the line where the edit starts


def build_error(inputs) -> str:
    with pytest.raises(BuildError) as caught:
        build(inputs)
    return str(caught.value)


def test_paraphrase_outside_the_quote_fails(inputs):
    line = edit(inputs, "    purpose: to support police\n", "    purpose: support police, under police command\n")
    message = build_error(inputs)
    assert re.search(r"annotations\.yaml:(\d+):", message), message
    entry_line = int(re.search(r"annotations\.yaml:(\d+):", message).group(1))
    assert entry_line <= line and "personnel.purpose" in message and "not in the bulletin's words" in message


def test_actor_not_in_the_words_fails_without_a_basis(inputs):
    line = edit(inputs, '''    actor_basis: not_stated
    actor_rule: "'We' in the bulletin's unattributed text does not say which organisation"''',
                '''    actor: metropolitan-police
    actor_quote: "Metropolitan Police"
    actor_basis: stated''')
    message = build_error(inputs)
    assert f"annotations.yaml:{line + 1}:" in message, message
    assert "not in the row's quote" in message


def test_actor_without_a_basis_fails(inputs):
    line = edit(inputs, '''    actor_basis: not_stated
    actor_rule: "'We' in the bulletin's unattributed text does not say which organisation"''',
                '''    actor: metropolitan-police''')
    message = build_error(inputs)
    assert "actor_basis: required key missing" in message, message
    entry_line = int(re.search(r"annotations\.yaml:(\d+):", message).group(1))
    assert line - 6 <= entry_line < line, (entry_line, line)  # the measure's own entry


def test_actor_words_that_are_no_mention_fail(inputs):
    edit(inputs, '''    actor: police-and-partners
    actor_quote: "police and partners"''', '''    actor: military
    actor_quote: "police and partners"''')
    message = build_error(inputs)
    assert "is not a mention of 'military'" in message and "annotations.yaml:" in message


def test_missing_mention_fails(inputs):
    line = edit(inputs, "people:\n", '''  - id: british-transport-police
    name: "British Transport Police"
    kind: police_force

people:
''')
    message = build_error(inputs)
    assert f"annotations.yaml:{line}:" in message, message
    assert "never named in source.txt" in message


def test_sentence_neither_coded_nor_excused_fails(inputs):
    path = annotations_of(inputs)
    text = path.read_text(encoding="utf-8")
    for entry_id in ("armed-officers-on-foot", "armed-officers-in-vehicles", "armed-officers-proactive-operations",
                     "armed-officers-targeted-patrols"):  # the tactics that code sentence 12
        entry = re.search(rf"  - id: {entry_id}\n(?:    .*\n)+", text)
        text = text.replace(entry.group(), "")
    path.write_text(text, encoding="utf-8")
    message = build_error(inputs)
    assert "annotations.yaml" in message and "source.txt:19:1 sentence 12" in message, message


def test_excusing_a_coded_sentence_fails(inputs):
    line = edit(inputs, "uncoded: []\n", 'uncoded:\n  - quote: "Police remain in control"\n    reason: "no fact"\n')
    message = build_error(inputs)
    assert "sentence 10 is coded" in message and f"annotations.yaml:{line + 1}:" in message, message


def test_at_most_three_excuses(inputs):
    path = annotations_of(inputs)
    text = path.read_text(encoding="utf-8")
    excuses = "".join(f'  - quote: "{q}"\n    reason: "test"\n' for q in (
        "Follow Metropolitan Police", "Additional armed officers carry out patrols across the UK",
        "[Assistant Commissioner Mark Rowley]", "This means that their assessment"))
    path.write_text(text.replace("uncoded: []\n", "uncoded:\n" + excuses), encoding="utf-8")
    message = build_error(inputs)
    assert "at most 3" in message and "annotations.yaml:" in message


# ---------------------------------------------------------------- released IDs stay citable

def test_every_id_of_1_0_0_is_kept_or_retired(tables):
    import csv
    from conftest import ROOT
    present = {next(iter(r.values())) for name, rows in tables.items() if name != "retired_ids" for r in rows}
    retired = {r["retired_id"]: r for r in tables["retired_ids"]}
    with open(ROOT / "data" / "releases" / "1.0.0-ids.csv", newline="", encoding="utf-8") as handle:
        released = list(csv.DictReader(handle))
    assert len(released) == 75
    for r in released:
        assert r["id"] in present or r["id"] in retired, r
    for r in retired.values():
        assert r["retired_id"] not in present and r["version_retired"] == "2.0.0"
        assert all(new in present for new in r["replacement_ids"].split()), r


def test_a_released_id_dropped_without_retiring_fails(inputs):
    edit(inputs, "  - id: call-999\n", "  - id: call-emergency\n")  # a new ID: fine, never released
    edit(inputs, "  - id: emergency\n", "  - id: emergency-number\n")
    edit(inputs, "    contact: emergency\n", "    contact: emergency-number\n")
    message = build_error(inputs)
    # named in the file whose edit dropped it, with the release list's line
    assert "annotations.yaml: released ID 'met-2017-05-24-emergency' of table contacts (data/releases/1.0.0-ids.csv " \
           "line 45) is gone" in message, message


def test_a_retired_id_is_never_reused(inputs):
    path = inputs / "data" / "releases" / "retired-ids.yaml"
    path.write_text(path.read_text(encoding="utf-8") + """- id: met-2017-05-24-emergency
  table: contacts
  retired_in: 2.0.0
  replaced_by: []
  reason: test
""", encoding="utf-8")
    message = build_error(inputs)
    assert "retired-ids.yaml:" in message and "never reused" in message, message
