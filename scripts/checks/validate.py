"""The validation gate: `frictionless validate`, then Pandera, one report.

The descriptor must pass the official Data Package v2 JSON Schemas (read offline
from the dplib-py wheel). Frictionless checks every table against its schema in
datapackage.json (types, constraints, keys, bytes, hashes). Pandera then checks what a descriptor cannot
say: the Pandera schemas are generated from the same descriptor (a field added
there is checked here with no other edit) and extended with checks of meaning
within and across tables (spans, bounds, dates, phone numbers, foreign keys,
package-wide ID uniqueness). File-level rules come first: UTF-8 without BOM,
LF line endings. Last, where the package's inputs are present, each table must be
what they build (a table edited by hand is named at its first differing rows).

Every failure is printed as one line: layer, file, row, column, rule, value.
Exit status 1 when anything fails.

    python -m scripts.checks.validate [--root DIR]
"""

from __future__ import annotations

import argparse
import csv
import functools
import hashlib
import io
import json
import re
import sys
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import phonenumbers
from phonenumbers import shortnumberinfo

from ..claims import clauses
from ..inputs import rules
from ..common import PAST_MODALITIES, ROOT, BuildError, load_descriptor

REGION = "GB"


@dataclass(frozen=True)
class Failure:
    layer: str  # file, profile, frictionless, pandera, inputs
    file: str
    row: int | None  # CSV row number, header = 1
    column: str | None
    rule: str
    value: str | None = None

    def __str__(self):
        where = self.file + (f" row {self.row}" if self.row else "") + (f" column {self.column}" if self.column else "")
        value = "" if self.value is None else f" (value: {self.value!r})"
        return f"[{self.layer}] {where}: {self.rule}{value}"


# ---------------------------------------------------------------- file level

def file_failures(path: Path, relpath: str) -> list[Failure]:
    """Bytes rules every published CSV follows: UTF-8, no BOM, LF line endings, not empty."""
    data = path.read_bytes()
    failures = []
    if not data.strip():
        return [Failure("file", relpath, None, None, "file is empty")]
    if data.startswith(b"\xef\xbb\xbf"):
        failures.append(Failure("file", relpath, 1, None, "starts with a UTF-8 byte order mark (BOM)"))
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        row = data[: exc.start].count(b"\n") + 1
        failures.append(Failure("file", relpath, row, None, f"not valid UTF-8 at byte {exc.start}",
                                repr(data[exc.start:exc.start + 4])))
    if b"\r" in data:
        failures.append(Failure("file", relpath, data[: data.index(b"\r")].count(b"\n") + 1, None,
                                "CR line ending (CRLF); the package uses LF only"))
    return failures


# ---------------------------------------------------------------- frictionless

def frictionless_failures(root: Path) -> list[Failure]:
    from frictionless import validate

    report = validate(str(root / "datapackage.json"))
    failures = []
    for task in report.tasks:
        for error in task.errors:
            failures.append(Failure("frictionless", task.place or task.name, getattr(error, "row_number", None),
                                    getattr(error, "field_name", None), f"{error.type}: {error.note}",
                                    getattr(error, "cell", None)))
    for error in report.errors:
        failures.append(Failure("frictionless", "datapackage.json", None, None, f"{error.type}: {error.note}"))
    return failures


# ---------------------------------------------------------------- the Data Package v2 profiles

# The official Data Package v2 JSON Schemas (frictionlessdata/datapackage, profiles/target/2.0/), read
# offline from the dplib-py wheel (pinned in requirements-nodeps.txt, installed without its
# dependencies and never imported: its own check fetches the profiles over the network).
# frictionless 5.21 does not apply them: it passes a resource with "type": "text", which v2 forbids.
PROFILE_BASE = "https://datapackage.org/profiles/2.0/"
PROFILE_PACKAGE = "dplib"


def profile_folder() -> Path:
    import importlib.util

    spec = importlib.util.find_spec(PROFILE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise BuildError("requirements-nodeps.txt", "dplib-py is not installed: it holds the Data Package v2 "
                         "profiles the gate checks the descriptor against (run `make`)")
    return Path(next(iter(spec.submodule_search_locations))) / "profiles" / "2.0"


@functools.lru_cache(maxsize=None)
def profile_validator(url: str):
    """A JSON Schema validator for one v2 profile, named by its address (the descriptors' `$schema`)."""
    from jsonschema import Draft7Validator

    if not url.startswith(PROFILE_BASE):
        raise BuildError("datapackage.json", f"unknown profile {url!r}: the package follows {PROFILE_BASE}")
    path = profile_folder() / url[len(PROFILE_BASE):]
    if not path.is_file():
        raise BuildError(path, f"no such Data Package v2 profile (for {url})")
    schema = json.loads(path.read_text(encoding="utf-8"))
    return Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)


def profile_errors(where: str, document, url: str) -> list[Failure]:
    """`document` (at JSON path `where` in the descriptor) against the v2 profile at `url`."""
    try:
        validator = profile_validator(url)
    except BuildError as exc:
        return [Failure("profile", "datapackage.json", None, None, f"at /{where}: {exc.reason}")]
    return [Failure("profile", "datapackage.json", None, None, "at /" + "/".join(
        filter(None, [where, *map(str, error.absolute_path)])) + f": {error.message} (Data Package v2 profile)")
        for error in validator.iter_errors(document)]


def profile_failures(descriptor: dict) -> list[Failure]:
    """The descriptor against the v2 profile it names (the package profile holds the resource and
    Table Schema profiles too). When it fails, each resource and each table schema is checked against
    its own profile as well, whose messages name the exact value (the package profile reports a broken
    field as one long "is not valid under any of the given schemas"). A failure names the JSON path."""
    failures = profile_errors("", descriptor, descriptor.get("$schema") or PROFILE_BASE + "datapackage.json")
    if not failures:
        return []
    inner = []
    for number, res in enumerate(descriptor.get("resources") or []):
        if isinstance(res, dict):
            inner += profile_errors(f"resources/{number}", res, res.get("$schema") or PROFILE_BASE + "dataresource.json")
            if isinstance(res.get("schema"), dict):
                inner += profile_errors(f"resources/{number}/schema", res["schema"],
                                        res["schema"].get("$schema") or PROFILE_BASE + "tableschema.json")
    outside = [f for f in failures if not f.rule.startswith("at /resources/")]
    return list(dict.fromkeys(outside + inner)) if inner or outside else failures


# ---------------------------------------------------------------- pandera schemas from the descriptor

def _iso(kind):
    parse = {"date": date.fromisoformat, "time": time.fromisoformat, "datetime": datetime.fromisoformat}[kind]
    shape = {"date": r"\d{4}-\d{2}-\d{2}", "time": r"\d{2}:\d{2}:\d{2}",
             "datetime": r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:Z|[+-]\d{2}:\d{2})"}[kind]

    def check(value):
        if not re.fullmatch(shape, value):
            return False
        try:
            parse(value)
        except ValueError:
            return False
        return True

    return pa.Check(check, element_wise=True, name=f"iso_{kind}", error=f"iso_{kind}: must be an ISO 8601 {kind}")


def _integer(value):
    return re.fullmatch(r"-?\d+", value) is not None


def _boolean(value):
    return value in ("true", "false")


def field_column(field: dict) -> pa.Column:
    """A Pandera column for one descriptor field. The frame holds strings (read with
    dtype=str); empty cells are None. Values are checked in their declared type."""
    constraints = field.get("constraints", {})
    kind = field["type"]
    checks = [pa.Check(lambda v: v == v.strip(), element_wise=True, name="no_surrounding_spaces",
                       error="no_surrounding_spaces: no leading or trailing spaces")]
    if kind == "integer":
        checks.append(pa.Check(_integer, element_wise=True, name="integer", error="integer: must be an integer"))
        if "minimum" in constraints:
            low = constraints["minimum"]
            checks.append(pa.Check(lambda v, low=low: not _integer(v) or int(v) >= low, element_wise=True,
                                   name=f"minimum({low})", error=f"minimum({low}): must be >= {low}"))
        if "maximum" in constraints:
            high = constraints["maximum"]
            checks.append(pa.Check(lambda v, high=high: not _integer(v) or int(v) <= high, element_wise=True,
                                   name=f"maximum({high})", error=f"maximum({high}): must be <= {high}"))
    elif kind == "boolean":
        checks.append(pa.Check(_boolean, element_wise=True, name="boolean", error="boolean: must be true or false"))
    elif kind in ("date", "time", "datetime"):
        checks.append(_iso(kind))
    if "enum" in constraints:
        allowed = constraints["enum"]
        checks.append(pa.Check(lambda v, a=frozenset(allowed): v in a, element_wise=True, name="enum",
                               error=f"enum: must be one of {allowed}"))
    if "pattern" in constraints:
        pattern = re.compile(constraints["pattern"])
        checks.append(pa.Check(lambda v, p=pattern: p.fullmatch(v) is not None, element_wise=True,
                               name="pattern", error=f"pattern: must match {pattern.pattern}"))
    return pa.Column(None, checks=checks, nullable=not constraints.get("required", False),
                     unique=constraints.get("unique", False), required=True, name=field["name"])


def table_schema(resource: dict, extra_checks: list[pa.Check]) -> pa.DataFrameSchema:
    fields = resource["schema"]["fields"]
    return pa.DataFrameSchema(
        {f["name"]: field_column(f) for f in fields},
        checks=extra_checks, strict=True, ordered=True, unique=resource["schema"].get("primaryKey"),
        name=resource["path"])


# ---------------------------------------------------------------- checks of meaning (need other tables)

ROW_CHECK_COLUMNS: dict[str, tuple[str, ...]] = {}  # a row check's report text -> the columns it is about


def row_check(name: str, error: str, predicate, columns: tuple[str, ...]):
    """A dataframe-level check applied row by row; a failing row is reported once per
    column in `columns` (not once per column of the table)."""
    def check(frame):
        return pd.Series([bool(predicate(row)) for row in rows(frame)], index=frame.index, dtype=bool)
    report = f"{name}: {error}"
    ROW_CHECK_COLUMNS[report] = columns
    return pa.Check(check, name=name, error=report)


def rows(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts; empty cells stay None (iterrows would turn them into NaN). Built from the
    columns' lists: DataFrame.to_dict("records") took a third of the Pandera layer's time."""
    columns = list(frame.columns)
    return [dict(zip(columns, values)) for values in zip(*(frame[c].tolist() for c in columns))]


def _int(value):
    return int(value) if value is not None and _integer(value) else None


class Package:
    """The published package read as strings, plus what the checks of meaning need."""

    def __init__(self, root: Path, descriptor: dict | None = None):
        self.root = root
        self.descriptor = load_descriptor(root) if descriptor is None else descriptor
        self.resources = {r["name"]: r for r in self.descriptor["resources"]}
        self.frames: dict[str, pd.DataFrame] = {}
        for name, res in self.resources.items():
            if res.get("type") != "table":
                continue
            path = root / res["path"]
            try:
                frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
            except (pd.errors.EmptyDataError, UnicodeDecodeError, pd.errors.ParserError, FileNotFoundError):
                continue  # reported at file level or by frictionless
            frame = pd.DataFrame({c: [None if v == "" else v for v in frame[c]] for c in frame.columns},
                                 columns=list(frame.columns), index=frame.index + 2, dtype=object)
            # index = CSV row numbers: the header is row 1
            self.frames[name] = frame
        self.texts = {}
        for src in rows(self.frame("sources")):
            if src.get("path") and src.get("source_id") and (root / src["path"]).exists():
                self.texts[src["source_id"]] = (root / src["path"]).read_bytes().decode("utf-8", "replace")

    def frame(self, name) -> pd.DataFrame:
        return self.frames.get(name, pd.DataFrame())

    def column_values(self, table, column) -> set:
        frame = self.frame(table)
        return set(frame[column].dropna()) if column in frame else set()

    def published(self) -> dict:
        """Source ID -> its publication: the time when the dateline prints one, else the day."""
        out = {}
        for src in rows(self.frame("sources")):
            for column, read in (("published", datetime.fromisoformat), ("published_date", date.fromisoformat)):
                try:
                    out[src.get("source_id")] = read(src.get(column))
                    break
                except (TypeError, ValueError):
                    pass
        return out


def foreign_key_checks(pkg: Package, resource: dict) -> list[pa.Check]:
    checks = []
    for fk in resource["schema"].get("foreignKeys", []):
        (column,), target = fk["fields"], fk["reference"]
        (target_column,) = target["fields"]
        allowed = pkg.column_values(target["resource"] or resource["name"], target_column)
        checks.append(row_check(
            f"foreign_key({column} -> {target['resource']}.{target_column})",
            f"{column} must be a {target_column} of {target['resource']}",
            lambda row, c=column, a=allowed: row.get(c) is None or row.get(c) in a, (column,)))
    return checks


def meaning_checks(pkg: Package) -> dict[str, list[pa.Check]]:
    texts, published = pkg.texts, pkg.published()
    used = set()
    for name, frame in pkg.frames.items():
        if name != "evidence":
            for column in frame.columns:
                if column.endswith("evidence_id"):
                    used |= set(frame[column].dropna())
    quotes = dict(zip(pkg.frame("evidence").get("evidence_id", []), pkg.frame("evidence").get("quote", [])))

    def span_ok(row):
        text, start, end = texts.get(row["source_id"]), _int(row["start"]), _int(row["end"])
        return text is not None and start is not None and end is not None and text[start:end] == row["quote"]

    def in_text(row):
        text, end = texts.get(row["source_id"]), _int(row["end"])
        return text is not None and end is not None and end <= len(text)

    def bounds(low, high):
        return lambda row: _int(row.get(low)) is None or _int(row.get(high)) is None or \
            _int(row[low]) <= _int(row[high])

    def precision_ok(row):
        has = {k: row.get(k) is not None for k in ("date", "time", "part_of_day", "date_end")}
        plain_day = has["date"] and not has["time"] and not has["part_of_day"]
        return {"minute": has["date"] and has["time"] and not has["part_of_day"] and not has["date_end"],
                "part_of_day": has["date"] and has["part_of_day"] and not has["time"] and not has["date_end"],
                "day": plain_day and not has["date_end"],
                "period": plain_day,  # its last day in date_end, when the words give one
                "unknown": not any(has.values())}.get(row.get("date_precision"), False) and \
            (row.get("date_basis") == "not_stated") == (not has["date"])

    def not_after_publication(row):
        """An event told as done (its modality one of the past ones) is not dated after its bulletin; a
        future or possible one may be."""
        when = published.get(row.get("source_id"))
        if when is None or row.get("date") is None or row.get("modality") not in PAST_MODALITIES:
            return True
        try:
            day = date.fromisoformat(row["date"])
            if row.get("time") and row.get("utc_offset") and isinstance(when, datetime):
                return datetime.fromisoformat(f"{row['date']}T{row['time']}{row['utc_offset']}") <= when
        except ValueError:
            return True  # reported by the type check
        return day <= (when.date() if isinstance(when, datetime) else when)

    def e164_agrees(row):
        printed = row.get("number_as_printed") or ""
        try:
            parsed = phonenumbers.parse(printed, REGION)
        except phonenumbers.NumberParseException:
            return False
        if phonenumbers.is_valid_number(parsed):
            return row.get("e164") == phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        return row.get("e164") is None and shortnumberinfo.is_valid_short_number_for_region(parsed, REGION)

    def emergency_agrees(row):
        return (row.get("emergency") == "true") == shortnumberinfo.is_emergency_number(
            row.get("number_as_printed") or "", REGION)

    # The words a claim covers, recomputed from the published tables (as the build computes them).
    claim_tables = clauses.coding_tables({n: [f["name"] for f in r.get("schema", {}).get("fields", [])]
                                          for n, r in pkg.resources.items()})
    covering = clauses.covering_spans({n: rows(f) for n, f in pkg.frames.items()}, claim_tables)

    def words_covered_ok(row):
        text, start, end = texts.get(row.get("source_id")), _int(row.get("start")), _int(row.get("end"))
        if text is None or start is None or end is None:
            return True  # reported by the span checks
        words = [(start + a, start + b) for a, b in clauses.words(text[start:end])]
        flags = clauses.inside(words, covering.get(row.get("source_id"), []))
        return _int(row.get("words")) == len(words) and _int(row.get("words_covered")) == sum(flags)

    tables_of = {}
    for name, frame in pkg.frames.items():
        key = pkg.resources[name].get("schema", {}).get("primaryKey", [])
        if name != "claims" and len(key) == 1 and key[0] in frame:
            tables_of.update({value: name for value in frame[key[0]].dropna()})

    all_ids = set()
    for name, frame in pkg.frames.items():
        key = pkg.resources[name].get("schema", {}).get("primaryKey", [])
        if len(key) == 1 and key[0] in frame:
            all_ids |= set(frame[key[0]].dropna())
    all_ids |= pkg.column_values("retired_ids", "retired_id")

    ranks = sorted(_int(r) or 0 for r in pkg.frame("threat_levels").get("rank", []))

    # One corpus: a number is one contact, a change of level moves along the scale, the one timeline keeps
    # every link between events, and part_of never comes back to where it started.
    contacts = rows(pkg.frame("contacts"))
    numbers = [c.get("e164") or f"{REGION}:{c.get('number_as_printed')}" for c in contacts]

    def one_contact_per_number(row):
        return numbers.count(row.get("e164") or f"{REGION}:{row.get('number_as_printed')}") == 1

    level_rank = dict(zip(pkg.frame("threat_levels").get("level_id", []), pkg.frame("threat_levels").get("rank", [])))
    events = {r["event_id"]: r for r in rows(pkg.frame("events"))}

    def change_moves(row):
        event, before, after = events.get(row.get("event_id")), row.get("from_level_id"), row.get("level_id")
        step = {"threat_level_raised": 1, "threat_level_lowered": -1}.get((event or {}).get("event_type"))
        if not before or not step or before not in level_rank or after not in level_rank:
            return True  # no change recorded, or reported by the keys
        return (_int(level_rank[after]) - _int(level_rank[before])) * step > 0

    def timeline_keeps_links(row):
        place = _int(row.get("timeline"))
        earlier, later = events.get(row.get("date_earliest_event_id")), events.get(row.get("date_latest_event_id"))
        return place is None or ((earlier is None or (_int(earlier.get("timeline")) or 0) < place)
                                 and (later is None or place < (_int(later.get("timeline")) or 0)))

    parents = dict(zip(pkg.frame("organisations").get("organisation_id", []),
                       pkg.frame("organisations").get("part_of_organisation_id", [])))

    def part_of_no_cycle(row):
        seen, node = set(), row.get("organisation_id")
        while node is not None and not (isinstance(node, float) and node != node):
            if node in seen:
                return False
            seen.add(node)
            node = parents.get(node)
            node = None if node in ("", None) else node
        return True

    return {
        "evidence": [
            row_check("span_matches_text", "quote must equal the archived text at [start, end)", span_ok,
                      ("quote",)),
            row_check("span_within_text", "end must not be past the end of the archived text", in_text, ("end",)),
            row_check("start_before_end", "start must be before end", bounds("start", "end"), ("start",)),
            row_check("evidence_used", "every evidence row must be used by a fact row",
                      lambda row: row["evidence_id"] in used, ("evidence_id",)),
        ],
        "events": [
            row_check("precision_matches_value", "date_precision/date_basis must match the date, time and "
                      "part_of_day given", precision_ok, ("date_precision",)),
            row_check("not_after_publication", "an event told as done cannot be dated after its source's publication",
                      not_after_publication, ("date",)),
            row_check("timeline_keeps_links", "timeline must place the event after date_earliest_event_id and "
                      "before date_latest_event_id", timeline_keeps_links, ("timeline",)),
        ],
        "threat_assessments": [
            row_check("change_moves_along_the_scale", "a raise moves up the scale from from_level_id to level_id, "
                      "a lowering down", change_moves, ("from_level_id",)),
        ],
        "organisations": [
            row_check("part_of_no_cycle", "part_of_organisation_id never leads back to the organisation",
                      part_of_no_cycle, ("part_of_organisation_id",)),
        ],
        "contacts": [
            row_check("e164_matches_printed", "e164 must be the printed number as parsed by phonenumbers "
                      "(empty only for a valid short number)", e164_agrees, ("e164",)),
            row_check("emergency_flag", "emergency must say whether phonenumbers knows the number as an "
                      "emergency number", emergency_agrees, ("emergency",)),
            row_check("one_contact_per_number", "a number is one contact: no other row has its E.164 number (or, "
                      "for a short number, its digits)", one_contact_per_number, ("e164",)),
        ],
        "threat_levels": [pa.Check(lambda frame: ranks == list(range(1, len(ranks) + 1)),
                                   name="ordered_scale", error="ordered_scale: ranks must run 1..n without gaps")],
        "retired_ids": [
            row_check("replacements_exist", "every replacement ID must be a row of this version or a retired ID",
                      lambda row: all(i in all_ids for i in (row.get("replacement_ids") or "").split()),
                      ("replacement_ids",)),
        ],
        "sentences": [
            row_check("span_matches_text", "text must equal the archived text at [start, end)",
                      lambda row: span_ok({**row, "quote": row.get("text")}), ("text",)),
            row_check("words_covered_by_claims", "words and words_covered must be the sentence's words and those "
                      "lying in a claim's words (recounted from the published tables)", words_covered_ok,
                      ("words_covered",)),
        ],
        "claims": [row_check("claim_is_a_row", "claim_id must be a row of table claim_type",
                             lambda row: tables_of.get(row.get("claim_id")) == row.get("claim_type"), ("claim_id",))],
        "mentions": [row_check("one_entity", "exactly one of person_id, organisation_id and contact_id must be set",
                               lambda row: [row.get(k) is None for k in ("person_id", "organisation_id",
                                                                         "contact_id")].count(False) == 1,
                               ("person_id", "organisation_id", "contact_id"))],
    }


def rule_checks(pkg: Package) -> dict[str, list[pa.Check]]:
    """Every row rule the descriptor declares (stated once in schema/package.yaml, and checked on
    the curator's input by the build): the formula on each published row, its cells typed by their
    fields."""
    quotes = dict(zip(pkg.frame("evidence").get("evidence_id", []), pkg.frame("evidence").get("quote", [])))
    checks: dict[str, list[pa.Check]] = {}
    for name, declared in rules.rules_of(list(pkg.resources.values())).items():
        fields = pkg.resources[name].get("schema", {}).get("fields", [])
        types = {f["name"]: f.get("type", "string") for f in fields}
        for rule in declared:
            def ok(row, r=rule, t=types):
                return rules.holds(r, {k: rules.typed(v, t.get(k, "string")) for k, v in row.items()}, quotes)
            checks.setdefault(name, []).append(row_check(
                f"rule({rule.name})", rule.message, ok, rule.columns(list(types))))  # the formula: the descriptor
    return checks


def printed_checks(pkg: Package) -> dict[str, list[pa.Check]]:
    """A field marked `printed: <evidence column>` in the descriptor holds words of the bulletin:
    its value must stand in the quote of that evidence row (derived, never listed by hand)."""
    quotes = dict(zip(pkg.frame("evidence").get("evidence_id", []), pkg.frame("evidence").get("quote", [])))
    checks: dict[str, list[pa.Check]] = {}
    for name, res in pkg.resources.items():
        for field in res.get("schema", {}).get("fields", []):
            evidence_column = field.get("printed")
            if evidence_column:
                column = field["name"]
                checks.setdefault(name, []).append(row_check(
                    f"printed_in_evidence({column} in {evidence_column})",
                    f"{column} must stand in the quote of {evidence_column} (it is the bulletin's words)",
                    lambda row, c=column, e=evidence_column: row.get(c) is None or row.get(e) is None
                    or row[c] in (quotes.get(row.get(e)) or ""), (column,)))
    return checks


def package_id_failures(pkg: Package) -> list[Failure]:
    """IDs are unique across the whole package, not just within a table."""
    seen: dict[str, str] = {}
    failures = []
    for name, res in pkg.resources.items():
        key = res.get("schema", {}).get("primaryKey", [])
        if len(key) != 1 or name not in pkg.frames or key[0] not in pkg.frames[name] or name == "claims":
            continue  # claims indexes the fact kinds' rows by their own IDs
        for row, value in pkg.frames[name][key[0]].dropna().items():
            if value in seen and seen[value] != name:
                failures.append(Failure("pandera", res["path"], row, key[0],
                                        f"ID also used in {seen[value]}: IDs must be unique across the package", value))
            seen.setdefault(value, name)
    return failures


def pandera_failures(pkg: Package) -> list[Failure]:
    extra = meaning_checks(pkg)
    for name, checks in [*printed_checks(pkg).items(), *rule_checks(pkg).items()]:
        extra[name] = extra.get(name, []) + checks
    failures = []
    for name, frame in pkg.frames.items():
        res = pkg.resources[name]
        schema = table_schema(res, extra.get(name, []) + foreign_key_checks(pkg, res))
        try:
            schema.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as exc:
            for _, case in exc.failure_cases.iterrows():
                index = case.get("index")
                row = int(index) if pd.notna(index) else None
                column = case.get("column") if isinstance(case.get("column"), str) else None
                if column == res["path"]:
                    column = None
                about = ROW_CHECK_COLUMNS.get(str(case.get("check")))
                if about is not None and column not in about:
                    continue  # a row check is reported on the columns it is about, not on every column
                value = case.get("failure_case")
                failures.append(Failure("pandera", res["path"], row, column, str(case.get("check")),
                                        None if value is None or (isinstance(value, float) and pd.isna(value))
                                        else str(value)))
    return list(dict.fromkeys(failures)) + package_id_failures(pkg)


# ---------------------------------------------------------------- the gate

def archived_source_failures(pkg: Package) -> list[Failure]:
    failures = []
    sources = pkg.frame("sources")
    for row, src in zip(sources.index, rows(sources)):
        if src.get("path") and src.get("sha256"):
            path = pkg.root / src["path"]
            if not path.exists():
                failures.append(Failure("file", src["path"], None, None, "archived text not found"))
            elif hashlib.sha256(path.read_bytes()).hexdigest() != src["sha256"]:
                failures.append(Failure("file", "data/sources.csv", row, "sha256",
                                        f"archived text {src['path']} no longer has this SHA-256", src["sha256"]))
    return failures


def inputs_failures(root: Path, descriptor: dict) -> list[Failure]:
    """The published tables are generated: each must be byte for byte what the package's inputs
    (data/raw/, data/reference/, schema/package.yaml) build. A table edited by hand is reported
    at its first differing rows. Skipped where the inputs are absent (a staged copy)."""
    from ..claims import extract
    from ..common import csv_bytes

    if not (root / "schema" / "package.yaml").exists() or not (root / "data" / "raw").is_dir():
        return []
    try:
        result = extract.build(root)
    except BuildError as exc:
        return [Failure("inputs", "data/raw", None, None, f"the inputs do not build: {exc}")]
    failures = []
    for res in descriptor.get("resources", []):
        name = res.get("name")
        if res.get("type") != "table" or name not in result["fields"] or not (root / res["path"]).exists():
            continue
        expected = csv_bytes(result["fields"][name], result["rows"][name])
        published = (root / res["path"]).read_bytes()
        if published == expected:
            continue
        want = list(csv.reader(io.StringIO(expected.decode("utf-8"))))
        have = list(csv.reader(io.StringIO(published.decode("utf-8", "replace"))))
        rule = "differs from what the inputs build (tables are generated: edit the annotations and run make)"
        found = 0
        for number in range(1, max(len(want), len(have)) + 1):
            a = want[number - 1] if number <= len(want) else None
            b = have[number - 1] if number <= len(have) else None
            if a == b:
                continue
            header = want[0] if want else []
            column = next((header[i] if i < len(header) else None for i in range(max(len(a or []), len(b or [])))
                           if (a or [None] * (i + 1))[i:i + 1] != (b or [None] * (i + 1))[i:i + 1]), None)
            value = None if b is None else (b[header.index(column)] if column in header and header.index(column) < len(b) else ",".join(b))
            failures.append(Failure("inputs", res["path"], number, column, rule if a is not None else
                                    "a row the inputs do not build", value))
            found += 1
            if found == 3:
                break
        if not found:  # same cells, different bytes (quoting, line endings)
            failures.append(Failure("inputs", res["path"], None, None, rule + "; the bytes differ"))
    return failures


def validate(root: Path = ROOT) -> list[Failure]:
    root = Path(root)
    try:
        descriptor = load_descriptor(root)
    except BuildError as exc:
        return [Failure("file", "datapackage.json", exc.line, None, f"cannot read the descriptor: {exc.reason}")]
    failures = []
    for res in descriptor.get("resources", []):
        if res.get("type") == "table":
            path = root / res["path"]
            if path.exists():
                failures += file_failures(path, res["path"])
    failures += profile_failures(descriptor)
    failures += frictionless_failures(root)
    pkg = Package(root, descriptor)
    failures += archived_source_failures(pkg)
    failures += pandera_failures(pkg)
    failures += inputs_failures(root, descriptor)
    return failures


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="package folder (holds datapackage.json)")
    args = parser.parse_args(argv)
    failures = validate(args.root)
    if failures:
        print(f"validate: {len(failures)} failure(s) in {args.root}", file=sys.stderr)
        for failure in failures:
            print(f"  {failure}", file=sys.stderr)
        sys.exit(1)
    print(f"validate: {args.root / 'datapackage.json'} valid (frictionless + pandera)")


if __name__ == "__main__":
    main()
