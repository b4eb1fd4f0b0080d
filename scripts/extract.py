"""Step 1 of the flow: archived bulletins + curated annotations -> data/*.csv.

First it reads every hand-written YAML input strictly (scripts/yaml_input.py)
and checks it against its model (scripts/input_models.py; each annotation
section's model is registered below with the function that builds its rows),
reporting every problem of every file at once as file:line: key.path: what.
Then, for every bulletin folder under data/raw/ (source.txt, metadata.yaml,
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
import csv
import hashlib
import re
from datetime import date, datetime, timedelta
from pathlib import Path

from . import coverage, derive, input_models, recognise, sentences, yaml_input
from .common import (ROOT, BuildError, atomic_write_bytes, csv_bytes, fail, field_names, line_of,
                     package_spec)
from .yaml_input import InputErrors, Problem

# A sentence may be excused from coding only when it states no fact; a bulletin with more
# excuses than this is being excused rather than coded.
MAX_UNCODED = 3

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
                self.annotation_lines = loaded.lines  # key path -> line, to name the key of a later error
        if problems:
            raise InputErrors(problems)
        self.meta = meta
        self.annotations = annotations
        self.source_id = self.meta["source_id"]
        # Every ID of the bulletin's rows starts with its source_id: a slip in it (a look-alike
        # 'l' for '1') would silently rename them all. The folder name states it a second time.
        if not (self.folder.name == self.source_id or self.folder.name.startswith(self.source_id + "-")):
            raise BuildError(self.metadata_path, f"source_id {self.source_id!r} is not the start of the "
                             f"bulletin's folder name {self.folder.name!r} (data/raw/<source_id>-<slug>/)",
                             line_of(self.meta, "source_id"))
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
        self.excuses: dict[int, tuple[str, int]] = {}  # sentence start -> (reason, annotation line)

    def relpath(self, root: Path) -> str:
        try:
            return self.source_path.relative_to(root).as_posix()
        except ValueError:
            return self.source_path.as_posix()

    def entries(self, section: str) -> list[dict]:
        """The entries of one section (checked against its model when the file was read; a
        computed section such as mentions may be left out)."""
        value = self.annotations.get(section, [])
        return [value] if input_models.one_entry(SECTION_MODELS.get(section)) else value


class Tables:
    """Rows of every table, plus the evidence spans, filled bulletin by bulletin."""

    def __init__(self, spec: dict):
        self.fields = field_names(spec)
        # Fields holding the bulletin's words: table -> [(field, the evidence column it stands in)].
        self.printed = {r["name"]: [(f["name"], f["printed"]) for f in r["fields"] if f.get("printed")]
                        for r in spec["resources"]}
        self.origins: dict[str, tuple[Path, int | None]] = {}  # primary key -> annotation file and line
        self.rows = {name: [] for name in self.fields}
        self.ids: dict[str, str] = {}  # every primary key in the package -> its table
        self.evidence: dict[tuple, str] = {}
        self.entities: dict[str, dict] = {}  # organisation or person ID -> kind, names, defining entry
        self.terms: dict[str, tuple] = {}  # a name or alias (term_key) -> (ID, kind, file, line) it names

    def add(self, table: str, row: dict, origin: tuple[Path, int | None]) -> dict:
        key = row[self.fields[table][0]]
        if key in self.ids:
            raise BuildError(origin[0], f"ID {key!r} is used twice (already in {self.ids[key]})", origin[1])
        self.ids[key] = table
        self.origins[key] = origin
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
    return span_evidence(bulletin, tables, first, first + len(quote))


def span_evidence(bulletin: Bulletin, tables: Tables, start: int, end: int) -> str:
    """The evidence ID of bulletin.text[start:end], adding its evidence row once."""
    span = (bulletin.source_id, start, end)
    if span not in tables.evidence:
        evidence_id = f"{bulletin.source_id}-{start}-{end}"
        tables.evidence[span] = evidence_id
        tables.rows["evidence"].append({"evidence_id": evidence_id, "source_id": bulletin.source_id,
                                        "start": start, "end": end, "quote": bulletin.text[start:end]})
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
        self.entities: list[tuple[str, dict]] = []  # (organisation|person, entry) this bulletin lists
        self.mentions: dict[str, list[tuple[int, int]]] = {}  # entity ID -> spans of its name here

    def ev(self, entry: dict, key: str = "quote") -> str:
        """The evidence ID of the quote under `key`, located exactly once in the text."""
        return locate(self.b, self.tables, entry.get(key), line_of(entry, key))

    def add(self, table: str, row: dict, line) -> dict:
        return self.tables.add(table, {"source_id": self.sid, **row}, (self.path, line))

    def derived(self, entry: dict, func, *args, key: str = "quote"):
        return derived(self.b, line_of(entry, key), func, *args)

    def error(self, reason: str, line) -> BuildError:
        return BuildError(self.path, reason, line)

    def evidence_at(self, start: int, end: int) -> str:
        """The evidence ID of text[start:end] (one row per span, shared)."""
        return span_evidence(self.b, self.tables, start, end)

    def mention(self, evidence_id, line, person=None, organisation=None, name=None, rank=None, role=None,
                role_organisation=None) -> None:
        self.add("mentions", {"mention_id": f"{evidence_id}-{person or organisation}", "evidence_id": evidence_id,
                              "person_id": person, "organisation_id": organisation, "name": name, "rank": rank,
                              "role": role, "role_organisation_id": role_organisation}, line)

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
    """Organisations this bulletin names: a name to look for (and aliases); rows come from mentions."""
    for e in entries:
        c.entities.append(("organisation", e))


@section("people", input_models.Person)
def add_people(c: Context, entries: list[dict]) -> None:
    """People this bulletin names: a name to look for (and aliases); rows come from mentions."""
    for e in entries:
        c.entities.append(("person", e))


def name_pattern(term: str) -> re.Pattern:
    """A name as a whole-word pattern. Matching ignores case (so "Police" at a sentence start and
    "police" are one name), except for an abbreviation in capitals ("JTAC"), which must match
    exactly; any run of spaces (no-break included) matches any other."""
    words = r"\s+".join(re.escape(w) for w in term.split())
    flags = 0 if term.isupper() else re.IGNORECASE
    return re.compile(rf"(?<![\w-]){words}(?![\w-])", flags)


@section("mentions", input_models.Computed)
def add_mentions(c: Context, entries: list[dict]) -> None:
    """Every place the text names a known organisation or person, found by code from their names
    and the aliases the curator lists (the section itself takes no entries). Where names overlap,
    the longest wins ("Metropolitan Police" over "Police"). An organisation's row is defined by
    its first mention in the oldest bulletin that names it; a person's rank and role as printed
    belong to the mention (as of that bulletin), the person row holds the name only."""
    # (`mentions:` takes no entries: its model, input_models.Computed, says so where it is written.)
    text, known = c.b.text, c.tables.entities
    listed = {}  # entity ID -> its entry in this bulletin's file
    for kind, e in c.entities:  # this bulletin's names extend (or repeat) the ones already known
        define_entity(c, kind, e)
        listed[e["id"]] = e
    found = []  # (start, end, entity id)
    for entity_id, entity in known.items():
        for term in entity["terms"]:
            found += [(m.start(), m.end(), entity_id) for m in name_pattern(term).finditer(text)]
    found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
    chosen, last_end = [], -1
    for start, end, entity_id in found:
        if start >= last_end:
            chosen.append((start, end, entity_id))
            last_end = end
    org_spans = []
    for start, end, entity_id in chosen:
        if known[entity_id]["kind"] == "organisation":
            abbr = re.match(r"\s*\(([A-Z]{2,})\)", text[end:])
            full_end = end + abbr.end() if abbr else end
            org_spans.append((start, full_end, end, entity_id, abbr.group(1) if abbr else None))
    person_spans = [(start, end, entity_id) for start, end, entity_id in chosen
                    if known[entity_id]["kind"] == "person"]
    # An abbreviation in brackets belongs to the name before it, not to a mention of its own.
    org_spans = [o for o in org_spans if not any(p[0] < o[0] and o[1] <= p[1] for p in org_spans)]
    named = set()
    for start, full_end, name_end, entity_id, abbr in org_spans:
        evidence_id = c.evidence_at(start, full_end)
        line = line_of(listed[entity_id]) if entity_id in listed else None
        if entity_id not in c.tables.ids:  # the first mention defines the organisation
            entry = known[entity_id]["entry"]
            if not entry.get("kind"):
                raise c.error(f"organisation {entity_id!r}: kind is required where it is first named "
                              f"(here, at {text[start:name_end]!r}, {c.b.source_path.name} character {start})",
                              entry["__line__"])
            c.add("organisations", {"organisation_id": entity_id, "name": text[start:name_end],
                                    "abbreviation": abbr, "kind": entry.get("kind"),
                                    "evidence_id": evidence_id}, line)
        c.mention(evidence_id, line, organisation=entity_id, name=text[start:name_end])
        c.mentions.setdefault(entity_id, []).append((start, name_end))
        named.add(entity_id)
    for start, end, entity_id in person_spans:
        rank = None
        before = re.search(r"(" + recognise.RANK_RE.pattern + r")\s+$", text[max(0, start - 60):start])
        if before:
            rank, start_full = before.group(1), start - len(before.group(0))
        else:
            start_full = start
        role, end_full = None, end
        after = re.match(r",\s+([a-z][^,.:;“”]*?),", text[end:])
        if after:
            role, end_full = after.group(1), end + after.end(1)
        role_org = next((o[3] for o in org_spans if end <= o[0] and o[1] <= end_full), None)
        evidence_id = c.evidence_at(start_full, end_full)
        line = line_of(listed[entity_id]) if entity_id in listed else None
        if entity_id not in c.tables.ids:
            c.add("people", {"person_id": entity_id, "name": text[start:end], "evidence_id": evidence_id}, line)
        c.mention(evidence_id, line, person=entity_id, name=text[start:end], rank=rank, role=role,
                  role_organisation=role_org)
        c.mentions.setdefault(entity_id, []).append((start, end))
        named.add(entity_id)
    for kind, e in c.entities:
        if e["id"] not in named:
            raise c.error(f"{kind} {e['id']!r} is listed but never named in {c.b.source_path.name}: no mention "
                          f"of {[e['name'], *(e.get('aliases') or [])]}", e["__line__"])


def term_key(term: str) -> str:
    """A name as name_pattern matches it: spaces of any kind alike, case ignored (an abbreviation in
    capitals matches only itself, but a lower-case name would match it too)."""
    return " ".join(term.split()).casefold()


def define_entity(c: Context, kind: str, e: dict) -> None:
    """Add one listed organisation or person to the names known across bulletins. An ID has one
    kind of entity and (an organisation) one `kind`; a name or alias names one entity, in one file
    and across bulletins. A conflict is named at the later entry, with where the first was written."""
    known, terms = c.tables.entities, c.tables.terms  # (a name is a non-empty quote: its model says so)
    entity = known.setdefault(e["id"], {"kind": kind, "terms": [], "entry": e, "path": c.path})
    first = f"{display_path(entity['path'])}:{entity['entry']['__line__']}"
    if entity["kind"] != kind:
        raise c.error(f"{kind} {e['id']!r}: the ID is already a {entity['kind']} ({first}); an ID names one "
                      "organisation or person", e["__line__"])
    if kind == "organisation" and e.get("kind") and entity["entry"] is not e \
            and e["kind"] != entity["entry"].get("kind"):
        raise c.error(f"organisation {e['id']!r}: kind {e['kind']!r} disagrees with its definition "
                      f"({first}, kind {entity['entry'].get('kind')!r}); an organisation has one definition: "
                      "give its kind where it is first named, and the same kind (or none) elsewhere",
                      line_of(e, "kind"))
    for key, term in [("name", e["name"])] + [("aliases", t) for t in e.get("aliases") or []]:
        owner = terms.setdefault(term_key(term), (e["id"], kind, c.path, line_of(e, key)))
        if owner[0] != e["id"]:
            raise c.error(f"{kind} {e['id']!r}: {'alias' if key == 'aliases' else 'name'} {term!r} already names "
                          f"{owner[1]} {owner[0]!r} ({display_path(owner[2])}:{owner[3]}); a name or alias "
                          "names one organisation or person, in every bulletin", line_of(e, key))
        if term not in entity["terms"]:
            entity["terms"].append(term)


def display_path(path: Path) -> str:
    try:
        return Path(path).relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def party(c: Context, e: dict, quote_key: str, prefix: str, key: str = "actor") -> dict:
    """An actor coded like a date: the organisation (`<key>`), and either the words that name it
    (`<key>_quote`, inside the row's quote and a mention of that organisation: basis stated), a
    rule (`<key>_basis: inferred`, `<key>_rule`), or `<key>_basis: not_stated` and no organisation.
    Returns the columns <prefix>_organisation_id, _evidence_id, _basis, _rule."""
    line = line_of(e, key) or e["__line__"]
    org, words, basis, rule = e.get(key), e.get(f"{key}_quote"), e.get(f"{key}_basis"), e.get(f"{key}_rule")
    if basis not in ("stated", "inferred", "not_stated"):
        raise c.error(f"{key}_basis must be stated, inferred or not_stated; got {basis!r}",
                      line_of(e, f"{key}_basis") or line)
    evidence_id = None
    if basis == "stated":
        if not org or not words:
            raise c.error(f"{key}_basis stated needs {key} and {key}_quote (the words that name it)", line)
        quote = e[quote_key]
        where = quote.find(words)
        if where < 0:
            raise c.error(f"{key}_quote {words!r} is not in the row's quote: an actor the words do not name needs "
                          f"{key}_basis inferred (with {key}_rule) or not_stated", line_of(e, f"{key}_quote"))
        start = c.b.text.find(quote) + where
        if not any(s <= start and start + len(words) <= t for s, t in c.mentions.get(org, [])):
            raise c.error(f"{key}_quote {words!r} is not a mention of {org!r} (its name or a listed alias)",
                          line_of(e, f"{key}_quote"))
        evidence_id = c.evidence_at(start, start + len(words))
    elif basis == "inferred":
        if not org or not isinstance(rule, str) or not rule.strip():
            raise c.error(f"{key}_basis inferred needs {key} and {key}_rule (the rule that infers it)", line)
        if words:
            raise c.error(f"{key}_quote is for a stated {key}; an inferred one has a rule", line_of(e, f"{key}_quote"))
    elif org or words:
        raise c.error(f"{key}_basis not_stated: leave {key} and {key}_quote empty", line)
    id_column = f"{prefix}_id" if prefix.endswith("organisation") else f"{prefix}_organisation_id"
    return {id_column: org, f"{prefix}_evidence_id": evidence_id, f"{prefix}_basis": basis,
            f"{prefix}_rule": " ".join(rule.split()) if isinstance(rule, str) else None}


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
        count = c.derived(e, derive.headcount, e["quote"])
        window = c.derived(e, derive.window_hours, e["quote"]) or (None, None)
        c.add("personnel", {
            "personnel_id": f"{c.sid}-{e['id']}", "evidence_id": c.ev(e), "force": e["force"],
            "role": e["role"], "qualifier": count.qualifier, "count_min": count.low, "count_max": count.high,
            "status": e["status"], "purpose": e["purpose"], "window_min_hours": window[0],
            "window_max_hours": window[1], **party(c, e, "quote", "organisation", key="organisation"),
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
                **party(c, e, "quote", "actor")}, line)


def claim_rows(c: Context, entries: list[dict], table: str, key: str, columns: dict, parties=("actor",)):
    """One row per entry of a claim table: its ID, evidence, the columns named in `columns`
    (table column -> annotation key; values marked `printed` in the schema are checked against the
    quote after the build), and its parties (actor and, e.g., partner_organisation)."""
    for e in entries:
        row = {key: f"{c.sid}-{e['id']}", "evidence_id": c.ev(e)}
        row.update({column: e.get(name) for column, name in columns.items()})
        for who in parties:
            prefix = who[:-len("_organisation")] if who.endswith("_organisation") else who
            row.update(party(c, e, "quote", prefix, key=who))
        c.add(table, row, e["__line__"])


@section("advice", input_models.Advice)
def add_advice(c: Context, entries: list[dict]) -> None:
    """Advice to the public: who is asked to do what, on what condition, in the bulletin's words."""
    for e in entries:
        for ref, table in (("contact", "contacts"), ("statement", "statements")):
            if e.get(ref) and c.tables.ids.get(f"{c.sid}-{e[ref]}") != table:
                raise c.error(f"{ref} {e[ref]!r} is not a row of {table} of this bulletin", line_of(e, ref))
    claim_rows(c, entries, "advice", "advice_id", {
        "audience": "audience", "action_type": "action_type", "action": "action", "wording": "wording",
        "condition": "condition"})
    by_id = {f"{c.sid}-{e['id']}": e for e in entries}
    for row in c.tables.rows["advice"]:
        e = by_id.get(row["advice_id"])
        if e is not None:
            row["contact_id"] = f"{c.sid}-{e['contact']}" if e.get("contact") else None
            row["statement_id"] = f"{c.sid}-{e['statement']}" if e.get("statement") else None


@section("tactics", input_models.Tactic)
def add_tactics(c: Context, entries: list[dict]) -> None:
    """Police posture and tactics: how and where officers operate, as the bulletin words it."""
    claim_rows(c, entries, "tactics", "tactic_id", {
        "who": "who", "tactic_type": "tactic_type", "tactic": "tactic", "place": "place", "timing": "timing",
        "purpose": "purpose", "status": "status"})


@section("partnerships", input_models.Partnership)
def add_partnerships(c: Context, entries: list[dict]) -> None:
    """Partnership work: who works with whom on what."""
    claim_rows(c, entries, "partnerships", "partnership_id", {
        "who": "who", "partner": "partner", "activity_type": "activity_type", "activity": "activity",
        "status": "status"}, parties=("actor", "partner_organisation"))


@section("command", input_models.Command)
def add_command(c: Context, entries: list[dict]) -> None:
    """Command and control: who commands or controls whom (or what)."""
    claim_rows(c, entries, "command", "command_id", {
        "commander": "commander", "relation": "relation", "subordinate": "subordinate", "scope": "scope",
        "status": "status"}, parties=("actor", "subordinate_organisation"))


@section("uncoded", input_models.Uncoded)
def add_uncoded(c: Context, entries: list[dict]) -> None:
    """Sentences the curator excuses from coding (they state no fact), with the reason."""
    spans = sentences.split(c.b.text)
    for e in entries:
        line, quote, reason = e["__line__"], e["quote"], e["reason"]
        if not isinstance(reason, str) or not reason.strip():
            raise c.error("uncoded: reason must be a non-empty string", line_of(e, "reason"))
        if not isinstance(quote, str) or not quote or c.b.text.count(quote) != 1:
            raise c.error(f"uncoded: quote must be found exactly once in {c.b.source_path.name}: {quote!r}",
                          line_of(e, "quote"))
        start = c.b.text.find(quote)
        inside = [s for s in spans if s[0] <= start and start + len(quote) <= s[1]]
        if not inside:
            raise c.error(f"uncoded: quote spans more than one sentence; quote one sentence: {quote!r}",
                          line_of(e, "quote"))
        c.b.excuses[inside[0][0]] = (" ".join(reason.split()), line)
    if len(c.b.excuses) > MAX_UNCODED:
        raise c.error(f"uncoded: {len(c.b.excuses)} sentences excused, at most {MAX_UNCODED}: code their facts",
                      entries[MAX_UNCODED]["__line__"])


def add_sentences(b: Bulletin, tables: Tables, spans: list[tuple[int, int]]) -> None:
    """The bulletin's sentences, each coded (some row's evidence overlaps it) or excused in
    `uncoded:`; stop naming file and line:col of every sentence that is neither."""
    cut = sentences.split(b.text)
    missing = []
    for number, (start, end) in enumerate(cut, 1):
        coded = any(s < end and start < e for s, e in spans)
        reason, line = b.excuses.pop(start, (None, None))
        if coded and reason:
            raise BuildError(b.annotations_path, f"uncoded: sentence {number} is coded; remove its excuse", line)
        if not coded and not reason:
            where = "%d:%d" % sentences.line_col(b.text, start)
            missing.append(f"  {b.source_path.name}:{where} sentence {number}: {b.text[start:end][:70]!r}")
        tables.add("sentences", {
            "sentence_id": sentences.sentence_id(b.source_id, number, len(cut)), "source_id": b.source_id,
            "number": number, "start": start, "end": end, "text": b.text[start:end], "coded": coded,
            "reason": reason}, (b.annotations_path, line))
    if missing:
        raise BuildError(b.annotations_path, f"{len(missing)} sentence(s) of {b.source_path.name} are neither "
                         "coded (no row's evidence overlaps them) nor excused under `uncoded:` with a reason; "
                         "code their facts:\n" + "\n".join(missing))


def add_bulletin(b: Bulletin, tables: Tables, levels: list[str], root: Path) -> None:
    """Every row the bulletin's annotations state, added to `tables`, section by section."""
    context = Context(b, tables, levels, root)
    for name, add_section in SECTIONS.items():
        try:
            add_section(context, b.entries(name))
        except BuildError as error:
            raise with_key_path(error, b) from None


def with_key_path(error: BuildError, b: Bulletin) -> BuildError:
    """An error at a line of annotations.yaml, its reason prefixed with the key path written on that
    line: the entry (`events[2]`) when the line starts one, else the key (`events[2].quote`)."""
    lines = getattr(b, "annotation_lines", {})
    if error.path != b.annotations_path or not error.line:
        return error
    paths = [path for path, line in lines.items() if line == error.line and path]
    entry = [path for path in paths if len(path) == 2 and isinstance(path[1], int)]
    if paths and not getattr(error, "problems", None):
        where = yaml_input.key_path(entry[0] if entry else min(paths, key=len))
        if not error.reason.startswith(where):
            error.reason = f"{where}: {error.reason}"
    return error


# The model of a whole annotations.yaml, and the keys each section allows and requires (for the
# drafting aid), all from the registry above.
ANNOTATIONS = input_models.annotations_model(SECTION_MODELS)
SECTION_KEYS, REQUIRED_KEYS = input_models.section_keys(SECTION_MODELS)


def check_printed(tables: Tables) -> None:
    """Every value the schema marks `printed` (the bulletin's words) stands in its evidence quote;
    otherwise stop naming the annotation file and line of the row: a paraphrase is coding, and
    belongs in a field that says so."""
    quotes = {r["evidence_id"]: r["quote"] for r in tables.rows["evidence"]}
    for table, pairs in tables.printed.items():
        key = tables.fields[table][0]
        for row in tables.rows[table]:
            for column, evidence_column in pairs:
                value, quote = row.get(column), quotes.get(row.get(evidence_column)) or ""
                if value not in (None, "") and row.get(evidence_column) and str(value) not in quote:
                    path, line = tables.origins[row[key]]
                    raise BuildError(path, f"{table}.{column} {value!r} is not in the bulletin's words it cites "
                                     f"({evidence_column}: {quote!r}); quote the words or code it elsewhere", line)


def released_ids(releases: Path) -> dict[str, dict[str, tuple[str, int]]]:
    """Version -> {ID -> (table, line)}: the IDs each release published (data/releases/<version>-ids.csv,
    written by the release step, scripts/build_dist.py)."""
    found = {}
    for listed in sorted(releases.glob("*-ids.csv"), key=lambda p: version_key(p.name[:-len("-ids.csv")])):
        with open(listed, newline="", encoding="utf-8") as handle:
            found[listed.name[:-len("-ids.csv")]] = {
                row["id"]: (row["table_name"], number) for number, row in enumerate(csv.DictReader(handle), start=2)}
    return found


def add_retired(tables: Tables, releases: Path, version: str, entries: list[dict],
                written_in: dict[str, Path] | None = None) -> None:
    """The retired_ids table from data/releases/retired-ids.yaml (its `entries`, already checked
    against input_models.RetiredIds), checked against the IDs each release published
    (data/releases/<version>-ids.csv) and this version: a retired ID was published by an earlier
    release than the one that retires it, under the table it is filed under, is not in use again,
    and its replacements are rows of this version; retired_in is not later than this version. A
    released ID is still in the package or retired: one that is gone is named in the file that wrote
    it (`written_in`: source_id -> annotations.yaml; a bulletin's row IDs start with its source_id).
    Every problem of retired-ids.yaml is reported at once."""
    path = releases / "retired-ids.yaml"
    if not releases.exists():
        return  # a package with no release yet: nothing published, nothing retired
    present = {**tables.ids, **{r["evidence_id"]: "evidence" for r in tables.rows["evidence"]}}
    published = released_ids(releases)
    problems, retired = [], {}

    def problem(entry, key, what):
        problems.append(Problem(path, line_of(entry, key), f"[{entries.index(entry)}].{key}", what))

    for e in entries:
        old, retired_in = e["id"], str(e["retired_in"])
        if old in present:
            problem(e, "id", f"retired ID {old!r} is in use again (in {present[old]}); a released ID is never "
                    "reused: give the new row another ID")
        if retired_in != version and version_key(retired_in) > version_key(version):
            problem(e, "retired_in", f"retired_in {retired_in!r} is later than this version {version} "
                    "(schema/package.yaml)")
        releases_of = [v for v, ids in published.items() if old in ids]
        if not releases_of:
            problem(e, "id", f"{old!r} was published by no release (no data/releases/<version>-ids.csv lists "
                    "it): only a released ID is retired; a row never released is simply removed")
        elif retired_in in releases_of or version_key(releases_of[0]) >= version_key(retired_in):
            where = retired_in if retired_in in releases_of else releases_of[0]
            problem(e, "retired_in", f"{old!r} is retired in {retired_in} but release {where} published it "
                    f"(data/releases/{where}-ids.csv line {published[where][old][1]}); retired_in is the first "
                    "version without it")
        else:
            table, line = published[releases_of[-1]][old]
            if e["table"] != table:
                problem(e, "table", f"table {e['table']!r}: release {releases_of[-1]} published {old!r} in table "
                        f"{table} (data/releases/{releases_of[-1]}-ids.csv line {line})")
        for new in e["replaced_by"] or []:
            if new not in present and not any(new in ids for ids in published.values()):  # else: gone, below
                problem(e, "replaced_by", f"replacement {new!r} of {old!r} is not a row of this version")
        if old in retired:
            problem(e, "id", f"{old!r} is retired twice (first at line {line_of(retired[old])}); list it once")
        retired[old] = e
    if problems:
        raise InputErrors(problems)
    for e in entries:
        tables.add("retired_ids", {"retired_id": e["id"], "table_name": e["table"],
                                   "version_retired": str(e["retired_in"]),
                                   "replacement_ids": " ".join(e["replaced_by"] or []) or None,
                                   "reason": " ".join(str(e["reason"]).split())}, (path, line_of(e)))
    for released, ids in published.items():
        listed = releases / f"{released}-ids.csv"
        for old, (table, number) in ids.items():
            if present.get(old) == table or old in retired:
                continue
            where = f"is now in {present[old]}" if old in present else "is gone"
            owner = max((sid for sid in written_in or {} if old == sid or old.startswith(sid + "-")),
                        key=len, default=None)
            if owner is None:  # an organisation or a person: listed by the bulletins that name it
                files = [str(p) for p in (written_in or {}).values()]
                shown = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
                raise BuildError(listed, f"released ID {old!r} of table {table} {where}: keep it (the ID of an entry "
                                 f"of {shown}), or list it in {path.name} with its replacements and the reason",
                                 number)
            raise BuildError(written_in[owner], f"released ID {old!r} of table {table} (data/releases/"
                             f"{listed.name} line {number}) {where}: keep the entry that gives it, or list it in "
                             f"{display_path(path)} with its replacements and the reason")


def version_key(version: str) -> tuple:
    return tuple(int(part) for part in re.findall(r"\d+", version))


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
    retired_path = root / "data" / "releases" / "retired-ids.yaml"
    retired_entries = []
    if retired_path.exists():
        try:
            loaded = yaml_input.load(retired_path, with_lines=True)
            problems += input_models.check("retired-ids", loaded, retired_path, spec)
            retired_entries = loaded.data or []
        except InputErrors as errors:
            problems += errors.problems
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
    check_printed(tables)
    tables.rows["evidence"].sort(key=lambda r: (r["source_id"], r["start"], r["end"]))
    spans, own = coverage.fact_spans(tables.rows)
    coding = coverage.used_spans(tables.rows, skip=coverage.NOT_CODING)
    for bulletin in bulletins:
        coverage.check(bulletin, spans.get(bulletin.source_id, []), levels, own.get(bulletin.source_id))
        add_sentences(bulletin, tables, coding.get(bulletin.source_id, []))
    add_retired(tables, root / "data" / "releases", str(package_spec(root)["version"]), retired_entries,
                {b.source_id: b.annotations_path for b in bulletins})
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
