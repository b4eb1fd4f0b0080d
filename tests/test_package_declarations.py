"""schema/package.yaml is checked like the curator's annotations: each slip a maintainer is likely to
make in it stops the build with `error: schema/package.yaml:<line>: ...` at the slipped line, no
traceback, a non-zero exit and every published file as it was. The slips run in this process on one
copied package (the published tables, the inputs and the schema), each restoring the file after it.

A key removed is reported at the mapping it is missing from (for a list of values or a shorthand that
something names, at the line that names it); a value missing from a list is reported at the list.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, copy_package, published_files, read_table, run_step

from scripts.claims import extract

SCHEMA = Path("schema") / "package.yaml"
TEXT = (ROOT / SCHEMA).read_text(encoding="utf-8")
TEXT_VERSION = re.search(r"^version: (\S+)$", TEXT, re.MULTILINE).group(1)


def line_of(text: str, needle: str, after: str | None = None) -> int:
    """The 1-based line where `needle` starts in `text` (its first occurrence after `after`)."""
    start = text.index(after) if after else 0
    assert needle in text[start:], needle
    return text[: text.index(needle, start)].count("\n") + 1


def replace(old: str, new: str, at: str | None = None, after: str | None = None):
    """A slip: the first `old` replaced by `new`; the error is expected at the line of `at` in the
    slipped text (by default where `new` starts; the first after `after`)."""
    def slip(text: str) -> tuple[str, int]:
        assert old in text, old
        changed = text.replace(old, new, 1)
        return changed, line_of(changed, at if at is not None else new, after)
    return slip


def remove(pattern: str, at: str, after: str | None = None):
    """A slip: the text matching `pattern` removed; the error is expected at the line of `at`."""
    def slip(text: str) -> tuple[str, int]:
        changed, count = re.subn(pattern, "", text, count=1, flags=re.M)
        assert count == 1, pattern
        return changed, line_of(changed, at, after)
    return slip


def field_line(name: str) -> str:
    return next(line for line in TEXT.split("\n") if line.startswith(f"      - {{name: {name},"))


def twice(key_line: str):
    """A slip: a key given twice (the copy is reported, at its own line)."""
    def slip(text: str) -> tuple[str, int]:
        changed = text.replace(key_line, key_line + key_line, 1)
        return changed, line_of(changed, key_line) + key_line.count("\n")
    return slip


AIM = field_line("aim")
AIM_TYPE = field_line("aim_type")
SLIPS = {
    # the slips the issue lists
    "category list removed": remove(r"^  aim_type:\n    values:\n(?:      .*\n)+", AIM_TYPE),
    "typo in a field's categories": replace(AIM_TYPE, AIM_TYPE.replace("categories: aim_type", "categories: aim_typ")),
    "typo in a field's input": replace(AIM, AIM.replace("input: words", "input: word")),
    "key given twice": twice("      row: aim\n"),
    "shorthand removed": remove(r"^  statement:\n    fields:\n.*\n    foreignKeys:\n.*\n", "shorthands:\n"),
    "first_person_rule removed": remove(r"^first_person_rule: >-\n(?:  .*\n)+", "name: "),
    "field name typo in a formula": replace('formula: "count_min is None or count_max', 'formula: "count_mn is None or count_max'),
    "field name typo in a foreign key": replace("- {fields: [level_evidence_id],", "- {fields: [level_evidense_id],"),
    "field name typo in printed": replace("{name: title, printed: title_evidence_id,", "{name: title, printed: title_evidense_id,"),
    "resource declared twice": replace("  - name: effects\n", "  - name: aims\n", after="    title: Stated aims\n"),
    "formula syntax typo": replace('formula: "from_claim_id != to_claim_id"', 'formula: "from_claim_id != to_claim_id)"'),
    "claim table removed from claim_type": remove(r'^      partnerships: "partnership work"\n', "    values:",
                                                  after="  claim_type:\n"),
    # the same kinds of slip elsewhere in the file
    "modality map value typo": replace("deployed: in_effect}", "deployed: in_efect}"),
    "modality map value left out": replace("{freed_up: in_effect, mobilisable: capacity, deployed: in_effect}",
                                           "{freed_up: in_effect, mobilisable: capacity}"),
    "item kind typo": replace("items: {places: place,", "items: {places: plase,"),
    "link to an undeclared table": replace("{to: events, what: \"the timeline event in which",
                                           "{to: event, what: \"the timeline event in which"),
    "ref to an undeclared table": replace("ref: contacts, key: contact,", "ref: contact, key: contact,"),
    "pattern name typo": replace("{name: source_id, type: string, pattern: id, required: true, unique: true,",
                                 "{name: source_id, type: string, pattern: ids, required: true, unique: true,"),
    "field type typo": replace("{name: sequence, type: integer,", "{name: sequence, type: integr,"),
    "field key typo": replace("{name: sequence, type: integer, minimum: 1, required: true,",
                              "{name: sequence, type: integer, minimum: 1, requird: true,"),
    "giver is no party": replace("      giver: actor\n", "      giver: actr\n"),
    "unknown top-level key": replace("spatial_coverage: United Kingdom\n", "spatial_coverage: United Kingdom\nlicence: CC-BY-4.0\n",
                                     at="licence:"),
    "foreign key to an undeclared table": replace("reference: {resource: threat_levels, fields: [level_id]}",
                                                  "reference: {resource: threat_level, fields: [level_id]}"),
    "rule names no field of a shorthand": replace('formula: "({link}_id is None) == ({link}_basis is None)"',
                                                  'formula: "({link}_id is None) == ({link}_bases is None)"'),
    "malformed DOI": replace('doi: ""', 'doi: "https://doi.org/10.1/x"'),
    "a value computed by nothing": replace(
        AIM, AIM + '\n      - {name: aim_score, type: integer, description: "A score no code computes."}',
        at="      - {name: aim_score,"),
    "a computed value its function does not give": replace(
        field_line("count_min"), field_line("count_min")
        + '\n      - {name: count_mean, type: integer, description: "A figure the kind\'s function does not compute."}',
        at="      - {name: count_mean,"),
    "a count that follows no field": replace("words_from: counted,", "words_from: countd,"),
    "a count that follows a code": replace("words_from: counted,", "words_from: count_type,"),
    "a count that follows words twice over": replace("computed: number, words_from: counted,",
                                                     "computed: number, words: arrests, words_from: counted,"),
    "a built table's column renamed": replace(
        "      - {name: quote, type: string, required: true, description: The exact words",
        "      - {name: qoute, type: string, required: true, description: The exact words", at="  - name: evidence\n"),
}


# What the error says, for the slips the model of the language does not see.
SAYS = {"a value computed by nothing": "aims.aim_score: the curator writes no value for it (no `input:`) and nothing "
        "computes it",
        "a computed value its function does not give": "personnel.count_mean: the kind's computation",
        "a built table's column renamed": "evidence.qoute: no step of the build fills this column",
        "claim table removed from claim_type": "no value 'partnerships'",
        "a count that follows no field": "no field 'countd' in counts (did you mean 'counted'?)",
        "a count that follows a code": "field 'count_type' is not words every row copies from its quote",
        "a count that follows words twice over": "one of the two",
        "category list removed": "no list of values 'aim_type'",
        "shorthand removed": "no shorthand 'statement'"}


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    root = copy_package(tmp_path_factory.mktemp("declarations") / "package")
    return root, published_files(root)


@pytest.mark.parametrize("slip", list(SLIPS))
def test_a_slip_in_package_yaml_is_reported_at_its_line(package, slip):
    root, before = package
    text, line = SLIPS[slip](TEXT)
    (root / SCHEMA).write_text(text, encoding="utf-8")
    try:
        result = run_step("outputs.publish", root)
    finally:
        (root / SCHEMA).write_text(TEXT, encoding="utf-8")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert f"{root / SCHEMA}:{line}: " in result.stderr, result.stderr
    assert SAYS.get(slip, "") in result.stderr and "not valid YAML" not in result.stderr, result.stderr
    assert all(row.startswith(f"error: {root / SCHEMA}:") for row in result.stderr.splitlines()), result.stderr
    assert published_files(root) == before


def test_the_package_as_it_is_passes_the_check():
    from scripts.inputs import declarations, yaml_input
    problems, expanded = declarations.check(yaml_input.load(ROOT / SCHEMA, with_lines=True), ROOT / SCHEMA)
    assert problems == [] and expanded is not None


def test_a_slip_in_the_repository_s_own_file_is_no_traceback_at_import(repo_copy):
    """The modules read schema/package.yaml when they need it, never when imported: `python -m` of the
    build on a repository whose file has a slip prints the error at its line."""
    text, line = SLIPS["category list removed"](TEXT)
    (repo_copy / SCHEMA).write_text(text, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "scripts.outputs.publish"], cwd=repo_copy, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: schema/package.yaml:{line}: resources["), result.stderr


# ---------------------------------------------------------------- errors that pointed elsewhere


def test_declaration_order_does_not_matter(tmp_path):
    """The fact kinds declared in the opposite order build the same rows: `of:` (an attribute's claim),
    links, facets and references are resolved once every row of a bulletin is made."""
    from conftest import copy_inputs
    root = copy_inputs(tmp_path / "package")
    head, rest = TEXT.split("\nresources:\n")
    blocks = re.split(r"(?m)^(?=  - name: )", rest)
    claims = [i for i, block in enumerate(blocks) if "\n    claim:\n" in block]
    assert blocks[claims[0]].startswith("  - name: events") and len(claims) > 4
    reordered = list(blocks)
    for i, j in zip(claims, reversed(claims)):
        reordered[i] = blocks[j].rstrip("\n") + "\n\n"
    (root / SCHEMA).write_text(head + "\nresources:\n" + "".join(reordered), encoding="utf-8")
    result = extract.build(root)
    assert [r["name"] for r in result["spec"]["resources"]] != [r["name"] for r in extract.package_spec(ROOT)["resources"]]

    def cells(rows, fields):  # as the CSV holds them; a list of claims (claim_ids) in any order
        out = []
        for row in rows:
            shown = {k: "" if v is None else ("true" if v is True else "false" if v is False else str(v))
                     for k, v in ((f, row.get(f)) for f in fields)}
            if "claim_ids" in shown:
                shown["claim_ids"] = " ".join(sorted(shown["claim_ids"].split()))
            out.append(sorted(shown.items()))
        return sorted(out)

    for name, rows in result["rows"].items():
        fields = result["fields"][name]
        assert cells(rows, fields) == cells(read_table(name), fields), name


def test_a_row_that_fails_the_gate_is_named_at_the_curator_s_line(package):
    """A rule the gate checks on the published tables (here a field's maximum) names the annotation
    file and line of the entry whose row breaks it, and the field's line in schema/package.yaml."""
    root, before = package
    old = field_line("count_max")
    text = TEXT.replace(old, old.replace("minimum: 1,", "minimum: 1, maximum: 2000,"), 1)
    (root / SCHEMA).write_text(text, encoding="utf-8")
    try:
        result = run_step("outputs.publish", root)
    finally:
        (root / SCHEMA).write_text(TEXT, encoding="utf-8")
    assert result.returncode != 0 and published_files(root) == before
    personnel = [row for row in read_table("personnel") if int(row["count_max"] or 0) > 2000]
    assert personnel
    annotations = (root / "data" / "raw" / "met-2017-05-24-additional-armed-officers" / "annotations.yaml")
    entry = personnel[0]["personnel_id"][len(personnel[0]["source_id"]) + 1:]
    line = line_of(annotations.read_text(encoding="utf-8"), f"  - id: {entry}\n")
    assert f"error: {annotations}:{line}: the row this entry makes fails the gate: " in result.stderr, result.stderr
    assert f"(personnel.count_max is declared at {root / SCHEMA}:{line_of(text, field_line('count_max').replace('minimum: 1,', 'minimum: 1, maximum: 2000,'))})" \
        in result.stderr
    assert "nothing was published" in result.stderr


# ---------------------------------------------------------------- counts by declaration


def test_a_count_is_computed_from_its_declaration(tmp_path):
    """A fact kind declared only in a copied schema/package.yaml, with a field `computed: number`
    reading the number before its `words:`, builds its rows from the annotations alone, and a quote
    without the number stops at the curator's line."""
    from conftest import copy_inputs
    root = copy_inputs(tmp_path / "package")
    (root / "data" / "releases" / f"{TEXT_VERSION}-ids.csv").unlink(missing_ok=True)  # a new kind: not released
    kind = '''
  - name: searches
    title: Searches
    description: "How many searches a claim counts."
    claim:
      id: search_id
      row: search figure
    fields:
      - {name: searches, type: integer, minimum: 0, required: true, computed: number, words: "military personnel", description: "The number of people counted, read from the words."}
'''
    text = TEXT.replace("\n  - name: contacts\n", kind + "\n  - name: contacts\n", 1)
    text = text.replace('      command: "command and control"\n',
                        '      command: "command and control"\n      searches: "a count of searches"\n', 1)
    (root / SCHEMA).write_text(text, encoding="utf-8")
    annotations = root / "data" / "raw" / "met-2017-05-24-additional-armed-officers" / "annotations.yaml"
    source = annotations.read_text(encoding="utf-8")
    claim = next(e for e in yaml.safe_load(source)["events"] if e["quote"].startswith("One thousand"))  # a claim
    entry = (f"searches:\n  - id: count-of-officers\n    quote: {json.dumps(claim['quote'])}\n    modality: in_effect\n"
             f"    facet_of: {claim['id']}\n\n")
    annotations.write_text(source.replace("\nuncoded:\n", "\n" + entry + "uncoded:\n", 1), encoding="utf-8")
    for other in (root / "data" / "raw").glob("*/annotations.yaml"):  # every other bulletin: a section, empty
        if other != annotations:
            other.write_text(other.read_text(encoding="utf-8").replace("\nuncoded:\n", "\nsearches: []\n\nuncoded:\n", 1),
                             encoding="utf-8")
    kind_text = text
    (root / SCHEMA).write_text(text := kind_text.replace('words: "military personnel"', 'words: "armed officers"'),
                               encoding="utf-8")
    result = extract.build(root)
    event = next(r for r in read_table("events") if r["event_id"].endswith("-" + claim["id"]))
    assert [(r["search_id"], r["searches"], r["claim_id"]) for r in result["rows"]["searches"]] == [
        (f"{event['source_id']}-count-of-officers", 1000, event["event_id"])]  # "One thousand additional armed officers"
    assert "searches" in next(r for r in result["rows"]["claims"] if r["claim_id"] == event["event_id"])["facets"]

    line = line_of(annotations.read_text(encoding="utf-8"), "count-of-officers") + 1
    (root / SCHEMA).write_text(text.replace('words: "armed officers"', 'words: "arrests"'), encoding="utf-8")
    with pytest.raises(extract.BuildError) as caught:
        extract.build(root)
    assert str(caught.value).startswith(f"{annotations}:{line}: searches[0]") \
        and "no number before 'arrests'" in str(caught.value)

    # "up to 3,800 military personnel": a bound, not a count; the build refuses it rather than publish 3800
    capacity = next(e for e in yaml.safe_load(source)["personnel"] if "up to 3,800" in e["quote"])
    bound = (f"searches:\n  - id: count-of-officers\n    quote: {json.dumps(capacity['quote'])}\n    modality: capacity\n"
             f"    facet_of: {capacity['id']}\n\n")
    annotations.write_text(annotations.read_text(encoding="utf-8").replace(entry, bound, 1), encoding="utf-8")
    (root / SCHEMA).write_text(kind_text, encoding="utf-8")
    with pytest.raises(extract.BuildError) as caught:
        extract.build(root)
    assert str(caught.value).startswith(f"{annotations}:{line}: searches[0]") and \
        "printed with a bound ('up to' '3,800')" in str(caught.value), str(caught.value)


def test_a_count_follows_the_words_the_curator_copies(tmp_path):
    """Table counts (`computed: number` with `words_from: counted`): the number is the one printed just
    before the words the curator copies under `counted`, so one kind holds arrests, people in custody
    and searches whatever noun the bulletin counts them by; words with no number before them stop the
    build at the curator's line."""
    from conftest import copy_inputs
    root = copy_inputs(tmp_path / "package")
    annotations = root / "data" / "raw" / "met-2017-05-24-additional-armed-officers" / "annotations.yaml"
    source = annotations.read_text(encoding="utf-8")
    claim = next(e for e in yaml.safe_load(source)["events"] if e["quote"].startswith("One thousand"))
    entry = (f"  - id: troops-counted\n    quote: {json.dumps(claim['quote'])}\n    facet_of: {claim['id']}\n"
             "    count_type: searches\n    counted: \"armed officers\"\n    modality: in_effect\n")
    assert "\ncounts: []\n" in source
    annotations.write_text(source.replace("\ncounts: []\n", "\ncounts:\n" + entry, 1), encoding="utf-8")
    result = extract.build(root)
    event = next(r for r in read_table("events") if r["event_id"].endswith("-" + claim["id"]))
    assert [(r["count_id"], r["counted"], r["count"], r["claim_id"]) for r in result["rows"]["counts"]
            if r["source_id"] == event["source_id"]] == [  # other bulletins may have counts of their own
        (f"{event['source_id']}-troops-counted", "armed officers", 1000, event["event_id"])]  # "One thousand additional"

    annotations.write_text(annotations.read_text(encoding="utf-8").replace('counted: "armed officers"',
                                                                           'counted: "officers"'), encoding="utf-8")
    assert [r["count"] for r in extract.build(root)["rows"]["counts"] if r["source_id"] == event["source_id"]] == [1000]
    # (two words may stand between)

    text = annotations.read_text(encoding="utf-8").replace('counted: "officers"', 'counted: "patrols"')
    annotations.write_text(text, encoding="utf-8")
    with pytest.raises(extract.BuildError) as caught:
        extract.build(root)
    assert str(caught.value).startswith(f"{annotations}:{line_of(text, 'troops-counted') + 1}: ") \
        and "no number before 'patrols'" in str(caught.value), str(caught.value)
