"""Each fact of the bulletin pinned to its value and to the words that state it."""

from __future__ import annotations


def by_id(rows, key, suffix):
    matches = [r for r in rows if r[key].endswith(suffix)]
    assert len(matches) == 1, f"expected one row whose {key} ends with {suffix!r}"
    return matches[0]


def quote_of(evidence, row, column="evidence_id"):
    return evidence[row[column]]["quote"]


def test_source_metadata(tables):
    bulletin = [r for r in tables["sources"] if r["source_kind"] == "bulletin"]
    assert len(bulletin) == 1
    src = bulletin[0]
    assert src["publisher"] == "Metropolitan Police"
    assert src["title"] == "Additional armed officers carry out patrols across the UK"
    assert src["category"] == "News"
    assert src["published"] == "2017-05-24T20:15:00+01:00"
    assert src["sha256"] == "fbd72da162aa8155e7ff0394dcd551246546ab0475d29256579c071445b1599f"
    assert src["characters"] == "3070"


def test_one_thousand_armed_officers_freed_up(tables, evidence):
    row = by_id(tables["personnel"], "personnel_id", "armed-officers-freed-up")
    assert (row["force"], row["qualifier"], row["count_min"], row["count_max"], row["status"]) == (
        "police", "exact", "1000", "1000", "freed_up")
    assert row["organisation_id"] == "police"
    assert (row["window_min_hours"], row["window_max_hours"]) == ("", "")
    assert quote_of(evidence, row).startswith("One thousand additional armed officers have been freed up")


def test_up_to_3800_military_within_12_to_96_hours(tables, evidence):
    row = by_id(tables["personnel"], "personnel_id", "military-mobilisable")
    assert (row["force"], row["qualifier"], row["count_min"], row["count_max"], row["status"]) == (
        "military", "up_to", "", "3800", "mobilisable")
    assert (row["window_min_hours"], row["window_max_hours"]) == ("12", "96")
    quote = quote_of(evidence, row)
    assert "up to 3,800 military personnel can be mobilised" in quote
    assert "within 12 to 96 hours" in quote


def test_timeline(tables, evidence):
    events = {r["event_type"]: r for r in tables["events"]}
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
    assert [e["sequence"] for e in tables["events"]] == ["1", "2", "3", "4", "5"]


def test_threat_level_critical_by_jtac(tables, evidence):
    assert [r["level_id"] for r in sorted(tables["threat_levels"], key=lambda r: int(r["rank"]))] == [
        "low", "moderate", "substantial", "severe", "critical"]
    (row,) = tables["threat_assessments"]
    assert (row["level_id"], row["assessor_organisation_id"], row["assessor_basis"]) == ("critical", "jtac", "stated")
    assert "raised the threat level to “critical”" in quote_of(evidence, row)
    assert row["meaning"] == quote_of(evidence, row, "meaning_evidence_id")
    assert "a further attack may be imminent" in row["meaning"]


def test_contacts(tables, evidence):
    hotline = by_id(tables["contacts"], "contact_id", "0800-789-321")
    assert (hotline["number_as_printed"], hotline["e164"], hotline["number_type"], hotline["emergency"],
            hotline["confidential"]) == ("0800 789 321", "+44800789321", "toll_free", "false", "true")
    assert "in confidence on 0800 789 321" in quote_of(evidence, hotline)
    assert (hotline["organisation_words"], hotline["organisation_id"], hotline["organisation_basis"]) == (
        "us", "counter-terrorism-policing", "inferred")  # "call us": the first person of Rowley's statement
    emergency = by_id(tables["contacts"], "contact_id", "emergency")
    assert (emergency["number_as_printed"], emergency["e164"], emergency["number_type"],
            emergency["emergency"]) == ("999", "", "emergency", "true")
    assert "in an emergency 999" in quote_of(evidence, emergency)


def test_people_organisations_statements(tables, evidence):
    (rowley,) = tables["people"]
    assert set(rowley) == {"person_id", "name", "source_id", "evidence_id"}, "the person row holds identity only"
    assert rowley["name"] == "Mark Rowley"
    assert quote_of(evidence, rowley) == "Assistant Commissioner Mark Rowley"  # the caption: first mention
    roles = {(m["rank"], m["role"], m["role_organisation_id"]) for m in tables["mentions"]
             if m["person_id"] == "mark-rowley"}
    assert roles == {("Assistant Commissioner", "", ""),
                     ("Assistant Commissioner", "head of national Counter Terrorism Policing",
                      "counter-terrorism-policing")}
    orgs = {r["organisation_id"]: r for r in tables["organisations"]}
    assert set(orgs) == {"metropolitan-police", "counter-terrorism-policing", "jtac", "military", "police"}
    assert (orgs["jtac"]["name"], orgs["jtac"]["abbreviation"]) == ("Joint Terrorism Analysis Centre", "JTAC")
    for org in orgs.values():
        assert org["name"] in quote_of(evidence, org)
    statements = tables["statements"]
    assert [s["person_id"] for s in statements] == ["mark-rowley", "mark-rowley"]
    assert statements[0]["text"].startswith("The public expects us")
    assert statements[1]["text"].endswith("or in an emergency 999.")
    for s in statements:
        assert s["text"] in quote_of(evidence, s)
        assert quote_of(evidence, s, "attribution_evidence_id").endswith("said:")
    mentioned = {(m["person_id"], evidence[m["evidence_id"]]["quote"]) for m in tables["mentions"]}
    assert ("mark-rowley", "Assistant Commissioner Mark Rowley") in mentioned


def test_measures(tables, evidence):
    got = {(r["measure_type"], r["place_type"], r["status"]) for r in tables["measures"]}
    expected = {
        ("policing_plan", "", "in_effect"), ("officers_freed_from_guarding", "", "in_effect"),
        ("increased_patrols", "crowded places", "in_effect"), ("increased_patrols", "iconic sites", "in_effect"),
        ("increased_patrols", "transport hubs", "in_effect"), ("military_guarding", "key sites", "in_effect"),
        ("additional_checks", "ports", "possible"), ("additional_checks", "airports", "possible"),
        ("additional_checks", "rail stations", "possible"), ("security_review", "key sites", "under_way"),
        ("security_review", "major upcoming events", "under_way"),
        ("military_street_patrols", "streets", "not_planned"),
        ("military_street_patrols", "other public places", "not_planned"),
    }
    assert expected <= got
    for row in tables["measures"]:
        assert row["place_type"] in quote_of(evidence, row)  # "" where the words name no place
    not_planned = [r for r in tables["measures"] if r["status"] == "not_planned"]
    assert all("no plans for military to patrol the streets" in quote_of(evidence, r) for r in not_planned)
