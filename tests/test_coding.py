"""The coding is faithful, complete and consistent. Every word of the bulletin lies in a claim's
words or is excused; every value that claims to be the bulletin's words stands in its quote; the
judgements the words decide (which statement a row is in, who "we" is, whether a party is stated)
are made by rule, once, and each rule is pinned here to the bulletin's words; each rule is also
shown to stop the build with the annotation file and line."""

from __future__ import annotations

import csv
import re

import pytest

from conftest import ROOT
from scripts.claims import clauses
from scripts.common import BuildError, package_spec
from scripts.claims.extract import build

SID = "met-2017-05-24"
ANNOTATIONS = "data/raw/met-2017-05-24-additional-armed-officers/annotations.yaml"
SPEC = package_spec(ROOT)
FACT_KINDS = [r for r in SPEC["resources"] if r.get("claim")]


def row(tables, table, suffix):
    key = next(iter(tables[table][0]))
    matches = [r for r in tables[table] if r[key] == f"{SID}-{suffix}"]
    assert len(matches) == 1, f"{table}: no row {SID}-{suffix}"
    return matches[0]


def quote(evidence, r, column="evidence_id"):
    return evidence[r[column]]["quote"]


def span(evidence, evidence_id):
    return int(evidence[evidence_id]["start"]), int(evidence[evidence_id]["end"])


def parties(res):
    return list(res["claim"].get("parties") or {})


def org_column(party):
    return "organisation_id" if party == "organisation" else f"{party}_organisation_id"


# ---------------------------------------------------------------- coverage by word, not by sentence

def sentences_of(tables, sid=SID):
    return [s for s in tables["sentences"] if s["source_id"] == sid]


def test_every_word_is_in_a_claims_words_or_excused(tables, source_text):
    sentences = sentences_of(tables)
    assert [int(s["number"]) for s in sentences] == list(range(1, len(sentences) + 1))
    for s in tables["sentences"]:
        assert int(s["words_covered"]) + int(s["words_excused"]) == int(s["words"])
    for s in sentences:
        assert source_text[int(s["start"]):int(s["end"])] == s["text"]
        assert int(s["words"]) == len(clauses.words(s["text"]))
    words = sum(int(s["words"]) for s in sentences)
    covered = sum(int(s["words_covered"]) for s in sentences)
    assert covered / words > 0.9, (covered, words)


def test_excuses_name_their_kind(tables):
    excused = {s["text"]: s for s in sentences_of(tables) if s["words_excused"] != "0"}
    assert excused["Follow Metropolitan Police"]["excused_kind"] == "page_furniture"
    assert excused["[Assistant Commissioner Mark Rowley]"]["excused_kind"] == "page_furniture"
    assert excused["Additional armed officers carry out patrols across the UK"]["excused_kind"] == "headline"
    for s in excused.values():
        assert s["reason"] and (s["excused_kind"] in ("page_furniture", "headline", "attribution")
                                or int(s["words_excused"]) <= 6)


@pytest.mark.parametrize("words, table, suffix", [
    ("The extra officers add to a wider policing plan", "measures", "policing-plan"),
    ("freeing up armed police officers who are usually responsible for carry out these static guarding duties",
     "measures", "military-frees-armed-officers-from-guarding"),
    ("which may cause disruption to journeys", "effects", "disruption-to-journeys"),
    ("in an effort to help keep our streets safe", "aims", "keep-streets-safe"),
    ("to deter terrorists", "aims", "deter-terrorists"),
])
def test_clauses_once_left_without_a_row_have_one(tables, evidence, words, table, suffix):
    assert words in quote(evidence, row(tables, table, suffix))


def test_a_mention_is_no_claim(tables, evidence):
    """"Follow Metropolitan Police" names an organisation; it is page furniture, not a coded clause."""
    follow = next(s for s in tables["sentences"] if s["text"] == "Follow Metropolitan Police")
    assert follow["words_covered"] == "0"


# ---------------------------------------------------------------- the unit of analysis

# Claims by speaker and modality, counted by hand from the bulletin: the narrative's 21 claims (sentences
# 3-16) and Rowley's 11 (his two paragraphs), one per predicate in its own clause.
BY_HAND = {
    "": {"in_effect": 12, "under_way": 2, "future": 1, "possible": 1, "capacity": 1, "not_planned": 1,
         "requested": 2, "assessed": 1},
    "mark-rowley": {"expected": 1, "future": 2, "in_effect": 1, "requested": 7},
}


def test_the_count_of_claims_by_speaker_and_modality(tables):
    mine = [c for c in tables["claims"] if c["source_id"] == SID]
    counts = {}
    for c in mine:
        counts.setdefault(c["speaker_person_id"], {}).setdefault(c["modality"], 0)
        counts[c["speaker_person_id"]][c["modality"]] += 1
    assert counts == BY_HAND
    assert len(mine) == len({c["evidence_id"] for c in mine}) == 32  # 32 claims from 32 passages


def test_a_claim_is_one_row_and_its_parts_are_not_claims(tables):
    claims = {c["claim_id"]: c for c in tables["claims"]}
    attributes = [r for name in ("aims", "qualifiers", "effects", "framing") for r in tables[name]]
    assert attributes and not any(r[next(iter(r))] in claims for r in attributes)
    assert all(r["claim_id"] in claims for r in attributes + tables["claim_items"] + tables["claim_links"]
               if "claim_id" in r)
    assert not any(r["contact_id"] in claims for r in tables["contacts"])  # entities are not claims
    checks = [i for i in tables["claim_items"] if i["claim_id"] == f"{SID}-additional-police-and-security-checks"]
    assert [(i["item_type"], i["words"]) for i in checks] == [
        ("place", "ports"), ("place", "airports"), ("place", "rail stations"), ("check", "police"),
        ("check", "security")] or sorted((i["item_type"], int(i["position"]), i["words"]) for i in checks) == [
        ("check", 1, "police"), ("check", 2, "security"), ("place", 1, "ports"), ("place", 2, "airports"),
        ("place", 3, "rail stations")]


def test_the_same_words_are_never_two_claims_but_a_facet(tables):
    claims = {c["claim_id"]: c for c in tables["claims"]}
    assert len({c["evidence_id"] for c in claims.values()}) == len(claims)
    freed = row(tables, "personnel", "armed-officers-freed-up")
    assert freed["claim_id"] == f"{SID}-officers-freed-up" and freed["personnel_id"] not in claims
    claim = claims[f"{SID}-officers-freed-up"]
    assert (claim["claim_type"], claim["facets"], claim["evidence_id"]) == ("events", "personnel", freed["evidence_id"])


def test_one_modality_scale_maps_every_kind(tables):
    scale = set(SPEC["categories"]["modality"]["values"])
    assert {c["modality"] for c in tables["claims"]} <= scale
    for res in FACT_KINDS:
        mapped = res["claim"].get("modality")
        for r in tables[res["name"]]:
            if mapped:
                assert r["modality"] == mapped["map"][r[mapped["from"]]]
    claims = {c["claim_id"].removeprefix(SID + "-"): c["modality"] for c in tables["claims"]}
    assert claims["public-expects-everything-possible"] == "expected"  # normative: "expects us to"
    assert claims["more-armed-officers"] == "future"  # "there will be"
    assert claims["military-mobilisable"] == "capacity"  # "can be mobilised"
    assert claims["threat-level-critical"] == "assessed"
    assert claims["reviewing-security"] == "under_way"


def test_a_claim_is_dated_by_its_words_or_a_stated_link(tables):
    claims = {c["claim_id"].removeprefix(SID + "-"): c for c in tables["claims"]}
    activated = claims["temperer-activated"]
    assert (activated["date"], activated["date_precision"], activated["date_basis"]) == (
        "2017-05-23", "part_of_day", "inferred")
    capacity = claims["military-mobilisable"]  # its link to the activation is inferred: no date of its own
    assert (capacity["date"], capacity["date_precision"], capacity["date_basis"]) == ("", "unknown", "not_stated")
    assert "inference" in capacity["date_rule"]
    for c in tables["claims"]:
        assert (c["date"] == "") == (c["date_basis"] == "not_stated") == (c["date_precision"] == "unknown")


def test_framing_and_links_are_coded_with_their_own_words(tables, evidence):
    framing = {r["framing_id"].removeprefix(SID + "-"): r for r in tables["framing"] if r["source_id"] == SID}
    assert {k: (r["framing_type"], r["value"], quote(evidence, r)) for k, r in framing.items()} == {
        "appalling-attack": ("evaluation", "negative", "appalling"),
        "well-rehearsed-plan": ("legitimation", "sound", "well-rehearsed"),
        "attack-highly-likely": ("likelihood", "highly_likely", "highly likely"),
        "further-attack-may-be-imminent": ("likelihood", "possible", "may be imminent"),
        "grateful-to-the-military": ("stance", "gratitude", "We are grateful"),
        "it-may-be-nothing": ("hedge", "hedge", "It may be nothing"),
    }
    assert framing["grateful-to-the-military"]["holder_organisation_id"] == "counter-terrorism-policing"
    links = {(r["from_claim_id"].removeprefix(SID + "-"), r["to_claim_id"].removeprefix(SID + "-")): r["relation"]
             for r in tables["claim_links"] if r["source_id"] == SID}
    assert links[("threat-level-raised", "additional-police-and-security-checks")] == "may_lead_to"


def test_an_attributes_words_lie_inside_its_claim(tables, evidence):
    claims = {c["claim_id"]: c for c in tables["claims"]}
    for name in ("aims", "qualifiers", "effects", "framing"):
        for r in tables[name]:
            start, end = span(evidence, r["evidence_id"])
            first, last = span(evidence, claims[r["claim_id"]]["evidence_id"])
            assert first <= start and end <= last, (name, r)
    additional = row(tables, "qualifiers", "additional-checks")
    assert quote(evidence, additional) == "additional"  # no padding to make the words unique


def test_page_furniture_never_defines_an_entity(tables, evidence):
    met = next(o for o in tables["organisations"] if o["organisation_id"] == "metropolitan-police")
    assert (met["defined_by"], met["evidence_id"]) == ("source_metadata", "")
    rowley = next(p for p in tables["people"] if p["person_id"] == "mark-rowley")
    assert not quote(evidence, rowley).startswith("[") and "said" not in quote(evidence, rowley)
    assert span(evidence, rowley["evidence_id"])[0] > span(evidence, next(
        m["evidence_id"] for m in tables["mentions"] if m["person_id"] == "mark-rowley"))[0]


# ---------------------------------------------------------------- judgements made by rule

def test_every_claim_inside_a_statement_names_it(tables, evidence):
    statements = [(s["source_id"], span(evidence, s["evidence_id"]), s["statement_id"]) for s in tables["statements"]]
    inside = 0
    for res in FACT_KINDS:
        for r in tables[res["name"]]:
            start, end = span(evidence, r["evidence_id"])
            expected = next((sid for source, (s, e), sid in statements
                             if source == r["source_id"] and s <= start and end <= e), "")
            assert r["statement_id"] == expected, (res["name"], r)
            inside += bool(expected)
    assert inside >= 20
    for table, suffix in (("measures", "more-armed-officers"), ("measures", "police-patrols-increased-in-coming-days"),
                          ("partnerships", "military-enabled-us"), ("contacts", "0800-789-321"),
                          ("contacts", "emergency")):
        assert row(tables, table, suffix)["statement_id"].startswith(f"{SID}-rowley-")


def test_a_speakers_first_person_is_one_organisation(tables):
    """Rowley's "we" and "us" are all Counter Terrorism Policing, the organisation the attribution
    introduces him as heading; the narrative's "We" is the bulletin's publisher."""
    rule = " ".join(SPEC["first_person_rule"].split())
    seen = {}
    for res in FACT_KINDS:
        for party in parties(res):
            for r in tables[res["name"]]:
                words = r[f"{party}_words"]
                if words.casefold() in ("we", "us", "our") and r["source_id"] == SID:
                    assert (r[f"{party}_basis"], r[f"{party}_rule"]) == ("inferred", rule)
                    seen.setdefault(r["statement_id"] or "narrative", set()).add(r[org_column(party)])
    assert seen == {f"{SID}-rowley-1": {"counter-terrorism-policing"},
                    f"{SID}-rowley-2": {"counter-terrorism-policing"},
                    "narrative": {"metropolitan-police"}}


def test_who_gives_a_request_is_one_rule(tables):
    rule = " ".join(SPEC["request_rule"].split())
    for r in tables["advice"]:
        if not r["actor_words"]:
            assert (r["actor_basis"], r["actor_rule"]) == ("inferred", rule), r
    passengers = row(tables, "advice", "passengers-asked-to-plan-in-advance")
    assert (passengers["actor_organisation_id"], passengers["statement_id"]) == ("metropolitan-police", "")
    assert row(tables, "advice", "look-out")["actor_organisation_id"] == "counter-terrorism-policing"


def test_the_same_relation_gets_the_same_actor(tables):
    """The military frees the armed officers in both sentences that say so."""
    assert row(tables, "measures", "military-frees-armed-officers-from-guarding")["actor_organisation_id"] == "military"
    assert row(tables, "partnerships", "military-enabled-us")["actor_organisation_id"] == "military"


def test_the_same_party_words_get_the_same_coding(tables):
    codings = {}
    for res in FACT_KINDS:
        for party in parties(res):
            for r in tables[res["name"]]:
                words = r[f"{party}_words"].casefold()
                if words and words not in ("we", "us", "our"):  # the first person follows the speaker
                    codings.setdefault(words, set()).add((r[org_column(party)], r[f"{party}_basis"]))
    assert all(len(found) == 1 for found in codings.values()), {w: c for w, c in codings.items() if len(c) > 1}
    assert codings["armed officers"] == {("police", "inferred")}
    assert codings["police"] == {("police", "stated")}


def test_a_party_is_stated_exactly_when_its_words_are_a_mention(tables, evidence):
    spans = {}  # the name's own span (a mention's evidence may add an abbreviation in brackets)
    for m in tables["mentions"]:
        if m["organisation_id"]:
            start = span(evidence, m["evidence_id"])[0]
            spans[(start, start + len(m["name"]))] = m["organisation_id"]
    for res in FACT_KINDS:
        for party in parties(res):
            for r in tables[res["name"]]:
                if not r[f"{party}_words"]:
                    continue
                start, end = span(evidence, r[f"{party}_evidence_id"])
                if r[f"{party}_words"].lower().startswith("the "):
                    start += 4
                named = spans.get((start, end))
                assert (r[f"{party}_basis"] == "stated") == (named is not None), (res["name"], party, r)
                if named:
                    assert r[org_column(party)] == named and not r[f"{party}_rule"]


def test_no_organisation_is_made_of_a_phrase(tables):
    names = {o["organisation_id"]: o["name"] for o in tables["organisations"]}
    assert "police-and-partners" not in names
    for name in names.values():
        assert not re.search(r"\b(and|or)\b|&|,", name), name
    both = row(tables, "measures", "police-and-partners-do-everything")
    assert (both["actor_words"], both["actor_organisation_id"], both["actor_basis"]) == ("police", "police", "stated")
    assert (both["partner_words"], both["partner_organisation_id"], both["partner_basis"]) == (
        "partners", "", "not_stated")


def test_every_link_to_an_organisation_carries_the_party_group():
    for res in SPEC["resources"]:
        for fk in res.get("foreignKeys", []):
            if fk["reference"]["resource"] == "organisations" and res.get("claim"):
                (column,) = fk["fields"]
                party = "organisation" if column == "organisation_id" else column[:-len("_organisation_id")]
                names = {f["name"] for f in res["fields"]}
                assert {f"{party}_words", f"{party}_evidence_id", f"{party}_basis", f"{party}_rule"} <= names, column


# ---------------------------------------------------------------- inferred links carry a basis

def test_the_order_of_events_and_its_basis(tables):
    events = {r["event_id"].removeprefix(SID + "-"): r for r in tables["events"]}
    attack, raised = events["manchester-attack"], events["threat-level-raised"]
    assert (attack["sequence"], attack["sequence_basis"]) == ("1", "inferred") and attack["sequence_rule"]
    assert (raised["sequence"], raised["sequence_basis"]) == ("2", "inferred") and raised["sequence_rule"]
    assert (events["temperer-activated"]["sequence_basis"], events["temperer-activated"]["sequence_rule"]) == (
        "stated", "")
    for bounded in (attack, raised):
        assert (bounded["date"], bounded["date_latest"], bounded["date_latest_event_id"],
                bounded["date_latest_event_basis"]) == ("", "2017-05-23", f"{SID}-temperer-activated", "stated")
    assert (raised["actor_organisation_id"], raised["actor_basis"]) == ("jtac", "stated")  # who raised it


def test_a_figures_event_link_has_a_basis(tables):
    freed = row(tables, "personnel", "armed-officers-freed-up")
    assert (freed["event_id"], freed["event_basis"], freed["event_rule"]) == (f"{SID}-officers-freed-up", "stated", "")
    capacity = row(tables, "personnel", "military-mobilisable")
    assert (capacity["event_id"], capacity["event_basis"]) == (f"{SID}-temperer-activated", "inferred")
    assert "In this phase of Temperer" in capacity["event_rule"]


# ---------------------------------------------------------------- a row's words are its own; labels

ADVICE = {  # id: (audience, action, condition, action_type, wording, actor words)
    "passengers-asked-to-plan-in-advance": ("Passengers", "plan in advance", "", "plan_journey", "should", ""),
    "passengers-asked-to-allow-extra-time": ("", "allow extra time to travel", "where possible",
                                             "allow_extra_time", "should", ""),
    "public-work-with-police": ("the public", "work with us", "", "cooperate_with_police", "appeal", "us"),
    "public-remain-vigilant": ("", "remain vigilant", "", "remain_vigilant", "appeal", ""),
    "report-concerns": ("you", "let us know immediately", "If you see anything that causes concern",
                        "report_concerns", "imperative", "us"),
    "look-out": ("", "Look out for anything that seems out of place, unusual or doesn’t seem to fit in with "
                     "day-to-day life", "", "look_out", "imperative", ""),
    "trust-instinct": ("you", "trust your instinct", "if you see or hear anything that could be terrorist-related",
                       "trust_instinct", "imperative", ""),
    "call-hotline": ("", "call us in confidence on 0800 789 321", "", "call_hotline", "imperative", "us"),
    "call-999": ("", "999", "in an emergency", "call_emergency", "imperative", ""),
}


@pytest.mark.parametrize("suffix", sorted(ADVICE))
def test_advice(tables, evidence, suffix):
    r = row(tables, "advice", suffix)
    assert (r["audience"], r["action"], r["condition"], r["action_type"], r["wording"], r["actor_words"]) == \
        ADVICE[suffix]
    for column in ("audience", "action", "condition"):
        assert r[column] in quote(evidence, r)
    if suffix.startswith("passengers"):
        assert (r["actor_organisation_id"], r["actor_basis"], r["statement_id"]) == (
            "metropolitan-police", "inferred", "")
    else:
        assert (r["actor_organisation_id"], r["actor_basis"], r["statement_id"]) == (
            "counter-terrorism-policing", "inferred", f"{SID}-rowley-2")


def test_a_rows_words_are_its_own(tables, evidence):
    """The advice to call 999 no longer holds the hotline's number or "in confidence"."""
    call_999 = row(tables, "advice", "call-999")
    assert quote(evidence, call_999) == "or in an emergency 999"
    assert "0800" not in call_999["action"] and "confidence" not in call_999["action"]
    assert row(tables, "advice", "call-hotline")["contact_id"] == f"{SID}-0800-789-321"
    assert call_999["contact_id"] == f"{SID}-emergency"


def test_ids_and_labels_use_the_bulletins_words(tables, source_text):
    for contact in tables["contacts"]:
        if contact["source_id"] != SID:
            continue
        label = contact["contact_id"].removeprefix(SID + "-")
        assert label.replace("-", " ") in source_text or label in source_text, label
    published = row(tables, "events", "bulletin-published")
    assert "Metropolitan" not in published["description"]


def test_armed_officers_out_and_about_are_one_claim_with_its_ways_and_activities(tables, evidence):
    r = row(tables, "measures", "public-will-see-armed-officers")
    assert (r["actor_words"], r["measure_type"], r["modality"]) == ("armed officers", "armed_officer_presence", "future")
    assert quote(evidence, r).startswith("It means the public will see more armed officers")
    assert (r["actor_organisation_id"], r["actor_basis"]) == ("police", "inferred")
    items = sorted((i["item_type"], int(i["position"]), i["words"]) for i in tables["claim_items"]
                   if i["claim_id"] == r["claim_id"])
    assert items == [("activity", 1, "proactive operations"), ("activity", 2, "targeted patrols"),
                     ("mode", 1, "on foot"), ("mode", 2, "in vehicles")]


def test_command_and_control(tables, evidence):
    control = row(tables, "command", "police-in-control")
    assert (control["actor_words"], control["relation"], control["subordinate_words"], control["modality"]) == (
        "Police", "in_control", "any operation that has military support", "in_effect")
    assert (control["subordinate_organisation_id"], control["subordinate_basis"]) == ("", "not_stated")
    troops = row(tables, "command", "police-command-troops")
    assert (troops["relation"], troops["subordinate_words"], troops["scope"], troops["subordinate_organisation_id"],
            troops["subordinate_basis"]) == ("commands", "the troops", "in line with their own officers",
                                             "military", "inferred")
    assert (control["actor_organisation_id"], control["actor_basis"], quote(evidence, control, "actor_evidence_id")) \
        == ("police", "stated", "Police")
    assert (troops["actor_organisation_id"], troops["actor_basis"]) == ("police", "inferred")


@pytest.mark.parametrize("suffix, actor, basis, modality", [
    ("additional-police-and-security-checks", "police", "stated", "possible"),
    ("reviewing-security", "metropolitan-police", "inferred", "under_way"),  # "We are urgently reviewing"
    ("more-armed-officers", "police", "inferred", "future"),  # "there will be"
    ("policing-plan-increased-patrolling", "police", "inferred", "in_effect"),
    ("no-military-street-patrols", "military", "stated", "not_planned"),
])
def test_measure_actor_and_modality_say_what_the_words_say(tables, evidence, suffix, actor, basis, modality):
    r = row(tables, "measures", suffix)
    assert (r["actor_organisation_id"], r["actor_basis"], r["modality"]) == (actor, basis, modality)
    if basis == "stated":
        assert quote(evidence, r, "actor_evidence_id") in quote(evidence, r)
    else:
        assert r["actor_rule"]


# ---------------------------------------------------------------- aims and qualifiers

AIMS = {  # aim: (aim_type, the claim's table and ID it is the aim of)
    "to carry out patrols across the UK": ("carry_out_patrols", "events", "officers-freed-up"),
    "to support police": ("support_police", "personnel", "military-mobilisable"),
    "to protect key sites": ("protect_key_sites", "measures", "military-protect-key-sites"),
    "as a precautionary measure": ("precaution", "measures", "reviewing-security"),
    "reassure the public": ("reassure_public", "measures", "more-armed-officers"),
    "to prevent further attacks": ("prevent_attacks", "measures", "public-expects-everything-possible"),
}


@pytest.mark.parametrize("aim", sorted(AIMS))
def test_stated_aims(tables, evidence, aim):
    aim_type, table, suffix = AIMS[aim]
    found = [r for r in tables["aims"] if r["aim"] == aim and r["claim_id"] == f"{SID}-{suffix}"]
    assert len(found) == 1, aim
    assert found[0]["aim_type"] == aim_type and aim in quote(evidence, found[0])
    claim = next(c for c in tables["claims"] if c["claim_id"] == found[0]["claim_id"])
    assert claim["claim_type"] == table


QUALIFIERS = {  # words: (type, value, the claim it qualifies)
    "urgently": ("urgency", "urgent", "reviewing-security"),
    "all": ("scope", "all", "reviewing-security"),
    "additional": ("amount", "additional", "officers-freed-up"),
    "more": ("amount", "more", "more-armed-officers"),
    "over the coming days and weeks": ("time_frame", "coming_days_and_weeks", "reviewing-security"),
    "out and about": ("scope", "general", "public-will-see-armed-officers"),
    "immediately": ("urgency", "immediate", "report-concerns"),
}


@pytest.mark.parametrize("words", sorted(QUALIFIERS))
def test_qualifiers_are_values_with_their_words(tables, evidence, words):
    kind, value, suffix = QUALIFIERS[words]
    found = [r for r in tables["qualifiers"] if r["qualifier_words"] == words and r["claim_id"] == f"{SID}-{suffix}"]
    assert len(found) == 1, words
    assert (found[0]["qualifier_type"], found[0]["value"]) == (kind, value)
    assert quote(evidence, found[0]) == words


def test_stated_effects(tables, evidence):
    effects = [r for r in tables["effects"] if r["effect"] == "disruption to journeys"]
    assert [r["claim_id"] for r in effects] == [f"{SID}-additional-police-and-security-checks"]
    assert {(r["effect_type"], r["modality"]) for r in effects} == {("disruption", "possible")}  # "may cause"


def test_the_claims_table_holds_one_row_per_claim(tables):
    claims = {c["claim_id"]: c for c in tables["claims"]}
    total = 0
    for res in FACT_KINDS:
        if res["claim"].get("role", "claim") != "claim":
            continue
        key = res["claim"]["id"]
        for r in tables[res["name"]]:
            c = claims[r["claim_id"]]
            assert (c["evidence_id"], c["statement_id"]) == (r["evidence_id"], r["statement_id"])
            if r["claim_id"] == r[key]:
                assert (c["claim_type"], c["modality"]) == (res["name"], r["modality"])
                total += 1
            else:
                assert res["name"] in c["facets"].split()
    assert total == len(claims)
    freed = claims[f"{SID}-officers-freed-up"]
    assert (freed["modality"], freed["date"], freed["sentence_numbers"]) == ("in_effect", "2017-05-24", "5")
    hotline = claims[f"{SID}-call-hotline"]
    assert (hotline["speaker_person_id"], hotline["speaker_organisation_id"]) == (
        "mark-rowley", "counter-terrorism-policing")


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


def line_in(message) -> int:
    found = re.search(r"annotations\.yaml:(\d+):", message)
    assert found, message
    return int(found.group(1))


def test_paraphrase_outside_the_quote_fails(inputs):
    line = edit(inputs, '    aim: "to support police"\n', '    aim: "support police, under police command"\n')
    message = build_error(inputs)
    assert line_in(message) <= line and "aims.aim" in message and "not in the bulletin's words" in message


def test_a_typed_statement_that_disagrees_with_the_words_fails(inputs):
    line = edit(inputs, '''    audience: "Passengers"
    action: "plan in advance"
''', '''    audience: "Passengers"
    action: "plan in advance"
    statement: rowley-2
''')
    message = build_error(inputs)
    assert line_in(message) == line + 2 and "disagrees with the words" in message and "no quoted statement" in message


def test_a_missing_basis_fails(inputs):
    line = edit(inputs, "    event_basis: inferred\n", "")
    message = build_error(inputs)
    assert "event_basis" in message and "given with the link" in message and line_in(message) < line, message


def test_a_phrase_coded_as_an_organisation_fails(inputs):
    line = edit(inputs, '''  - id: police
    name: "police"
''', '''  - id: police-and-partners
    name: "police and partners"
    kind: partnership
  - id: police
    name: "police"
''')
    message = build_error(inputs)
    assert line_in(message) == line and "several parties" in message, message


def test_an_excuse_for_words_a_row_covers_fails(inputs):
    line = edit(inputs, "uncoded:\n", '''uncoded:
  - quote: "Police remain in control"
    kind: connective
    reason: test
''')
    message = build_error(inputs)
    assert line_in(message) == line + 1 and "lies in a claim's words" in message, message


def test_the_same_actor_words_coded_two_ways_fail(inputs):
    path = annotations_of(inputs)
    text = path.read_text(encoding="utf-8")
    old = '''    actor_words: "armed officers"
    actor: police
    actor_rule: "armed officers are police officers: the bulletin calls the officers freed up 'armed police officers'"
    modality: future
    modes: [on foot, in vehicles]'''
    assert old in text
    line = text[:text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, '''    actor_words: "armed officers"
    actor_rule: "the words do not say whose officers"
    modality: future
    modes: [on foot, in vehicles]'''), encoding="utf-8")
    message = build_error(inputs)
    assert line_in(message) == line and "the same words get the same coding" in message, message


def test_a_rule_on_a_stated_party_fails(inputs):
    line = edit(inputs, '''    actor_words: "military"
    modality: not_planned''', '''    actor_words: "military"
    actor_rule: "the words say so"
    modality: not_planned''')
    message = build_error(inputs)
    assert line_in(message) == line + 1 and "only for an inferred party" in message, message


def test_first_person_words_take_no_typed_organisation(inputs):
    line = edit(inputs, '''    actor_words: "We"
''', '''    actor_words: "We"
    actor: police
    actor_rule: "we are the police"
''')
    message = build_error(inputs)
    assert line_in(message) == line + 1 and "first-person rule" in message, message


def test_party_words_not_in_the_quote_fail(inputs):
    line = edit(inputs, '    actor_words: "We"\n', '    actor_words: "Metropolitan Police"\n')
    message = build_error(inputs)
    assert line_in(message) == line and "not in the row's quote" in message, message


def test_an_organisation_named_in_the_words_needs_the_words(inputs):
    line = edit(inputs, '''    actor_words: "military"
    modality: not_planned''', '''    actor: military
    actor_rule: "guessed"
    modality: not_planned''')
    message = build_error(inputs)
    assert line_in(message) == line and "give actor_words" in message, message


def test_missing_mention_fails(inputs):
    line = edit(inputs, "people:\n", '''  - id: british-transport-police
    name: "British Transport Police"
    kind: police_force

people:
''')
    message = build_error(inputs)
    assert f"annotations.yaml:{line}:" in message, message
    assert "never named in source.txt" in message


def test_words_neither_coded_nor_excused_fail(inputs):
    path = annotations_of(inputs)
    text = path.read_text(encoding="utf-8")
    for entry_id in ("policing-plan", "extra-officers"):  # the claim and the qualifier of its words
        entry = re.search(rf"  - id: {entry_id}\n(?:    .*\n)+", text)
        text = text.replace(entry.group(), "")
    path.write_text(text, encoding="utf-8")
    message = build_error(inputs)
    assert "annotations.yaml" in message and "source.txt:11:1 'The extra officers add to a wider policing plan'" in message, message


def test_long_excuses_fail(inputs):
    line = edit(inputs, "uncoded:\n", '''uncoded:
  - quote: "The public expects us to do everything we can"
    kind: connective
    reason: test
''')
    message = build_error(inputs)
    assert line_in(message) == line + 1 and "at most 6" in message, message


def test_rules_are_declared_once_and_checked_on_the_input(inputs):
    """A row rule of the descriptor (qualifier value fits its type) stops the build at the entry."""
    line = edit(inputs, '''    qualifier_type: urgency
    value: urgent''', '''    qualifier_type: scope
    value: urgent''')
    message = build_error(inputs)
    assert "qualifiers rule value_fits_type" in message and line - 6 <= line_in(message) <= line, message


# ---------------------------------------------------------------- released IDs stay citable

def test_every_id_of_every_release_is_kept_or_retired(tables):
    present = {next(iter(r.values())) for name, rows in tables.items() if name not in ("retired_ids", "claims")
               for r in rows}
    retired = {r["retired_id"]: r for r in tables["retired_ids"]}
    for release, count in (("1.0.0", 75), ("2.0.0", 145), ("3.0.0", 273)):
        with open(ROOT / "data" / "releases" / f"{release}-ids.csv", newline="", encoding="utf-8") as handle:
            released = list(csv.DictReader(handle))
        assert len(released) == count
        for r in released:
            assert r["id"] in present or r["id"] in retired, r
    for r in retired.values():
        assert r["retired_id"] not in present and r["version_retired"] in ("2.0.0", "3.0.0", "4.0.0")
        assert all(new in present or new in retired for new in r["replacement_ids"].split()), r


def test_a_row_whose_meaning_changed_has_a_new_id(tables):
    """2.0.0 kept the IDs of armed-officers-key-locations-* when their status changed; 3.0.0 retires them."""
    retired = {r["retired_id"]: r for r in tables["retired_ids"]}
    for place in ("key-locations", "transport-hubs", "crowded-places"):
        old = retired[f"{SID}-armed-officers-key-locations-{place}"]
        assert old["replacement_ids"] == f"{SID}-more-armed-officers-{place}" and "status" in old["reason"]


def test_a_released_id_dropped_without_retiring_fails(archived_inputs):
    inputs = archived_inputs  # (a later bulletin printing 999 would take over the emergency number)
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


def test_every_quote_the_curator_writes_occurs_exactly_once(source_text):
    """docs/method.md's claim about quotes (The evidence table): each quote key of the annotations is found once; the words
    placed inside a quote (a party's, a mention's) may occur elsewhere too."""
    import yaml
    annotations = yaml.safe_load((ROOT / ANNOTATIONS).read_text(encoding="utf-8"))
    quotes = []
    for section, value in annotations.items():
        for entry in [value] if isinstance(value, dict) else (value or []):
            if section in ("aims", "qualifiers", "effects", "framing"):
                continue  # an attribute's words are found inside its claim's words, by position
            if "occurrence" in entry:
                continue  # words printed more than once, placed by the curator's `occurrence: <n>`
            quotes += [v for k, v in entry.items() if k in ("quote", "title", "dateline") or k.endswith("_quote")]
    assert len(quotes) > 40
    assert [q for q in quotes if source_text.count(q) != 1] == []
    assert source_text.count("us") > 1  # a party's words ("us") need not be unique


def test_an_excuse_placed_by_occurrence_lies_on_the_words_it_names(source_text, tables):
    """An `uncoded` entry with `occurrence: n` excuses the n-th whole-word printing of its quote; the
    sentences table shows those words excused (the build places them; here they are found again)."""
    import re
    import yaml
    annotations = yaml.safe_load((ROOT / ANNOTATIONS).read_text(encoding="utf-8"))
    placed = [e for e in annotations.get("uncoded") or [] if "occurrence" in e]
    for entry in placed:
        hits = [m.start() for m in re.finditer(r"(?<!\w)" + re.escape(entry["quote"]) + r"(?!\w)", source_text)]
        assert len(hits) > 1, f"{entry['quote']!r} is printed once: it needs no occurrence"
        assert 1 <= entry["occurrence"] <= len(hits)
        start = hits[entry["occurrence"] - 1]
        (sentence,) = [r for r in sentences_of(tables) if int(r["start"]) <= start < int(r["end"])]
        assert int(sentence["words_excused"]) >= 1 and "connective" in sentence["excused_kind"], sentence


def test_a_released_row_whose_meaning_changes_needs_a_new_id(inputs):
    """3.0.0 records what each claim means: a later build that keeps the ID of a row but changes its
    coded values (or a figure, a party's organisation, a link) stops at the entry."""
    line = edit(inputs, '''    measure_type: policing_plan
    modality: in_effect''', '''    measure_type: policing_plan
    partner: military
    partner_rule: "a slip: the words name no partner"
    modality: in_effect''')
    message = build_error(inputs)
    assert line_in(message) < line and "no longer means what release 3.0.0 published" in message, message
    assert "partner_organisation_id '' -> 'military'" in message and "give the entry a new id" in message
