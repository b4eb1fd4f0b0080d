"""The bad-input suite: each kind of corruption, applied to a copy of the package
(or of its raw inputs), must be rejected by `scripts.checks.validate` (what `make
validate` runs) or by the build, with a message naming the file and, where there
is one, the row and column. A summary line is printed at the end of the run.

Kinds of corruption of the published tables that alter different tables are validated together,
in one copy of the package (a batch): one validation costs a second or two, most of it
frictionless's foreign-key lookups, and is the same work for one fault as for ten. The errors stay
attributable: a batch holds at most one kind per table, each kind is checked on the report's lines
that name its own table (row and column in one line where it names both), a kind whose errors
reach other tables (a changed key, a table that can no longer be read) names them (`reaches`) and
shares a batch with no kind of those tables, and a batch whose report names a table none of its
kinds altered or reaches fails, as its kinds could no longer be told apart. Each kind is still its
own test, and fails alone.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from conftest import BULLETIN, ROOT, copy_package, once_per_run, published_files, run_step

from scripts.common import load_yaml

# The archived bulletin's source_id: the corruptions alter its rows, whatever other bulletins the package holds.
ARCHIVED = load_yaml(ROOT / "data" / "raw" / BULLETIN / "metadata.yaml")["source_id"]


EVERY = ("*",)  # a kind's errors reach every table: it is validated alone
DESCRIPTOR = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
PATHS = {r["path"]: r["name"] for r in DESCRIPTOR["resources"]}


def referring_to(table: str) -> tuple[str, ...]:
    """The tables whose foreign keys name `table` (the descriptor's): where a changed key of it is reported."""
    return tuple(r["name"] for r in DESCRIPTOR["resources"] if r["name"] != table and any(
        fk["reference"]["resource"] == table for fk in r.get("schema", {}).get("foreignKeys", [])))


@dataclass
class Corruption:
    kind: str
    apply: Callable[[Path], list[str]]  # mutates the copy, returns the needles the report must contain
    step: str = "checks.validate"  # or "outputs.publish" for raw inputs
    refresh: bool = True  # re-measure bytes/hash so only the intended fault is left
    table: str | None = None  # the resource (its file or descriptor entry) a checks.validate kind alters
    reaches: tuple[str, ...] = ()  # the other tables its errors reach (EVERY: validated in a copy of its own)


# ---------------------------------------------------------------- helpers on a package copy

def read_rows(root: Path, table: str) -> list[list[str]]:
    with open(root / "data" / f"{table}.csv", newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def write_rows(root: Path, table: str, rows: list[list[str]]) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    (root / "data" / f"{table}.csv").write_bytes(buffer.getvalue().encode("utf-8"))


def set_cell(root: Path, table: str, key_suffix: str, column: str, value: str) -> list[str]:
    """Set one cell of the row whose first column ends with `key_suffix`; return file/row/column needles."""
    rows = read_rows(root, table)
    col = rows[0].index(column)
    found = [i for i, r in enumerate(rows) if i and r[0].endswith(key_suffix)]
    # With other bulletins in the package, the archived bulletin's row (its IDs start with its source_id).
    (index,) = [i for i in found if rows[i][0].startswith(ARCHIVED + "-")] if len(found) > 1 else found
    rows[index][col] = value
    write_rows(root, table, rows)
    return [f"data/{table}.csv row {index + 1}", f"data/{table}.csv row {index + 1} column {column}"]


def edit_bytes(root: Path, relpath: str, change: Callable[[bytes], bytes]) -> None:
    path = root / relpath
    path.write_bytes(change(path.read_bytes()))


def refresh_descriptor(root: Path) -> None:
    path = root / "datapackage.json"
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    for res in descriptor["resources"]:
        data = (root / res["path"]).read_bytes()
        res["bytes"], res["hash"] = len(data), "sha256:" + hashlib.sha256(data).hexdigest()
    path.write_text(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def edit_descriptor(root: Path, change: Callable[[dict], None]) -> None:
    path = root / "datapackage.json"
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    change(descriptor)
    path.write_text(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def resource(descriptor: dict, name: str) -> dict:
    return next(r for r in descriptor["resources"] if r["name"] == name)


def replace_line(path: Path, old: str, new: str) -> int:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1


ANNOTATIONS = f"data/raw/{BULLETIN}/annotations.yaml"
SOURCE = f"data/raw/{BULLETIN}/source.txt"


# ---------------------------------------------------------------- the corruptions

def wrong_type(root):
    return set_cell(root, "personnel", "military-mobilisable", "count_max", "lots") + ["integer"]


def out_of_range(root):
    return set_cell(root, "personnel", "armed-officers-freed-up", "count_max", "0") + ["minimum"]


def outside_enum(root):
    return set_cell(root, "measures", "additional-police-and-security-checks", "modality", "rumoured") + ["enum"]


def duplicate_primary_key(root):
    return set_cell(root, "organisations", "jtac", "organisation_id", "military") + ["primary-key"]


def dangling_foreign_key(root):
    return set_cell(root, "personnel", "military-mobilisable", "organisation_id", "nobody") + ["foreign"]


def blank_required(root):
    return set_cell(root, "events", "temperer-activated", "description", "") + ["required"]


def extra_column(root):
    rows = read_rows(root, "people")
    write_rows(root, "people", [r + (["note"] if i == 0 else ["x"]) for i, r in enumerate(rows)])
    return ["data/people.csv", "extra-label", "note"]


def missing_column(root):
    rows = read_rows(root, "contacts")
    col = rows[0].index("purpose")
    write_rows(root, "contacts", [r[:col] + r[col + 1:] for r in rows])
    return ["data/contacts.csv", "missing", "purpose"]


def renamed_header(root):
    rows = read_rows(root, "statements")
    rows[0][rows[0].index("paragraph")] = "para"
    write_rows(root, "statements", rows)
    return ["data/statements.csv", "incorrect-label", "paragraph"]


def misspelt_header_read_by_a_check_of_meaning(root):
    """Found by `make fuzz`: mentions.csv's evidence_id header misspelt crashed the Pandera layer's checks of
    meaning (KeyError) instead of being reported as the table's wrong label. (The evidence rows only
    mentions used are then reported unused.)"""
    rows = read_rows(root, "mentions")
    rows[0][rows[0].index("evidence_id")] = "evidence_idd"
    write_rows(root, "mentions", rows)
    return ["data/mentions.csv", "evidence_idd"]


def reordered_columns(root):
    rows = read_rows(root, "mentions")
    write_rows(root, "mentions", [[r[0], r[2], r[1], *r[3:]] for r in rows])
    return ["data/mentions.csv", "incorrect-label", "column source_id"]


def truncated_row(root):
    rows = read_rows(root, "measures")
    rows[-1] = rows[-1][:3]
    write_rows(root, "measures", rows)
    return [f"data/measures.csv row {len(rows)}", "missing-cell"]


def empty_file(root):
    (root / "data" / "threat_assessments.csv").write_bytes(b"")
    return ["data/threat_assessments.csv", "empty"]


def non_utf8(root):
    edit_bytes(root, "data/statements.csv", lambda b: b.replace("’".encode(), b"\x92", 1))
    return ["data/statements.csv row 3", "not valid UTF-8"]


def byte_order_mark(root):
    edit_bytes(root, "data/organisations.csv", lambda b: b"\xef\xbb\xbf" + b)
    return ["data/organisations.csv row 1", "byte order mark"]


def crlf(root):
    edit_bytes(root, "data/events.csv", lambda b: b.replace(b"\n", b"\r\n"))
    return ["data/events.csv row 1", "CRLF"]


def surrounding_spaces(root):
    return set_cell(root, "people", "mark-rowley", "name", " Mark Rowley ") + ["no_surrounding_spaces"]


def quote_not_matching_span(root):
    rows = read_rows(root, "evidence")
    (index,) = [i for i, r in enumerate(rows) if "3,800" in r[-1] and r[1] == ARCHIVED]
    rows[index][-1] = rows[index][-1].replace("3,800", "4,800")
    write_rows(root, "evidence", rows)
    return [f"data/evidence.csv row {index + 1}", "span_matches_text"]


def span_past_end(root):
    rows = read_rows(root, "evidence")
    rows[-1][3] = "5000"
    write_rows(root, "evidence", rows)
    return [f"data/evidence.csv row {len(rows)}", "span_within_text"]


def min_above_max(root):
    return set_cell(root, "personnel", "armed-officers-freed-up", "count_min", "2000") + ["count_min_le_count_max"]


def window_min_above_max(root):
    return set_cell(root, "personnel", "military-mobilisable", "window_min_hours", "100") + ["window_min_le_window_max"]


def dated_after_publication(root):
    return set_cell(root, "events", "officers-freed-up", "date", "2017-05-25")[:1] + ["not_after_publication"]


def precision_mismatch(root):
    return set_cell(root, "events", "temperer-activated", "date_precision", "minute")[:1] + ["precision_matches_value"]


def malformed_phone(root):
    return set_cell(root, "contacts", "0800-789-321", "e164", "0800-789-321") + ["pattern"]


def mismatched_phone(root):
    return set_cell(root, "contacts", "0800-789-321", "e164", "+44800789999")[:1] + ["e164_matches_printed"]


def wrong_emergency_flag(root):
    return set_cell(root, "contacts", "emergency", "emergency", "false")[:1] + ["emergency_flag"]


def one_number_two_contacts(root):
    """The 999 row given the hotline's number: two rows of one number."""
    set_cell(root, "contacts", "emergency", "number_as_printed", "0800 789 321")
    return set_cell(root, "contacts", "emergency", "e164", "+44800789321")[:1] + ["one_contact_per_number"]


def raise_down_the_scale(root):
    """The raise to critical recorded as coming from critical: no move up the scale."""
    set_cell(root, "threat_assessments", "threat-level-critical", "from_level_basis", "stated")
    set_cell(root, "threat_assessments", "threat-level-critical", "from_level_rule", "")
    return set_cell(root, "threat_assessments", "threat-level-critical", "from_level_id", "critical")[:1] + [
        "change_moves_along_the_scale"]


def timeline_against_a_link(root):
    """The attack placed after the activation its date_latest_event_id says it precedes."""
    set_cell(root, "events", "temperer-activated", "timeline", "1")
    return set_cell(root, "events", "manchester-attack", "timeline", "3")[:1] + ["timeline_keeps_links"]


def part_of_cycle(root):
    set_cell(root, "organisations", "jtac", "part_of_organisation_id", "military")
    set_cell(root, "organisations", "jtac", "part_of_basis", "inferred")
    set_cell(root, "organisations", "jtac", "part_of_rule", "a cycle")
    set_cell(root, "organisations", "military", "part_of_basis", "inferred")
    set_cell(root, "organisations", "military", "part_of_rule", "a cycle")
    return set_cell(root, "organisations", "military", "part_of_organisation_id", "jtac")[:1] + ["part_of_no_cycle"]


def unused_evidence(root):
    rows = read_rows(root, "evidence")
    rows.append(["met-2017-05-24-0-6", "met-2017-05-24", "0", "6", "Follow"])
    write_rows(root, "evidence", rows)
    return [f"data/evidence.csv row {len(rows)}", "evidence_used"]


def id_reused_across_tables(root):
    return set_cell(root, "measures", "reviewing-security", "measure_id",
                    "met-2017-05-24-manchester-attack") + ["unique across the package"]


def bad_id_pattern(root):
    return set_cell(root, "mentions", "-jtac", "mention_id", "JTAC Mention") + ["pattern"]


def stale_hash(root):
    edit_descriptor(root, lambda d: resource(d, "events").update(hash="sha256:" + "0" * 64))
    return ["data/events.csv", "hash-count"]


def stale_bytes(root):
    edit_descriptor(root, lambda d: resource(d, "contacts").update(bytes=resource(d, "contacts")["bytes"] + 1))
    return ["data/contacts.csv", "byte-count"]


def text_resource_type(root):
    """The archived bulletin as a `"type": "text"` resource: frictionless 5.21 accepts it, the
    Data Package v2 profile (which allows only "table") does not."""
    def retype(descriptor):
        (number,) = [i for i, r in enumerate(descriptor["resources"]) if r["name"] == f"bulletin-{ARCHIVED}"]
        descriptor["resources"][number]["type"] = "text"
        needles.append(f"[profile] datapackage.json: at /resources/{number}/type: 'text' is not one of ['table']")
    needles = []
    edit_descriptor(root, retype)
    return needles


def annotation_quote_missing(root):
    line = replace_line(root / ANNOTATIONS, '"or in an emergency 999"', '"or in an emergency 112"')
    return [f"annotations.yaml:{line}:", "quote not found"]


def annotation_quote_twice(root):
    line = replace_line(root / ANNOTATIONS, '"Operation Temperer was activated on Tuesday night"',
                        '"Operation Temperer"')
    return [f"annotations.yaml:{line}:", "found more than once"]


def edited_source(root):
    edit_bytes(root, SOURCE, lambda b: b.replace(b"One thousand", b"Two thousand"))
    return ["source.txt", "archived text changed"]


def annotation_invalid_coding(root):
    """A coding outside the descriptor's enum is caught where it is typed, before any table is built."""
    line = replace_line(root / ANNOTATIONS, "    modality: possible", "    modality: rumoured")
    return [f"annotations.yaml:{line}: measures[6].modality: expected one of in_effect, under_way,", "got 'rumoured'"]


def descriptor_constraint_broken_by_the_data(root):
    """Passes extraction, fails validation: nothing may be published."""
    replace_line(root / "schema" / "package.yaml", "{name: count_max, type: integer, minimum: 1,",
                 "{name: count_max, type: integer, minimum: 1, maximum: 2000,")
    return ["data/personnel.csv row", "column count_max", "nothing was published"]


CORRUPTIONS = [
    Corruption("wrong type", wrong_type, table="personnel"),
    Corruption("out-of-range number", out_of_range, table="personnel"),
    Corruption("value outside an enum", outside_enum, table="measures"),
    Corruption("duplicate primary key", duplicate_primary_key, table="organisations",
               reaches=referring_to("organisations")),
    Corruption("dangling foreign key", dangling_foreign_key, table="personnel"),
    Corruption("blank required cell", blank_required, table="events"),
    Corruption("extra column", extra_column, table="people"),
    Corruption("missing column", missing_column, table="contacts"),
    Corruption("renamed header", renamed_header, table="statements"),
    Corruption("reordered columns", reordered_columns, table="mentions"),
    Corruption("truncated row", truncated_row, table="measures", reaches=("evidence", "sentences", "claims")),
    Corruption("empty file", empty_file, table="threat_assessments", reaches=("claims", "evidence", "sentences")),
    Corruption("non-UTF-8 bytes", non_utf8, table="statements", reaches=EVERY),
    Corruption("UTF-8 BOM", byte_order_mark, table="organisations"),
    Corruption("CRLF line endings", crlf, table="events"),
    Corruption("leading/trailing spaces", surrounding_spaces, table="people"),
    Corruption("quote no longer matches its span", quote_not_matching_span, table="evidence"),
    Corruption("span past the end of the text", span_past_end, table="evidence"),
    Corruption("count_min > count_max", min_above_max, table="personnel"),
    Corruption("window minimum > maximum", window_min_above_max, table="personnel"),
    Corruption("event dated after publication", dated_after_publication, table="events"),
    Corruption("date precision not matching the value", precision_mismatch, table="events"),
    Corruption("malformed phone number", malformed_phone, table="contacts"),
    Corruption("E.164 not matching the printed number", mismatched_phone, table="contacts"),
    Corruption("emergency flag wrong", wrong_emergency_flag, table="contacts"),
    Corruption("evidence row used by no fact", unused_evidence, table="evidence"),
    Corruption("one number under two contacts", one_number_two_contacts, table="contacts"),
    Corruption("raise recorded down the scale", raise_down_the_scale, table="threat_assessments"),
    Corruption("timeline against a link between events", timeline_against_a_link, table="events"),
    Corruption("part_of cycle", part_of_cycle, table="organisations"),
    Corruption("ID reused across tables", id_reused_across_tables, table="measures", reaches=("claims",)),
    Corruption("ID not following the pattern", bad_id_pattern, table="mentions"),
    Corruption("stale hash", stale_hash, refresh=False, table="events"),
    Corruption("stale byte count", stale_bytes, refresh=False, table="contacts"),
    Corruption("resource type Data Package v2 does not allow", text_resource_type, table=f"bulletin-{ARCHIVED}"),
    Corruption("misspelt header a check of meaning reads", misspelt_header_read_by_a_check_of_meaning,
               table="mentions", reaches=("evidence",)),
    Corruption("annotation quote missing from the source", annotation_quote_missing, step="outputs.publish"),
    Corruption("annotation quote occurring twice", annotation_quote_twice, step="outputs.publish"),
    Corruption("edited archived source", edited_source, step="outputs.publish"),
    Corruption("annotation coding outside an enum", annotation_invalid_coding, step="outputs.publish"),
    Corruption("descriptor constraint the built tables break", descriptor_constraint_broken_by_the_data, step="outputs.publish"),
]


# ---------------------------------------------------------------- the batches

def apart(one: Corruption, other: Corruption) -> bool:
    """Whether two kinds can share a batch: different tables, neither reaching the other's."""
    return one.table != other.table and EVERY not in (one.reaches, other.reaches) \
        and one.table not in other.reaches and other.table not in one.reaches


def draw_batches(corruptions: list[Corruption]) -> list[list[Corruption]]:
    """The checks.validate kinds in batches: each joins the first batch whose kinds are all apart from it."""
    batches: list[list[Corruption]] = []
    for corruption in corruptions:
        if corruption.step != "checks.validate":
            continue
        home = next((b for b in batches if all(apart(corruption, o) for o in b)), None)
        if home is None:
            batches.append([corruption])
        else:
            home.append(corruption)
    return batches


BATCHES = draw_batches(CORRUPTIONS)
BATCH_OF = {c.kind: number for number, batch in enumerate(BATCHES) for c in batch}
# A batch's kinds next to each other: pytest-xdist hands each worker runs of consecutive tests.
IN_BATCH_ORDER = sorted(CORRUPTIONS, key=lambda c: BATCH_OF.get(c.kind, len(BATCHES)))


def snapshot(root: Path) -> dict[str, tuple]:
    """Each resource of the copy: its descriptor entry and its file's bytes."""
    descriptor = json.loads((root / "datapackage.json").read_text(encoding="utf-8"))
    return {r["name"]: (json.dumps(r, sort_keys=True), (root / r["path"]).read_bytes()) for r in descriptor["resources"]}


def validate_batch(batch: list[Corruption], folder: Path) -> dict:
    """A batch's kinds applied to one copy of the package, which is then validated once."""
    root = copy_package(folder / "package")
    needles, altered = {}, {}

    def apply(corruption):
        before = snapshot(root)
        needles[corruption.kind] = corruption.apply(root)
        after = snapshot(root)
        altered[corruption.kind] = sorted(n for n in before.keys() | after.keys() if before.get(n) != after.get(n))
    for corruption in [c for c in batch if c.refresh]:
        apply(corruption)
    if any(c.refresh for c in batch):
        refresh_descriptor(root)
    for corruption in [c for c in batch if not c.refresh]:  # a stale hash or byte count: after the refresh
        apply(corruption)
    result = run_step("checks.validate", root)
    return {"returncode": result.returncode, "stderr": result.stderr, "needles": needles, "altered": altered}


def batch_report(number: int, tmp_path_factory) -> dict:
    """Batch `number`'s validation, run once for the whole test run (conftest's once_per_run: the first
    test of the batch runs it, under pytest-xdist in a folder the workers share), the others read its report."""
    def make(folder: Path) -> None:
        report = validate_batch(BATCHES[number], folder)
        (folder / "report.json").write_text(json.dumps(report), encoding="utf-8")
    folder = once_per_run(tmp_path_factory, f"corruption-batch-{number}", make)
    return json.loads((folder / "report.json").read_text(encoding="utf-8"))


def line_table(line: str) -> str | None:
    """The resource a line of the report is about: the file it names, or the descriptor entry its JSON path
    names (None for the descriptor as a whole)."""
    where = re.match(r"\s*\[\w+\] (\S+?)(?::| row | column )", line)
    if where is None:
        return None
    if where.group(1) == "datapackage.json":
        number = re.search(r"at /resources/(\d+)\b", line)
        return DESCRIPTOR["resources"][int(number.group(1))]["name"] if number else None
    return PATHS.get(where.group(1))


@pytest.fixture
def package(tmp_path):
    """A copy of the published package and its inputs."""
    return copy_package(tmp_path / "package")


def test_the_real_package_is_valid(clean_build):
    """The committed package is valid: its files are, byte for byte, those the run's clean build of the
    same inputs published (conftest's clean_build), and the build publishes only what
    `scripts.checks.validate` (what `make validate` runs) has passed, in its staging folder. (The
    corruptions above are each validated in a copy; test_build.py's `make validate` starts the check
    as a command on a copy of the committed files.)"""
    assert published_files(clean_build) == published_files(ROOT)
    assert (clean_build / "build" / "validated.stamp").exists(), "the clean build recorded no validation"


@pytest.mark.parametrize("corruption", IN_BATCH_ORDER, ids=[c.kind for c in IN_BATCH_ORDER])
def test_corruption_is_rejected(corruption, record_property, tmp_path, tmp_path_factory):
    record_property("corruption_kind", corruption.kind)  # counted in conftest's summary line
    if corruption.step == "checks.validate":
        number = BATCH_OF[corruption.kind]
        batch = BATCHES[number]
        report = batch_report(number, tmp_path_factory)
        assert report["altered"][corruption.kind] == [corruption.table], (
            f"{corruption.kind}: alters {report['altered'][corruption.kind]}, not its table {corruption.table!r}")
        assert report["returncode"] != 0, f"{corruption.kind}: accepted"
        lines = [line for line in report["stderr"].splitlines() if line.startswith("  [")]
        if len(batch) > 1:
            tables = {c.table for c in batch} | {t for c in batch for t in c.reaches}
            strays = [line for line in lines if line_table(line) not in tables]
            assert not strays, (f"batch {number} ({', '.join(c.kind for c in batch)}): the report names what none "
                                f"of its kinds altered or reaches, so its errors cannot be told apart (name the "
                                f"tables a kind's errors reach in its `reaches`):\n" + "\n".join(strays))
        own = [line for line in lines if line_table(line) == corruption.table]
        assert own, f"{corruption.kind}: accepted (no line of the report names {corruption.table}):\n{report['stderr']}"
        for needle in report["needles"][corruption.kind]:
            assert any(needle in line for line in own), \
                f"{corruption.kind}: {needle!r} not in its lines of the report:\n" + "\n".join(own)
        return
    package = copy_package(tmp_path / "package")
    before = published_files(package)
    needles = corruption.apply(package)
    result = run_step(corruption.step, package)
    assert result.returncode != 0, f"{corruption.kind}: accepted"
    for needle in needles:
        assert needle in result.stderr, f"{corruption.kind}: {needle!r} not in report:\n{result.stderr}"
    assert published_files(package) == before, "a failed build changed the published files"


def test_batches_keep_one_kind_per_table_and_alone_kinds_alone():
    """The batching itself: every checks.validate kind in exactly one batch, no two kinds of one table in
    a batch nor one reaching another's table, a kind reaching EVERY table by itself, and fewer
    validations than kinds."""
    kinds = [c.kind for c in CORRUPTIONS if c.step == "checks.validate"]
    assert sorted(c.kind for batch in BATCHES for c in batch) == sorted(kinds)
    assert all(c.table for batch in BATCHES for c in batch)
    for batch in BATCHES:
        assert len({c.table for c in batch}) == len(batch)
        assert all(apart(one, other) for one in batch for other in batch if one is not other)
        assert len(batch) == 1 or not any(c.reaches == EVERY for c in batch)
    assert len(BATCHES) < len(kinds)


def test_a_batch_line_is_told_to_its_table():
    assert line_table("  [frictionless] data/events.csv row 3: foreign-key: ...") == "events"
    assert line_table("  [pandera] data/contacts.csv: column_in_dataframe (value: 'purpose')") == "contacts"
    assert line_table("  [file] data/events.csv row 1: CR line ending") == "events"
    assert line_table(f"  [profile] datapackage.json: at /resources/0/type: 'text'") == DESCRIPTOR["resources"][0]["name"]
    assert line_table("  [frictionless] datapackage.json: package-error: ...") is None


def test_suite_covers_at_least_25_kinds():
    assert len({c.kind for c in CORRUPTIONS}) == len(CORRUPTIONS) >= 25


def test_descriptor_field_is_validated_without_other_edits(package):
    """A constraint added to the descriptor alone is enforced by the Pandera layer."""
    from scripts.checks.validate import pandera_failures, Package

    def tighten(descriptor):
        field = next(f for f in resource(descriptor, "personnel")["schema"]["fields"] if f["name"] == "count_max")
        field["constraints"]["maximum"] = 2000
    edit_descriptor(package, tighten)
    failures = pandera_failures(Package(package))
    assert [(f.file, f.row, f.column, f.rule) for f in failures] == [
        ("data/personnel.csv", 3, "count_max", "maximum(2000): must be <= 2000")]
