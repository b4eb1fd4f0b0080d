"""The drafting aid against the curated annotations of the archived bulletin.

Definitions (a fact is what the recogniser can see; entries with no
fact-bearing token, such as "police and partners", are not counted):

- a curated fact is a pair (section, token): a fact-bearing token found by
  scripts/recognise.py inside one of the quoted spans (quote, title, dateline,
  attribution_quote, meaning_quote) of a curated entry of that section;
- a draft candidate is one entry of the draft file, in its section, with the
  spans of its quotes (each quote must occur exactly once in the text);
- a curated fact is recalled when a candidate of the same section has a quote
  span that overlaps the token; recall = recalled facts / curated facts;
- a candidate is correct when one of its quote spans overlaps the token of a
  curated fact of the same section; precision = correct candidates / candidates.
"""

from __future__ import annotations

import re
import shutil

import pytest
import yaml
from conftest import BULLETIN, ROOT, SOURCE_TEXT, copy_inputs, run_step

from scripts import recognise
from scripts.draft_annotations import DRAFT_NAME, reference_levels

FIXTURE = ROOT / "tests" / "fixtures" / "raw" / "met-2017-10-14-fixture-railway-patrols"
QUOTE_KEYS = ("quote", "title", "dateline", "attribution_quote", "meaning_quote")
LEVELS = reference_levels(ROOT)
RECALL = 1.0
PRECISION_FLOOR = 0.8


def entries(annotations: dict):
    for section, value in annotations.items():
        for entry in [value] if section == "source" else value:
            yield section, entry


def spans(text: str, entry: dict) -> list[tuple[int, int]]:
    found = []
    for key in QUOTE_KEYS:
        if key in entry:
            quote = entry[key]
            start = text.find(quote)
            assert start >= 0 and text.find(quote, start + 1) < 0, f"{key} does not occur exactly once: {quote!r}"
            found.append((start, start + len(quote)))
    return found


def overlaps(span, token) -> bool:
    return span[0] < token.end and token.start < span[1]


def score(text: str, curated: dict, draft: dict) -> dict:
    tokens = recognise.all_tokens(text, LEVELS)
    facts = {(section, tk) for section, entry in entries(curated) for span in spans(text, entry)
             for tk in tokens if span[0] <= tk.start and tk.end <= span[1]}
    candidates = [(section, spans(text, entry)) for section, entry in entries(draft)]
    recalled = {(section, tk) for section, tk in facts
                if any(s == section and any(overlaps(span, tk) for span in cand) for s, cand in candidates)}
    correct = [(section, cand) for section, cand in candidates
               if any(s == section and any(overlaps(span, tk) for span in cand) for s, tk in facts)]
    return {"facts": len(facts), "recalled": len(recalled), "candidates": len(candidates), "correct": len(correct),
            "recall": len(recalled) / len(facts), "precision": len(correct) / len(candidates),
            "missed": sorted((s, tk.kind, tk.text, tk.start) for s, tk in facts - recalled),
            "wrong": [(s, text[c[0][0]:c[0][1]][:60]) for s, c in candidates if (s, c) not in correct]}


def write_draft(source, out, *args):
    result = run_step("draft_annotations", ROOT, str(source), "--out", str(out), *args)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(out.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def archived_draft(tmp_path_factory):
    return write_draft(SOURCE_TEXT, tmp_path_factory.mktemp("draft") / DRAFT_NAME)


def test_recall_and_precision_on_the_archived_bulletin(archived_draft, source_text):
    curated = yaml.safe_load((SOURCE_TEXT.parent / "annotations.yaml").read_text(encoding="utf-8"))
    result = score(source_text, curated, archived_draft)
    print(f"\ndraft on {BULLETIN}: recall {result['recalled']}/{result['facts']} = {result['recall']:.1%}, "
          f"precision {result['correct']}/{result['candidates']} = {result['precision']:.1%}; "
          f"wrong candidates: {result['wrong']}")
    assert result["facts"] > 50, "too few curated facts: the definition has gone vacuous"
    assert result["recall"] == RECALL, f"curated facts the draft misses: {result['missed']}"
    assert result["precision"] >= PRECISION_FLOOR, result["wrong"]


def test_figures_on_the_fixture_bulletin(tmp_path):
    """A second, smaller check on the fictional fixture bulletin: its figures are printed, with the same floor."""
    text = (FIXTURE / "source.txt").read_text(encoding="utf-8")
    curated = yaml.safe_load((FIXTURE / "annotations.yaml").read_text(encoding="utf-8"))
    result = score(text, curated, write_draft(FIXTURE / "source.txt", tmp_path / DRAFT_NAME))
    print(f"\ndraft on the fixture: recall {result['recalled']}/{result['facts']} = {result['recall']:.1%}, "
          f"precision {result['correct']}/{result['candidates']} = {result['precision']:.1%}; "
          f"missed: {result['missed']}; wrong: {result['wrong']}")
    assert min(result["recall"], result["precision"]) >= PRECISION_FLOOR


def test_score_sees_a_missing_candidate(archived_draft, source_text):
    """The measure can fail: without its contacts the draft no longer recalls the phone numbers."""
    curated = yaml.safe_load((SOURCE_TEXT.parent / "annotations.yaml").read_text(encoding="utf-8"))
    result = score(source_text, curated, {**archived_draft, "contacts": []})
    assert {("contacts", "phone", "0800 789 321"), ("contacts", "phone", "999")} <= {m[:3] for m in result["missed"]}


def test_every_draft_entry_is_marked_and_derived(archived_draft, source_text):
    for section, entry in entries(archived_draft):
        assert spans(source_text, entry), f"{section} entry without a quote"
        assert "draft" in entry, f"{section} entry {entry} is not marked as a draft"
    contacts = {entry["quote"]: entry for entry in archived_draft["contacts"]}
    assert "e164 = +44800789321" in contacts["call us in confidence on 0800 789 321"]["draft"]
    assert contacts["call us in confidence on 0800 789 321"]["confidential"] is True
    figures = [entry["draft"] for entry in archived_draft["personnel"]]
    assert any("count = 1000 (exact)" in note for note in figures)
    assert any("count = up to 3800 (up_to); window_hours = (12, 96)" in note for note in figures)
    assert any("date = 2017-05-23" in entry["draft"] for entry in archived_draft["events"])


def test_an_unconfirmed_draft_stops_the_build(tmp_path, archived_draft):
    root = copy_inputs(tmp_path / "package")
    folder = root / "data" / "raw" / BULLETIN
    result = run_step("draft_annotations", root, str(folder / "source.txt"))
    assert result.returncode == 0, result.stderr
    shutil.move(folder / DRAFT_NAME, folder / "annotations.yaml")
    build = run_step("extract", root)
    assert build.returncode != 0
    assert re.search(r"annotations.yaml:\d+: \w+\[\d+\]\.draft: unknown key", build.stderr), build.stderr
    first_line = (folder / "annotations.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first_line == "# yaml-language-server: $schema=../../../schema/annotations.schema.json"
    assert not (root / "data" / "sources.csv").exists()


def test_never_overwrites_without_force(tmp_path):
    out = tmp_path / DRAFT_NAME
    out.write_text("kept\n", encoding="utf-8")
    refused = run_step("draft_annotations", ROOT, str(SOURCE_TEXT), "--out", str(out))
    assert refused.returncode != 0 and "already exists" in refused.stderr
    assert out.read_text(encoding="utf-8") == "kept\n"
    write_draft(SOURCE_TEXT, out, "--force")
    assert out.read_text(encoding="utf-8").splitlines()[1].startswith("# DRAFT annotations")


def test_unreadable_source_is_named(tmp_path):
    bad = tmp_path / "source.txt"
    bad.write_bytes(b"Caf\xe9")
    result = run_step("draft_annotations", ROOT, str(bad))
    assert result.returncode != 0 and "source.txt" in result.stderr and "not valid UTF-8" in result.stderr
    assert not (tmp_path / DRAFT_NAME).exists()
