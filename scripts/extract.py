"""Step 1 of the flow: archived bulletins + curated annotations -> data/*.csv.

For every bulletin folder under data/raw/ (source.txt, metadata.yaml,
annotations.yaml) it checks the archived bytes against the recorded hash,
finds each annotated quote exactly once, derives typed values from the quoted
words (scripts/derive.py), checks that every fact-bearing token of the text is
covered by some evidence span (scripts/coverage.py), and only then writes the
tables, each to a temporary file renamed into place.

    python -m scripts.extract [--root DIR]

The root (default: this repository) holds schema/package.yaml, data/raw/ and
data/reference/; the tables are written to its data/. Run alone, this step is
for inspecting or benchmarking extraction: `make` publishes through
scripts/publish.py, which validates the tables before they replace data/.
"""

from __future__ import annotations

import argparse
import hashlib
from datetime import date, datetime, timedelta
from pathlib import Path

from . import coverage, derive, input_models, yaml_input
from .common import ROOT, BuildError, atomic_write_bytes, csv_bytes, fail, field_names, line_of, package_spec
from .yaml_input import InputErrors

def slug(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


class Bulletin:
    """One folder of inputs: the verbatim text, its metadata and its annotations."""

    def __init__(self, folder: Path, spec: dict | None = None):
        self.folder = Path(folder)
        self.source_path = self.folder / "source.txt"
        self.annotations_path = self.folder / "annotations.yaml"
        self.metadata_path = self.folder / "metadata.yaml"
        # Both hand-written files are read and checked against their models first, and every
        # problem of both is reported at once (file, line, key path).
        problems = []
        meta = annotations = None
        for path, kind in ((self.metadata_path, "metadata"), (self.annotations_path, "annotations")):
            try:
                loaded = yaml_input.load(path, with_lines=True)
            except InputErrors as errors:
                problems += errors.problems
                continue
            model = ANNOTATIONS if kind == "annotations" else kind
            found = input_models.check(model, loaded, path, spec)
            if not found and kind == "annotations":
                found = input_models.cross_check(ANNOTATIONS, loaded, path)
            problems += found
            if kind == "metadata":
                meta = loaded.data
            else:
                annotations = loaded.data
        if problems:
            raise InputErrors(problems)
        self.meta = meta
        self.annotations = annotations
        self.source_id = self.meta["source_id"]
        self.published_at = datetime.fromisoformat(self.meta["published"])
        try:
            raw = self.source_path.read_bytes()
        except FileNotFoundError:
            raise BuildError(self.source_path, "archived text not found") from None
        digest = hashlib.sha256(raw).hexdigest()
        if digest != self.meta["sha256"]:
            raise BuildError(self.source_path, f"archived text changed: its SHA-256 is {digest}, "
                             f"metadata.yaml records {self.meta['sha256']}. The archive is never "
                             "rewritten; restore the original bytes")
        try:
            self.text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BuildError(self.source_path, f"not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
        self.published = None  # set from the dateline

    def relpath(self, root: Path) -> str:
        try:
            return self.source_path.relative_to(root).as_posix()
        except ValueError:
            return self.source_path.as_posix()

    def entries(self, section: str) -> list[dict]:
        """The entries of one section (checked against its model when the file was read)."""
        value = self.annotations[section]
        return [value] if input_models.one_entry(SECTION_MODELS.get(section)) else value


class Tables:
    """Rows of every table, plus the evidence spans, filled bulletin by bulletin."""

    def __init__(self, spec: dict):
        self.fields = field_names(spec)
        self.rows = {name: [] for name in self.fields}
        self.ids: dict[str, str] = {}  # every primary key in the package -> its table
        self.evidence: dict[tuple, str] = {}

    def add(self, table: str, row: dict, origin: tuple[Path, int | None]) -> dict:
        key = row[self.fields[table][0]]
        if key in self.ids:
            raise BuildError(origin[0], f"ID {key!r} is used twice (already in {self.ids[key]})", origin[1])
        self.ids[key] = table
        self.rows[table].append(row)
        return row


def locate(bulletin: Bulletin, tables: Tables, quote, line) -> str:
    """Find `quote` exactly once in the bulletin; return its evidence ID (shared by equal spans)."""
    path = bulletin.annotations_path
    if not isinstance(quote, str) or not quote:
        raise BuildError(path, "quote must be a non-empty string", line)
    first = bulletin.text.find(quote)
    if first < 0:
        raise BuildError(path, f"quote not found in {bulletin.source_path.name}: {quote!r}", line)
    second = bulletin.text.find(quote, first + 1)
    if second >= 0:
        raise BuildError(path, f"quote found more than once in {bulletin.source_path.name} "
                         f"(at characters {first} and {second}); quote more words to make it unique: {quote!r}", line)
    span = (bulletin.source_id, first, first + len(quote))
    if span not in tables.evidence:
        evidence_id = f"{bulletin.source_id}-{first}-{first + len(quote)}"
        tables.evidence[span] = evidence_id
        tables.rows["evidence"].append({"evidence_id": evidence_id, "source_id": bulletin.source_id,
                                        "start": first, "end": first + len(quote), "quote": quote})
    return tables.evidence[span]


def derived(bulletin: Bulletin, line, func, *args):
    """Call a derive.* function; a ValueError becomes an error naming the annotation line."""
    try:
        return func(*args)
    except ValueError as exc:
        raise BuildError(bulletin.annotations_path, str(exc), line) from None


def add_reference(tables: Tables, reference_dir: Path, spec: dict | None = None) -> list[str]:
    """The threat-level scale: the only outside fact. Returns the ordered level names."""
    path = reference_dir / "uk-threat-levels.yaml"
    loaded = yaml_input.load(path, with_lines=True)
    problems = input_models.check("reference", loaded, path, spec)
    if problems:
        raise InputErrors(problems)
    ref = loaded.data
    tables.add("sources", {"source_id": ref["source_id"], "source_kind": "reference",
                           "publisher": ref["publisher"], "title": ref["title"], "url": ref["url"],
                           "rights": ref["rights"]}, (path, None))
    for rank, level in enumerate(ref["levels"], start=1):
        tables.add("threat_levels", {"level_id": level, "rank": rank, "source_id": ref["source_id"]},
                   (path, loaded.line(("levels", rank - 1))))
    return list(ref["levels"])


class Context:
    """What a section function needs: the bulletin, the tables, the threat-level scale, the
    package root, and what earlier sections of the same bulletin produced (e.g. its events)."""

    def __init__(self, bulletin: Bulletin, tables: Tables, levels: list[str], root: Path):
        self.b, self.tables, self.levels, self.root = bulletin, tables, levels, root
        self.sid, self.path = bulletin.source_id, bulletin.annotations_path
        self.events: dict[str, dict] = {}

    def ev(self, entry: dict, key: str = "quote") -> str:
        """The evidence ID of the quote under `key`, located exactly once in the text."""
        return locate(self.b, self.tables, entry.get(key), line_of(entry, key))

    def add(self, table: str, row: dict, line) -> dict:
        return self.tables.add(table, {"source_id": self.sid, **row}, (self.path, line))

    def derived(self, entry: dict, func, *args, key: str = "quote"):
        return derived(self.b, line_of(entry, key), func, *args)

    def error(self, reason: str, line) -> BuildError:
        return BuildError(self.path, reason, line)

    def mention(self, evidence_id, line, person=None, organisation=None) -> None:
        self.add("mentions", {"mention_id": f"{evidence_id}-{person or organisation}", "evidence_id": evidence_id,
                              "person_id": person, "organisation_id": organisation}, line)

    def event_id(self, key, line) -> str:
        if key not in self.events:
            raise self.error(f"event {key!r} is not an event of this bulletin", line)
        return self.events[key]["event_id"]


# The one registry of annotation sections, in the order they are read: section name -> the
# function that turns that section's entries into rows, and the pydantic model of one entry
# (scripts/input_models.py) that checks the curator's input before any row is built. A new kind
# of fact is a schema entry in schema/package.yaml, one function registered here with its model,
# and its tests.
SECTIONS: dict = {}
SECTION_MODELS: dict = {}


def section(name: str, model=None):
    def register(func):
        SECTIONS[name] = func
        SECTION_MODELS[name] = model
        return func
    return register


@section("source", input_models.Source)
def add_source(c: Context, entries: list[dict]) -> None:
    """The source: title and dateline must be printed in the text and agree with metadata.yaml."""
    b, head = c.b, entries[0]
    title_ev = c.ev(head, "title")
    dateline = c.derived(head, derive.parse_dateline, head["dateline"], key="dateline")
    c.ev(head, "dateline")
    for key, found in (("title", head["title"]), ("category", dateline.category),
                       ("published", dateline.published.isoformat())):
        if str(b.meta[key]) != found:
            raise BuildError(b.metadata_path, f"{key}: {b.meta[key]!r} disagrees with the "
                             f"bulletin's own words ({found!r})", line_of(b.meta, key))
    b.published = dateline.published
    c.tables.add("sources", {
        "source_id": c.sid, "source_kind": "bulletin", "publisher": b.meta["publisher"],
        "title": head["title"], "category": dateline.category, "published": dateline.published.isoformat(),
        "language": b.meta.get("language"), "path": b.relpath(c.root), "sha256": b.meta["sha256"],
        "characters": len(b.text), "url": b.meta.get("url"), "title_evidence_id": title_ev,
        "rights": " ".join(str(b.meta["rights"]).split())}, (b.metadata_path, line_of(b.meta, "source_id")))


@section("organisations", input_models.Organisation)
def add_organisations(c: Context, entries: list[dict]) -> None:
    for e in entries:
        line = e["__line__"]
        evidence_id = c.ev(e)
        name, abbreviation = c.derived(e, derive.organisation, e["quote"], e.get("name"))
        if c.tables.ids.get(e["id"]) != "organisations":  # first bulletin to name it defines it
            c.add("organisations", {"organisation_id": e["id"], "name": name, "abbreviation": abbreviation,
                                    "kind": e["kind"], "evidence_id": evidence_id}, line)
        c.mention(evidence_id, line, organisation=e["id"])


@section("people", input_models.Person)
def add_people(c: Context, entries: list[dict]) -> None:
    for e in entries:
        line = e["__line__"]
        evidence_id = c.ev(e)
        who = c.derived(e, derive.person, e["quote"])
        if c.tables.ids.get(e["id"]) != "people":
            c.add("people", {"person_id": e["id"], "name": who.name, "rank": who.rank, "role": who.role,
                             "organisation_id": e.get("organisation"), "evidence_id": evidence_id}, line)
        c.mention(evidence_id, line, person=e["id"])


@section("mentions", input_models.Mention)
def add_mentions(c: Context, entries: list[dict]) -> None:
    for e in entries:
        line = e["__line__"]
        if bool(e.get("person")) == bool(e.get("organisation")):
            raise c.error("a mention names exactly one of person and organisation", line)
        c.mention(c.ev(e), line, person=e.get("person"), organisation=e.get("organisation"))


def event_date(c: Context, e: dict) -> dict:
    """The date columns of an event, from how its annotation says the date is given."""
    how, line = e["date"], e["__line__"]
    if how == "dateline":
        stated = c.derived(e, derive.parse_dateline, e["quote"]).published
        offset = stated.strftime("%z")
        return dict(date=stated.date().isoformat(), time=stated.strftime("%H:%M:%S"),
                    utc_offset=f"{offset[:3]}:{offset[3:]}", date_precision="minute", date_basis="stated",
                    date_rule="printed in the bulletin's dateline")
    if how == "day_phrase":
        phrase = c.derived(e, derive.resolve_day_phrase, e["quote"], c.b.published.date())
        return dict(date=phrase.date.isoformat(), part_of_day=phrase.part_of_day,
                    date_precision="part_of_day" if phrase.part_of_day else "day",
                    date_basis="inferred", date_rule=phrase.rule)
    if how == "days_into":
        anchor = c.events.get(e.get("anchor"))
        if not anchor or not anchor["date"]:
            raise c.error(f"anchor {e.get('anchor')!r} must be an earlier event with a date", line)
        days = c.derived(e, derive.days_into, e["quote"])
        return dict(date=(date.fromisoformat(anchor["date"]) + timedelta(days=days)).isoformat(),
                    date_precision="day", date_basis="inferred",
                    date_rule=f"{days} day(s) after the date of {anchor['event_id']} ({anchor['date']})")
    if how == "not_stated":
        return dict(date_rule="the bulletin does not give a date")
    raise c.error(f"date must be one of dateline, day_phrase, days_into, not_stated; got {how!r}", line)


@section("events", input_models.Event)
def add_events(c: Context, entries: list[dict]) -> None:
    for e in sorted(entries, key=lambda item: item["sequence"]):
        row = {"event_id": f"{c.sid}-{e['id']}", "evidence_id": c.ev(e), "sequence": e["sequence"],
               "event_type": e["event_type"], "description": e["description"], "date": None, "time": None,
               "utc_offset": None, "date_precision": "unknown", "part_of_day": None,
               "date_basis": "not_stated", "date_rule": None, "date_latest": None, "date_latest_event_id": None}
        row.update(event_date(c, e))
        c.events[e["id"]] = row
    for e in entries:  # bounds refer to later events, so they are filled in afterwards
        if e.get("latest"):
            bound = c.events.get(e["latest"])
            if bound is None or not bound["date"] or bound["sequence"] <= e["sequence"]:
                raise c.error(f"latest {e['latest']!r} must be a later event in this file with a date",
                              e["__line__"])
            c.events[e["id"]].update(date_latest=bound["date"], date_latest_event_id=bound["event_id"])
        c.add("events", c.events[e["id"]], e["__line__"])


@section("threat_assessments", input_models.ThreatAssessment)
def add_threat_assessments(c: Context, entries: list[dict]) -> None:
    for e in entries:
        line = e["__line__"]
        c.add("threat_assessments", {
            "assessment_id": f"{c.sid}-{e['id']}", "evidence_id": c.ev(e),
            "level_id": c.derived(e, derive.threat_level, e["quote"], c.levels),
            "assessed_by": e["assessed_by"], "event_id": c.event_id(e["event"], line),
            "meaning": e["meaning_quote"], "meaning_evidence_id": c.ev(e, "meaning_quote")}, line)


@section("personnel", input_models.Personnel)
def add_personnel(c: Context, entries: list[dict]) -> None:
    for e in entries:
        line = e["__line__"]
        if e["role"] not in e["quote"]:
            raise c.error(f"role {e['role']!r} is not in the quote", line)
        count = c.derived(e, derive.headcount, e["quote"])
        window = c.derived(e, derive.window_hours, e["quote"]) or (None, None)
        c.add("personnel", {
            "personnel_id": f"{c.sid}-{e['id']}", "evidence_id": c.ev(e), "force": e["force"],
            "role": e["role"], "qualifier": count.qualifier, "count_min": count.low, "count_max": count.high,
            "status": e["status"], "purpose": e["purpose"], "window_min_hours": window[0],
            "window_max_hours": window[1], "organisation_id": e["organisation"],
            "event_id": c.event_id(e["event"], line)}, line)


@section("contacts", input_models.Contact)
def add_contacts(c: Context, entries: list[dict]) -> None:
    for e in entries:
        number = c.derived(e, derive.phone, e["quote"])
        c.add("contacts", {
            "contact_id": f"{c.sid}-{e['id']}", "evidence_id": c.ev(e),
            "number_as_printed": number.as_printed, "e164": number.e164, "number_type": number.number_type,
            "emergency": number.emergency, "confidential": bool(e["confidential"]), "purpose": e["purpose"],
            "organisation_id": e.get("organisation")}, e["__line__"])


@section("statements", input_models.Statement)
def add_statements(c: Context, entries: list[dict]) -> None:
    paragraphs: dict[str, int] = {}
    for e in entries:
        paragraphs[e["speaker"]] = paragraphs.get(e["speaker"], 0) + 1
        c.add("statements", {
            "statement_id": f"{c.sid}-{e['id']}", "evidence_id": c.ev(e), "person_id": e["speaker"],
            "attribution_evidence_id": c.ev(e, "attribution_quote"),
            "paragraph": paragraphs[e["speaker"]], "text": e["quote"].strip("“”\"‘’ ")}, e["__line__"])


@section("measures", input_models.Measure)
def add_measures(c: Context, entries: list[dict]) -> None:
    for e in entries:
        line = e["__line__"]
        evidence_id = c.ev(e)
        for place in e["places"]:
            if place not in e["quote"]:
                raise c.error(f"place {place!r} is not in the quote", line)
            c.add("measures", {
                "measure_id": f"{c.sid}-{e['id']}-{slug(place)}", "evidence_id": evidence_id,
                "measure_type": e["measure_type"], "place_type": place, "status": e["status"],
                "actor_organisation_id": e["actor"]}, line)


def add_bulletin(b: Bulletin, tables: Tables, levels: list[str], root: Path) -> None:
    """Every row the bulletin's annotations state, added to `tables`, section by section."""
    context = Context(b, tables, levels, root)
    for name, add_section in SECTIONS.items():
        add_section(context, b.entries(name))


# The model of a whole annotations.yaml, and the keys each section allows and requires (for the
# drafting aid), all from the registry above.
ANNOTATIONS = input_models.annotations_model(SECTION_MODELS)
SECTION_KEYS, REQUIRED_KEYS = input_models.section_keys(SECTION_MODELS)


def discover(raw_dir: Path) -> list[Path]:
    """Every bulletin folder (one holding source.txt) under `raw_dir`, in name order."""
    return sorted((p.parent for p in Path(raw_dir).glob("*/source.txt")), key=lambda p: p.name)


def build(root: Path = ROOT) -> dict:
    """All tables' rows for the package at `root`, checked; raises BuildError."""
    root = Path(root)
    spec = package_spec(root)
    tables = Tables(spec)
    # Every hand-written file is read and checked before anything is built from it, and the
    # problems of all of them are reported together.
    problems = []
    try:
        levels = add_reference(tables, root / "data" / "reference", spec)
    except InputErrors as errors:
        problems += errors.problems
    folders = discover(root / "data" / "raw")
    if not folders:
        raise BuildError(root / "data" / "raw", "no bulletin folders (with source.txt) found")
    readable = []
    for folder in folders:
        try:
            readable.append(Bulletin(folder, spec))
        except InputErrors as errors:
            problems += errors.problems
    if problems:
        raise InputErrors(problems)
    # Oldest first, so that the bulletin that first named an organisation or a person defines its
    # row, whatever its folder is called; the folder name breaks ties.
    bulletins = sorted(readable, key=lambda b: (b.published_at, b.folder.name))
    for bulletin in bulletins:
        add_bulletin(bulletin, tables, levels, root)
    tables.rows["evidence"].sort(key=lambda r: (r["source_id"], r["start"], r["end"]))
    spans = coverage.used_spans(tables.rows)
    for bulletin in bulletins:
        coverage.check(bulletin, spans.get(bulletin.source_id, []), levels)
    return {"fields": tables.fields, "rows": tables.rows}


def write(result: dict, out_dir: Path) -> None:
    """Render every table first, then rename each into place: a failure leaves the old files."""
    rendered = {name: csv_bytes(fields, result["rows"][name]) for name, fields in result["fields"].items()}
    for name, data in rendered.items():
        atomic_write_bytes(Path(out_dir) / f"{name}.csv", data)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="package folder (default: this repository)")
    args = parser.parse_args(argv)
    try:
        result = build(args.root)
        write(result, args.root / "data")
    except BuildError as error:
        fail(error)
    counts = ", ".join(f"{name} {len(rows)}" for name, rows in result["rows"].items())
    print(f"extract: wrote {len(result['rows'])} tables ({counts})")


if __name__ == "__main__":
    main()
