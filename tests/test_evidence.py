"""Evidence spans point into the archived text, and every fact-bearing token is covered."""

from __future__ import annotations

import hashlib
import re

import pytest
from conftest import SOURCE_TEXT

from scripts.claims import coverage
from scripts.claims.extract import build

LEVELS = ["low", "moderate", "substantial", "severe", "critical"]


def test_archived_source_is_byte_identical():
    digest = hashlib.sha256(SOURCE_TEXT.read_bytes()).hexdigest()
    assert digest == "fbd72da162aa8155e7ff0394dcd551246546ab0475d29256579c071445b1599f"


def test_every_span_matches_the_text(tables, source_texts):
    assert tables["evidence"], "no evidence rows"
    assert {row["source_id"] for row in tables["evidence"]} == set(source_texts), "a bulletin without evidence"
    for row in tables["evidence"]:
        start, end = int(row["start"]), int(row["end"])
        text = source_texts[row["source_id"]]
        assert 0 <= start < end <= len(text)
        assert text[start:end] == row["quote"], row["evidence_id"]
        assert row["evidence_id"] == f"{row['source_id']}-{start}-{end}"


def test_every_fact_row_references_evidence(tables, evidence):
    for name, rows in tables.items():
        if name in ("evidence", "threat_levels", "sentences", "retired_ids"):  # offsets of their own; no facts
            continue
        for row in rows:
            if name == "sources" and row["source_kind"] == "reference":
                continue
            if name == "organisations" and row["defined_by"] == "source_metadata":
                continue  # a publisher the body never names: defined by the source's metadata
            refs = [v for k, v in row.items() if k.endswith("evidence_id") and v]
            assert refs, f"{name} row {next(iter(row.values()))} has no evidence"
            assert all(ref in evidence for ref in refs)


def test_every_evidence_row_is_used(tables):
    assert coverage.used_evidence_ids(tables) == {r["evidence_id"] for r in tables["evidence"]}


def test_coverage_has_no_unaccounted_tokens(tables, source_text):
    spans = [(int(r["start"]), int(r["end"])) for r in tables["evidence"]]
    assert coverage.uncovered(source_text, spans, LEVELS) == []


def test_coverage_recognises_the_facts(source_text):
    """The token finder sees the bulletin's facts (so a pass above is not vacuous)."""
    from scripts.claims import recognise
    found = {(t.kind, t.text) for t in recognise.all_tokens(source_text, LEVELS)}
    for token in [("number", "One thousand"), ("number", "3,800"), ("number", "12"), ("number", "96"),
                  ("phone", "0800 789 321"), ("phone", "999"), ("weekday", "Tuesday night"),
                  ("date", "May 24, 2017"), ("time", "20:15"), ("threat_level", "critical"),
                  ("name", "Joint Terrorism Analysis Centre"), ("name", "JTAC"),
                  ("name", "Commissioner Mark Rowley"), ("relative_time", "day")]:
        assert token in found, token


@pytest.mark.parametrize("text, date_words", [
    ("News | 30/05/2017 11:45", "30/05/2017"),
    ("Two addresses were searched on 28/05/2017 in Oxford.", "28/05/2017"),
    ("until at least 0700 hours on Tuesday 30th May 2017", "30th May 2017"),
])
def test_a_calendar_date_in_words_or_digits_is_one_date_token_and_no_quantity(text, date_words):
    """A date printed in digits, as a dateline may print it, is a date to cover (not three numbers left
    over), the drafting aid's and the date reader's, and its digits are never read as a count."""
    from scripts.claims import dates, derive, recognise
    assert [t.text for t in recognise.all_tokens(text, LEVELS) if t.kind == "date"] == [date_words]
    assert dates.printed_date(text) == date_words
    assert not [q for q in derive.quantities(text) if q.start < text.index(date_words) + len(date_words)
                and text.index(date_words) < q.end]


def test_uncovered_token_is_reported(archived_inputs):
    """Drop the 999 contact and the statement that holds it: the build names the token left over."""
    inputs = archived_inputs
    path = inputs / "data" / "raw" / "met-2017-05-24-additional-armed-officers" / "annotations.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  - id: emergency")
    text = text[:start] + text[text.index("statements:"):]
    start = text.index("  - id: rowley-2")
    text = text[:start] + text[text.index("measures:"):]
    text = text[:text.index("advice:")] + "advice: []\n\n" + text[text.index("partnerships:"):]  # the advice citing 999
    for attribute in ("immediately", "it-may-be-nothing"):  # and the attributes of two of them
        text = re.sub(rf"  - id: {attribute}\n(?:    .*\n)+", "", text)
    path.write_text(text, encoding="utf-8")
    from scripts.common import BuildError
    try:
        build(inputs)
    except BuildError as error:
        message = str(error)
    else:
        raise AssertionError("build accepted an uncovered token")
    assert "annotations.yaml" in message
    assert "phone '999'" in message and "source.txt:27:411" in message
