"""Each fact of the archived bulletin pinned to its value and to the words that state it (its rows,
whatever other bulletins the package holds: conftest's archived_tables)."""

from __future__ import annotations

import pytest


def by_id(rows, key, suffix):
    matches = [r for r in rows if r[key].endswith(suffix)]
    assert len(matches) == 1, f"expected one row whose {key} ends with {suffix!r}"
    return matches[0]


@pytest.fixture(scope="module")
def archived(archived_tables):
    return archived_tables


def quote_of(evidence, row, column="evidence_id"):
    return evidence[row[column]]["quote"]


def test_source_metadata(archived):
    bulletin = [r for r in archived["sources"] if r["source_kind"] == "bulletin"]
    assert len(bulletin) == 1
    src = bulletin[0]
    assert src["publisher"] == "Metropolitan Police"
    assert src["title"] == "Additional armed officers carry out patrols across the UK"
    assert src["category"] == "News"
    assert src["published"] == "2017-05-24T20:15:00+01:00"
    assert src["sha256"] == "fbd72da162aa8155e7ff0394dcd551246546ab0475d29256579c071445b1599f"
    assert src["characters"] == "3070"


def test_one_thousand_armed_officers_freed_up(archived, evidence):
    row = by_id(archived["personnel"], "personnel_id", "armed-officers-freed-up")
    assert (row["force"], row["qualifier"], row["count_min"], row["count_max"], row["status"]) == (
        "police", "exact", "1000", "1000", "freed_up")
    assert row["organisation_id"] == "police"
    assert (row["window_min_hours"], row["window_max_hours"]) == ("", "")
    assert quote_of(evidence, row).startswith("One thousand additional armed officers have been freed up")


def test_up_to_3800_military_within_12_to_96_hours(archived, evidence):
    row = by_id(archived["personnel"], "personnel_id", "military-mobilisable")
    assert (row["force"], row["qualifier"], row["count_min"], row["count_max"], row["status"]) == (
        "military", "up_to", "", "3800", "mobilisable")
    assert (row["window_min_hours"], row["window_max_hours"]) == ("12", "96")
    quote = quote_of(evidence, row)
    assert "up to 3,800 military personnel can be mobilised" in quote
    assert "within 12 to 96 hours" in quote


def test_timeline(archived, evidence):
    events = {r["event_type"]: r for r in archived["events"]}
    attack = events["terrorist_attack"]
    assert (attack["date"], attack["date_precision"], attack["date_basis"]) == ("", "unknown", "not_stated")
    assert attack["date_latest"] == "2017-05-23"
    assert "Manchester" in quote_of(evidence, attack)
    raised = events["threat_level_raised"]
    assert (raised["date"], raised["date_precision"]) == ("", "unknown")
    activated = events["operation_activated"]
    assert (activated["date"], activated["date_precision"], activated["part_of_day"],
            activated["date_basis"]) == ("2017-05-23", "part_of_day", "night", "inferred")
    assert "Tuesday" in activated["date_rule"]
    assert "Tuesday night" in quote_of(evidence, activated)
    freed = events["officers_freed_up"]
    assert (freed["date"], freed["date_precision"], freed["date_basis"]) == ("2017-05-24", "day", "inferred")
    assert "one day into Operation Temperer" in quote_of(evidence, freed)
    published = events["bulletin_published"]
    assert (published["date"], published["time"], published["utc_offset"], published["date_precision"],
            published["date_basis"]) == ("2017-05-24", "20:15:00", "+01:00", "minute", "stated")
    assert [e["sequence"] for e in archived["events"]] == ["1", "2", "3", "4", "5"]


def test_threat_level_critical_by_jtac(archived, evidence):
    assert [r["level_id"] for r in sorted(archived["threat_levels"], key=lambda r: int(r["rank"]))] == [
        "low", "moderate", "substantial", "severe", "critical"]
    row = by_id(archived["threat_assessments"], "assessment_id", "met-2017-05-24-threat-level-critical")
    assert (row["level_id"], row["assessor_organisation_id"], row["assessor_basis"]) == ("critical", "jtac", "inferred")
    assert "raised the threat level to “critical”" in quote_of(evidence, row, "level_evidence_id")
    assert quote_of(evidence, row).startswith("This means that their assessment")
    assert "a further attack may be imminent" in quote_of(evidence, row)
    raised = by_id(archived["events"], "event_id", "met-2017-05-24-threat-level-raised")
    assert (raised["actor_organisation_id"], raised["actor_basis"]) == ("jtac", "stated")


def test_contacts(archived, evidence):
    hotline = by_id(archived["contacts"], "contact_id", "0800-789-321")
    assert (hotline["number_as_printed"], hotline["e164"], hotline["number_type"], hotline["emergency"],
            hotline["confidential"]) == ("0800 789 321", "+44800789321", "toll_free", "false", "true")
    assert "in confidence on 0800 789 321" in quote_of(evidence, hotline)
    assert (hotline["organisation_words"], hotline["organisation_id"], hotline["organisation_basis"]) == (
        "us", "counter-terrorism-policing", "inferred")  # "call us": the first person of Rowley's statement
    emergency = by_id(archived["contacts"], "contact_id", "emergency")
    assert (emergency["number_as_printed"], emergency["e164"], emergency["number_type"],
            emergency["emergency"]) == ("999", "", "emergency", "true")
    assert "in an emergency 999" in quote_of(evidence, emergency)


def test_people_organisations_statements(archived, evidence):
    rowley = by_id(archived["people"], "person_id", "mark-rowley")
    assert set(rowley) == {"person_id", "name", "source_id", "evidence_id"}, "the person row holds identity only"
    assert rowley["name"] == "Mark Rowley"
    # defined by the attribution, not the photo caption (page furniture never defines)
    assert quote_of(evidence, rowley) == "Assistant Commissioner Mark Rowley, head of national Counter Terrorism Policing"
    roles = {(m["rank"], m["role"], m["role_organisation_id"]) for m in archived["mentions"]
             if m["person_id"] == "mark-rowley"}
    assert roles == {("Assistant Commissioner", "", ""),
                     ("Assistant Commissioner", "head of national Counter Terrorism Policing",
                      "counter-terrorism-policing")}
    orgs = {r["organisation_id"]: r for r in archived["organisations"]}
    assert {"metropolitan-police", "counter-terrorism-policing", "jtac", "military", "police"} <= set(orgs)
    assert (orgs["jtac"]["name"], orgs["jtac"]["abbreviation"]) == ("Joint Terrorism Analysis Centre", "JTAC")
    for org in orgs.values():
        if org["defined_by"] == "first_mention":
            assert org["name"] in quote_of(evidence, org)
        else:
            assert org["evidence_id"] == "" and org["defined_by"] == "source_metadata"
    statements = [s for s in archived["statements"] if s["person_id"] == "mark-rowley"]
    assert len(statements) == 2
    assert statements[0]["text"].startswith("The public expects us")
    assert statements[1]["text"].endswith("or in an emergency 999.")
    for s in statements:
        assert s["text"] in quote_of(evidence, s)
        assert quote_of(evidence, s, "attribution_evidence_id").endswith("said:")
    mentioned = {(m["person_id"], evidence[m["evidence_id"]]["quote"]) for m in archived["mentions"]}
    assert ("mark-rowley", "Assistant Commissioner Mark Rowley") in mentioned


def test_measures(archived, evidence):
    got = {(r["measure_id"].removeprefix("met-2017-05-24-"), r["measure_type"], r["modality"])
           for r in archived["measures"] if r["source_id"] == "met-2017-05-24"}
    assert {("policing-plan", "policing_plan", "in_effect"),
            ("military-frees-armed-officers-from-guarding", "officers_freed_from_guarding", "in_effect"),
            ("policing-plan-increased-patrolling", "increased_patrols", "in_effect"),
            ("police-patrols-increased-in-coming-days", "increased_patrols", "future"),
            ("military-protect-key-sites", "military_guarding", "in_effect"),
            ("additional-police-and-security-checks", "additional_checks", "possible"),
            ("reviewing-security", "security_review", "under_way"),
            ("no-military-street-patrols", "military_street_patrols", "not_planned")} <= got
    places = {}
    for item in archived["claim_items"]:
        if item["item_type"] == "place":
            places.setdefault(item["claim_id"].removeprefix("met-2017-05-24-"), []).append(item["words"])
        claim = next(c for c in archived["claims"] if c["claim_id"] == item["claim_id"])
        first, last = (int(evidence[claim["evidence_id"]][k]) for k in ("start", "end"))
        assert first <= int(evidence[item["evidence_id"]]["start"]) < int(evidence[item["evidence_id"]]["end"]) <= last
        assert quote_of(evidence, item) == item["words"]
    assert places["policing-plan-increased-patrolling"] == ["crowded places", "iconic sites", "transport hubs"]
    assert places["no-military-street-patrols"] == ["streets", "other public places"]
    not_planned = [r for r in archived["measures"] if r["modality"] == "not_planned"]
    assert all("no plans for military to patrol the streets" in quote_of(evidence, r) for r in not_planned)

