"""Step 1 of the flow: archived bulletins + curated annotations -> data/*.csv.

First it reads every hand-written YAML input strictly (scripts/inputs/yaml_input.py)
and checks it against its model (scripts/inputs/input_models.py; each annotation
section's model is registered below with the function that builds its rows),
reporting every problem of every file at once as file:line: key.path: what.
Then, for every bulletin folder under data/raw/ (source.txt, metadata.yaml,
annotations.yaml) it checks the archived bytes against the recorded hash,
finds each annotated quote exactly once, derives typed values from the quoted
words (scripts/claims/derive.py), checks that every fact-bearing token of the text is
covered by some evidence span (scripts/claims/coverage.py), and only then writes the
tables, each to a temporary file renamed into place.

    python -m scripts.claims.extract [--root DIR]

The root (default: this repository) holds schema/package.yaml, data/raw/ and
data/reference/; the tables are written to its data/. Run alone, this step is
for inspecting or benchmarking extraction: `make` publishes through
scripts/outputs/publish.py, which validates the tables before they replace data/.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from . import claim_rows, clauses, coverage, dates, derive, recognise, sentences
from ..inputs import declarations, fact_kinds, input_models, rules, yaml_input
from ..common import (FORWARD_MODALITIES, PAST_MODALITIES, ROOT, BuildError, atomic_write_bytes, csv_bytes, fail,
                      field_names, line_of, package_spec)
from ..inputs.yaml_input import InputErrors, Problem

# Words may be excused from coding only a few at a time (a connective), or as whole lines of page
# furniture (a follow link, a caption): a longer run of the text states something, and its claim is
# to be coded.
MAX_EXCUSED_WORDS = 6

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
        self.registry = registry(spec if spec is not None else package_spec(ROOT))
        problems = []
        meta = annotations = None
        for path, kind in ((self.metadata_path, "metadata"), (self.annotations_path, "annotations")):
            try:
                loaded = yaml_input.load(path, with_lines=True)
            except InputErrors as errors:
                problems += errors.problems
                continue
            model = self.registry.annotations if kind == "annotations" else kind
            found = input_models.check(model, loaded, path, spec)
            if not found and kind == "annotations":
                found = input_models.cross_check(self.registry.annotations, loaded, path)
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
        # Oldest first: by the day, then the time (a publication known only to the day comes first).
        self.published_order = (str(self.meta["published"])[:10], str(self.meta["published"]))
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
        self.published = None  # the publication time, set from the dateline (None when it prints no time)
        self.published_day = None  # the publication day, set from the dateline
        self.excuses: list[tuple[int, int, int]] = []  # (start, end, annotation line) of excused words
        self.excuse_codes: dict[tuple[int, int], tuple[str, str]] = {}  # span -> (kind, reason)

    def relpath(self, root: Path) -> str:
        try:
            return self.source_path.relative_to(root).as_posix()
        except ValueError:
            return self.source_path.as_posix()

    def entries(self, section: str) -> list[dict]:
        """The entries of one section (checked against its model when the file was read; a
        computed section such as mentions may be left out)."""
        value = self.annotations.get(section, [])
        return [value] if input_models.one_entry(self.registry.models.get(section)) else value


class Tables:
    """Rows of every table, plus the evidence spans, filled bulletin by bulletin."""

    def __init__(self, spec: dict):
        self.spec, self.spec_path = spec, Path(spec.get("_path") or ROOT / "schema" / "package.yaml")
        self.fields = field_names(spec)
        self.columns = {name: set(fields) for name, fields in self.fields.items()}
        self.computed = spec.get("_computed") or {}  # a fact kind's own fields with no input (code computes them)
        # Fields holding the bulletin's words: table -> [(field, the evidence column it stands in)].
        self.printed = {r["name"]: [(f["name"], f["printed"]) for f in r["fields"] if f.get("printed")]
                        for r in spec["resources"]}
        self.origins: dict[str, tuple[Path, int | None]] = {}  # primary key -> annotation file and line
        self.rows = {name: [] for name in self.fields}
        self.ids: dict[str, str] = {}  # every primary key in the package -> its table
        self.evidence: dict[tuple, str] = {}
        self.spans: dict[str, tuple[int, int]] = {}  # evidence ID -> (start, end)
        self.entities: dict[str, dict] = {}  # organisation or person ID -> kind, names, defining entry
        self.resources = {r["name"]: r for r in spec["resources"]}
        self.claim_tables = [r["name"] for r in fact_kinds.claim_tables(spec)]
        self.unit_tables = [r["name"] for r in fact_kinds.unit_tables(spec)]
        self.request_rule = " ".join(spec["request_rule"].split())
        self.publishers: dict[str, str] = {}  # source ID -> the organisation that publishes it
        self.rules = rules.rules_of(spec["resources"])
        self.first_person_rule = " ".join(spec["first_person_rule"].split())
        self.speech = spec["speech"]  # the words attributions and roles are read by (schema/package.yaml)
        self.codings: dict[str, tuple] = {}  # party words (case folded) -> (coding, party, file, line)
        self.terms: dict[str, tuple] = {}  # a name or alias (term_key) -> (ID, kind, file, line) it names
        # Contacts across bulletins: the normalised number -> the contact's row, the curator's ID and where it
        # was first printed; and the curator's ID -> the number it names.
        self.contacts: dict[str, dict] = {}
        self.contact_names: dict[str, tuple] = {}
        self.part_of: list[tuple] = []  # (context, organisation entry) of each organisation coded part of another
        self.cross_links: list[tuple] = []  # (context, event row, entry, curator key) of a link to another bulletin
        self.reported_rule = " ".join(spec["reported_rule"].split())
        self.previous_level_rule = " ".join(spec["previous_level_rule"].split())
        self.bulletin_ids: set[str] = set()  # the source ID of every bulletin of the package

    def quotes(self) -> dict[str, str]:
        return {r["evidence_id"]: r["quote"] for r in self.rows["evidence"]}

    def same_words(self, words: str, coding: dict, party: str, path: Path, line) -> None:
        """The same party words get the same coding everywhere (organisation and basis): stop naming
        both places when they do not."""
        key = " ".join(words.casefold().split())
        org = next(v for k, v in coding.items() if k.endswith("organisation_id"))
        basis = coding[f"{party}_basis"]
        seen = self.codings.setdefault(key, ((org, basis), party, path, line))
        if seen[0] != (org, basis):
            (first_org, first_basis), first_party, first_path, first_line = seen
            raise BuildError(path, f"{party}_words {words!r} coded {org or 'no organisation'} ({basis}) here, but "
                             f"{first_org or 'no organisation'} ({first_basis}) as {first_party} at "
                             f"{first_path.name}:{first_line}: the same words get the same coding", line)

    def add(self, table: str, row: dict, origin: tuple[Path, int | None]) -> dict:
        if not row.keys() <= self.columns[table]:
            extra = sorted(row.keys() - self.columns[table])
            raise BuildError(self.spec_path, f"resource {table!r}: the build writes column(s) {', '.join(extra)}, which "
                             f"its declaration does not list (its fields: {', '.join(self.fields[table])}); declare "
                             "them", declarations.line(self.spec, table))
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
        tables.spans[evidence_id] = (start, end)
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
        self.organisation_at: dict[tuple[int, int], str] = {}  # span of a name -> the organisation it names
        self.statements: list[dict] = []  # statement rows with their spans
        self.pending: list[tuple[dict, dict, dict]] = []  # (resource, row, entry) of claims to finish
        self.claim_ids: set[str] = set()  # the claims of this bulletin (rows of a kind whose role is claim)
        self.facets: dict[str, str] = {}  # a facet's row ID -> the claim it is a facet of
        self.publisher: str | None = None
        self.contact_ids: dict[str, str] = {}  # the curator's contact ID -> the contact's row ID (maybe an earlier bulletin's)

    def other_bulletin(self, value: str) -> str | None:
        """The source ID of another bulletin that `value` (an event's full ID) starts with, if any."""
        return max((sid for sid in self.tables.bulletin_ids if sid != self.sid and value.startswith(sid + "-")),
                   key=len, default=None)

    def organisation_mentions(self, org: str, evidence_id: str) -> bool:
        """Whether the words of `evidence_id` contain a mention of `org`."""
        start, end = self.tables.spans[evidence_id]
        return any(start <= s and t <= end for s, t in self.mentions.get(org, []))

    def resolve(self, field: dict, e: dict):
        """A `ref` column: the ID the curator names, as the row ID it is (a row of this bulletin)."""
        key = input_models.input_key(field)
        value, target = e.get(key), field["ref"]
        if value is None or target in ("organisations", "people"):
            return value
        if target == "contacts" and value in self.contact_ids:  # a contact is one thing across bulletins
            return self.contact_ids[value]
        full = f"{self.sid}-{value}"
        if target == "events" and self.tables.ids.get(full) != "events" and self.other_bulletin(value):
            return value  # an event of another bulletin, by its full ID: checked once every bulletin is read
        if target == "claims":
            if full not in self.claim_ids:
                facet = self.facets.get(full)
                what = f"a facet of claim {facet!r}: name that claim" if facet else \
                    "not a claim of this bulletin (a row of a kind whose role is claim; attributes are no claims)"
                raise self.error(f"{key} {value!r} is {what} (the claim's ID without the source ID)", line_of(e, key))
            return full
        if self.tables.ids.get(full) != target:
            raise self.error(f"{key} {value!r} is not a row of {target if target != 'claims' else 'a fact kind'} of "
                             "this bulletin (the row's ID without the source ID)", line_of(e, key))
        return full

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
                role_organisation=None, corrected=None, contact=None) -> None:
        self.add("mentions", {"mention_id": f"{evidence_id}-{person or organisation or contact}",
                              "evidence_id": evidence_id, "person_id": person, "organisation_id": organisation,
                              "contact_id": contact, "name": name, "rank": rank, "role": role,
                              "role_organisation_id": role_organisation, "corrected": corrected}, line)

    def annotations_title(self) -> str | None:
        head = self.b.entries("source")
        return head[0].get("title") if head else None

    def event_id(self, key, line) -> str:
        if key not in self.events:
            raise self.error(f"event {key!r} is not an event of this bulletin", line)
        return self.events[key]["event_id"]


# The sections of code: section name -> the function that turns that section's entries into rows,
# and the pydantic model of one entry (scripts/inputs/input_models.py) that checks the curator's input
# before any row is built. With the fact kinds of a package's declarations they make its registry
# (`registry`).
_SECTIONS: dict = {}
_SECTION_MODELS: dict = {}


def section(name: str, model=None):
    """Register the function that makes a section's rows; `model` checks one entry of it (a fact
    kind's model is built from its declaration when none is given)."""
    def register(func):
        _SECTIONS[name] = func
        _SECTION_MODELS[name] = model
        return func
    return register


@section("source", input_models.Source)
def add_source(c: Context, entries: list[dict]) -> None:
    """The source: title and dateline must be printed in the text and agree with metadata.yaml."""
    b, head = c.b, entries[0]
    title_ev = c.ev(head, "title")
    dateline = c.derived(head, dates.parse_dateline, head["dateline"], c.tables.date_rules, key="dateline")
    c.ev(head, "dateline")
    for key, found in (("title", head["title"]), ("category", dateline.category), ("published", dateline.iso())):
        if b.meta.get(key) != found:
            # Either file may hold the slip: name both, each with its line.
            quoted = "title" if key == "title" else "dateline"
            raise BuildError(b.metadata_path, f"{key}: {b.meta[key]!r} disagrees with the bulletin's own words "
                             f"({found!r}, from source.{quoted} at {b.annotations_path.name}:{line_of(head, quoted)})",
                             line_of(b.meta, key))
    b.published, b.published_day = dateline.published, dateline.day
    c.publisher = head["publisher"]
    c.tables.publishers[c.sid] = head["publisher"]
    c.tables.add("sources", {
        "source_id": c.sid, "source_kind": "bulletin", "publisher": b.meta["publisher"],
        "title": head["title"], "category": dateline.category,
        "published": dateline.published.isoformat() if dateline.published else None,
        "published_date": dateline.day.isoformat(), "published_precision": dateline.precision,
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
    for kind, e in c.entities:  # a phrase that joins an organisation's name to other words is no organisation
        if kind != "organisation":
            continue
        for term in [e["name"], *(e.get("aliases") or [])]:
            if not re.search(r"\b(and|or)\b|&|,", term):
                continue
            others = [t for other_id, other in known.items() if other_id != e["id"] and other["kind"] == "organisation"
                      for t in other["terms"] if name_pattern(t).search(term)]
            if others:
                raise c.error(f"organisation {e['id']!r}: {term!r} names several parties ({others[0]!r} and more), "
                              "not one organisation; list each organisation and code each party of a claim "
                              "(e.g. actor and partner)", e["__line__"])
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
    furniture = [(text.find(e["quote"]), text.find(e["quote"]) + len(e["quote"])) for e in c.b.entries("uncoded")
                 if e.get("kind") == "page_furniture" and text.count(e["quote"]) == 1]  # a whole line, found once

    def in_furniture(start: int) -> bool:  # page furniture names, but never defines
        return any(s <= start < t for s, t in furniture)

    for start, full_end, name_end, entity_id, abbr in org_spans:
        evidence_id = c.evidence_at(start, full_end)
        line = line_of(listed[entity_id]) if entity_id in listed else None
        if entity_id not in c.tables.ids and not in_furniture(start):  # the first mention defines it
            entry = known[entity_id]["entry"]
            if not entry.get("kind"):
                raise c.error(f"organisation {entity_id!r}: kind is required where it is first named "
                              f"(here, at {text[start:name_end]!r}, {c.b.source_path.name} character {start})",
                              entry["__line__"])
            c.add("organisations", {"organisation_id": entity_id, "name": text[start:name_end],
                                    "abbreviation": abbr, "kind": entry.get("kind"),
                                    "evidence_id": evidence_id, "defined_by": "first_mention"}, line)
        c.mention(evidence_id, line, organisation=entity_id, name=text[start:name_end])
        c.mentions.setdefault(entity_id, []).append((start, name_end))
        c.organisation_at[(start, name_end)] = entity_id
        named.add(entity_id)
    corrections = person_corrections(c, person_spans, listed)
    for start, end, entity_id in person_spans:
        found = derive.person_at(text, start, end, c.tables.speech)
        rank, role, start_full, end_full = found.rank, found.role, found.start, found.end
        role_span = found.role_span
        corrected, fixed = [], corrections.get((start, end))
        if fixed:
            sentence = next((s, t) for s, t in sentences.split(text) if s <= start < t)
            for key in ("rank", "role"):
                if key not in fixed:
                    continue
                words, key_line = fixed[key], line_of(fixed, key)
                places = [m.start() for m in re.finditer(re.escape(words), text[sentence[0]:sentence[1]])]
                if not places:
                    raise c.error(f"people: corrected {key} {words!r} of the mention of {entity_id!r} at "
                                  f"{text[start:end]!r} is not printed in its sentence "
                                  f"({text[sentence[0]:sentence[1]]!r}): a correction is words the text prints",
                                  key_line)
                at = sentence[0] + min(places, key=lambda p: abs(p - start))  # the place nearest the name
                if key == "rank":
                    rank = words
                else:
                    role, role_span = words, (at, at + len(words))
                start_full, end_full = min(start_full, at), max(end_full, at + len(words))
                corrected.append(key)
        role_org = next((o[3] for o in org_spans if role_span and role_span[0] <= o[0] and o[1] <= role_span[1]),
                        None)
        evidence_id = c.evidence_at(start_full, end_full)
        line = line_of(listed[entity_id]) if entity_id in listed else None
        if entity_id not in c.tables.ids and not in_furniture(start):
            c.add("people", {"person_id": entity_id, "name": text[start:end], "evidence_id": evidence_id}, line)
        c.mention(evidence_id, (fixed or {}).get("__line__", line), person=entity_id, name=text[start:end],
                  rank=rank, role=role, role_organisation=role_org, corrected=" ".join(corrected) or None)
        c.mentions.setdefault(entity_id, []).append((start, end))
        named.add(entity_id)
    publisher = c.publisher
    if publisher and publisher not in known:
        raise c.error(f"source.publisher {publisher!r} is not an organisation of the package (list it under "
                      "organisations)", line_of(c.b.entries("source")[0], "publisher"))
    if publisher and term_key(str(c.b.meta["publisher"])) not in map(term_key, known[publisher]["terms"]):
        raise BuildError(c.b.metadata_path, f"publisher: {c.b.meta['publisher']!r} is not a name of organisation "
                         f"{publisher!r}, source.publisher at {c.path.name}:{line_of(c.b.entries('source')[0], 'publisher')} "
                         f"(its names: {known[publisher]['terms']})", line_of(c.b.meta, "publisher"))
    if publisher and publisher not in c.tables.ids:  # a publisher the body never names
        entry = known[publisher]["entry"]
        c.add("organisations", {"organisation_id": publisher, "name": c.b.meta["publisher"], "abbreviation": None,
                                "kind": entry.get("kind"), "evidence_id": None, "defined_by": "source_metadata"},
              line_of(entry))
    for kind, e in c.entities:
        if e["id"] in named and e["id"] not in c.tables.ids:
            raise c.error(f"{kind} {e['id']!r} is named only in page furniture of {c.b.source_path.name}, which never "
                          "defines an entity: code it where the body names it", e["__line__"])
        if e["id"] not in named:
            raise c.error(f"{kind} {e['id']!r} is listed but never named in {c.b.source_path.name}: no mention "
                          f"of {[e['name'], *(e.get('aliases') or [])]}", e["__line__"])
        if kind == "organisation" and (e.get("part_of") or e.get("part_of_words") or e.get("part_of_rule")):
            if not e.get("part_of"):
                raise c.error(f"organisation {e['id']!r}: part_of_words and part_of_rule are given with part_of, the "
                              "organisation it is part of", line_of(e, "part_of_words") or line_of(e, "part_of_rule"))
            words = e.get("part_of_words")
            evidence_id = c.ev(e, "part_of_words") if words else None
            c.tables.part_of.append((c, e, evidence_id))


def person_corrections(c: Context, person_spans: list, listed: dict) -> dict[tuple[int, int], dict]:
    """The curator's corrections of mentions (people[].corrections), by the span of the name they
    correct: each quote is printed once and holds exactly one mention of its person."""
    found = {}
    for entity_id, e in listed.items():
        for fix in e.get("corrections") or []:
            quote, line = fix["quote"], line_of(fix, "quote")
            first = c.b.text.find(quote)
            if first < 0 or c.b.text.find(quote, first + 1) >= 0:
                raise c.error(f"people: correction quote {quote!r} must be printed exactly once in "
                              f"{c.b.source_path.name} ({'not found' if first < 0 else 'printed more than once'})", line)
            spans = [(s, t) for s, t, who in person_spans if who == entity_id and first <= s and t <= first + len(quote)]
            if len(spans) != 1:
                raise c.error(f"people: correction quote {quote!r} holds {len(spans)} mentions of {entity_id!r}; "
                              "quote words around exactly one", line)
            if spans[0] in found:
                raise c.error(f"people: the mention at {quote!r} is corrected twice", line)
            found[spans[0]] = fix
    return found


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


FIRST_PERSON = {"we", "us", "our"}


def party(c: Context, e: dict, row: dict, name: str, statement: dict | None, giver: bool = False) -> dict:
    """A party of a claim, coded like a date, with the judgements the words decide made here, once:
    - words that are a mention of an organisation (its name or a listed alias, a leading 'the'
      aside) state it: basis stated, no rule;
    - first-person words (we, us, our) are inferred by the first-person rule (schema/package.yaml,
      `first_person_rule`): in a quoted statement the organisation the speaker is introduced as
      heading, in the narrative the bulletin's publisher;
    - the giver of a request (the party a kind names as `giver`) whose words are not given is coded by
      the request rule (schema/package.yaml, `request_rule`), never typed per row;
    - any other words, or none, give the organisation only with a rule (inferred), else none
      (not_stated, the rule saying why if the curator gives one).
    Returns the party's columns: words, evidence, organisation, basis, rule."""
    words, org, rule = e.get(f"{name}_words"), e.get(name), e.get(f"{name}_rule")
    line = line_of(e, f"{name}_words") or line_of(e, name) or e["__line__"]
    evidence_id, basis = None, None
    if words:
        start, end = c.tables.spans[row["evidence_id"]]
        found = re.search(rf"(?<![\w’']){re.escape(words)}(?![\w’'])", c.b.text[start:end])  # whole words
        where = found.start() if found else -1
        if where < 0:
            raise c.error(f"{name}_words {words!r} is not in the row's quote", line_of(e, f"{name}_words"))
        first, last = start + where, start + where + len(words)
        evidence_id = c.evidence_at(first, last)
        lead = re.match(r"(?i)the\s+", words)
        named = c.organisation_at.get((first + (lead.end() if lead else 0), last))
        if named:
            if org and org != named:
                raise c.error(f"{name}_words {words!r} name {named!r} (a mention of it); {name} {org!r} "
                              "disagrees with the words", line_of(e, name))
            if rule:
                raise c.error(f"{name}_rule: the words {words!r} name {named!r}, so the {name} is stated; a rule "
                              "is only for an inferred party", line_of(e, f"{name}_rule"))
            org, basis = named, "stated"
        elif words.casefold() in FIRST_PERSON:
            if org or rule:
                raise c.error(f"{name}_words {words!r} is the first person, resolved by the first-person rule "
                              f"(in a statement its speaker's organisation, in the narrative the publisher); "
                              f"leave {name} and {name}_rule out", line_of(e, name) or line_of(e, f"{name}_rule"))
            org = statement["speaker_organisation_id"] if statement else c.publisher
            if not org:
                where_ = f"statement {statement['statement_id']!r} names no organisation the speaker heads" \
                    if statement else "the source section names no publisher"
                raise c.error(f"{name}_words {words!r}: the first person cannot be resolved: {where_}", line)
            basis, rule = "inferred", c.tables.first_person_rule
    elif giver:
        if org or rule:
            raise c.error(f"{name}: the giver of a request the words do not name is coded by the request rule "
                          "(schema/package.yaml request_rule: in a statement its speaker's organisation, in the "
                          f"narrative the publisher); leave {name} and {name}_rule out",
                          line_of(e, name) or line_of(e, f"{name}_rule"))
        org = statement["speaker_organisation_id"] if statement else c.publisher
        if not org:
            raise c.error(f"{name}: the request rule cannot code the giver: "
                          + (f"statement {statement['statement_id']!r} names no organisation the speaker heads"
                             if statement else "the source section names no publisher"), line)
        basis, rule = "inferred", c.tables.request_rule
    elif org and c.organisation_mentions(org, row["evidence_id"]):
        raise c.error(f"{name} {org!r} is named in the row's words: give {name}_words, the words that name it "
                      "(the party is then stated)", line_of(e, name))
    if org and c.tables.entities.get(org, {}).get("kind") != "organisation":
        raise c.error(f"{name} {org!r} is not an organisation of the package (listed under organisations in this "
                      "bulletin or an earlier one)", line_of(e, name))
    if basis is None:
        if org and not rule:
            raise c.error(f"{name} {org!r} is not named by the words: give {name}_rule, the rule that infers it "
                          "(or leave the organisation out: not_stated)", line_of(e, name))
        basis = "inferred" if org else "not_stated"
        if basis == "not_stated" and e.get(f"{name}_rule") is None and words:
            raise c.error(f"{name}_words {words!r} name no organisation: give {name}_rule (the rule that infers "
                          f"{name}, with {name}, or why none is coded)", line_of(e, f"{name}_words"))
    coding = {f"{name}_words": words, f"{name}_evidence_id": evidence_id, fact_kinds.organisation_column(name): org,
              f"{name}_basis": basis, f"{name}_rule": " ".join(rule.split()) if isinstance(rule, str) else None}
    if words and basis != "stated" and rule not in (c.tables.first_person_rule, c.tables.request_rule):
        c.tables.same_words(words, coding, name, c.path, line)
    return coding


def event_date(c: Context, e: dict) -> dict:
    """The date columns of an event, from how its annotation says the date is given."""
    how, line = e["date"], e["__line__"]
    if (how == "days_into") != (e.get("anchor") is not None):
        raise c.error("an anchor is given with `date: days_into`, and only then", line_of(e, "anchor") or line)
    if how == "dateline":
        stated = c.derived(e, dates.parse_dateline, e["quote"], c.tables.date_rules)
        if stated.published is None:
            return dict(date=stated.day.isoformat(), date_precision="day", date_basis="stated",
                        date_rule="printed in the bulletin's dateline, which prints no time")
        return dict(date=stated.day.isoformat(), time=stated.published.strftime("%H:%M:%S"),
                    utc_offset=dates.offset_text(stated.published), date_precision="minute", date_basis="stated",
                    date_rule="printed in the bulletin's dateline")
    if how == "day_phrase":
        return c.derived(e, dates.resolve_day_phrase, e["quote"], c.b.published_day,
                         e.get("modality") in FORWARD_MODALITIES).columns()
    if how == "printed":
        return c.derived(e, dates.read_printed, e["quote"], c.b.published_day, c.tables.date_rules).columns()
    if how == "relative":
        return c.derived(e, dates.read_relative, e["quote"], c.b.published_day, c.tables.date_rules,
                         e.get("modality") in PAST_MODALITIES).columns()
    if how == "days_into":
        anchor = c.events.get(e.get("anchor"))
        if not anchor or not anchor["date"]:
            raise c.error(f"anchor {e.get('anchor')!r} must be an earlier event with a date", line)
        days = c.derived(e, derive.days_into, e["quote"])
        return dict(date=(date.fromisoformat(anchor["date"]) + timedelta(days=days)).isoformat(),
                    date_precision="day", date_basis="inferred",
                    date_rule=f"{days} day(s) after the date of {anchor['event_id']} ({anchor['date']})")
    if how == "not_stated":
        return dict(date_precision="unknown", date_basis="not_stated", date_rule="the bulletin does not give a date")
    raise c.error(f"date must be one of dateline, printed, day_phrase, relative, days_into, not_stated; got {how!r}",
                  line)


# ---------------------------------------------------------------- the fact kinds

# A fact kind whose values need code (a number read from the words, a date, a phone number):
# table -> function(context, entry) -> the computed columns. Every other column comes from the
# kind's declaration in schema/package.yaml.
COMPUTED: dict = {}
# After every row of the bulletin is made: table -> function(context, row, entry), for a computed
# value that needs another row (an event's date bound).
FINISH: dict = {}


def computed(table: str, when: dict = COMPUTED):
    def register(func):
        when[table] = func
        return func
    return register


def add_claims(c: Context, table: str, entries: list[dict]) -> None:
    """The rows of a fact kind, from its declaration: the ID, the words, every column the curator
    writes (`input:`), the computed ones (COMPUTED) and, for a claim, its modality (mapped from the
    kind's own code where the kind says so). An attribute's words are found inside its claim's words,
    so they are placed, like links, items, parties and the statement, by `finish_claims` once every
    row of the bulletin is made: no section depends on the order of the others."""
    res = c.tables.resources[table]
    claim = res["claim"]
    key, kind = claim["id"], fact_kinds.role(res)
    for e in entries:
        line = e["__line__"]
        base = {key: f"{c.sid}-{e['id']}", "evidence_id": None if kind == "attribute" else c.ev(e)}
        for field in res["fields"]:
            input_, name = field.get("input"), field["name"]
            if input_ in ("words", "code", "flag"):
                base[name] = e.get(input_models.input_key(field))
            elif input_ == "own":
                value = e.get(input_models.input_key(field))
                base[name] = " ".join(value.split()) if isinstance(value, str) else value
            elif input_ == "quote" and name != "evidence_id":
                base[name] = c.ev(e, input_models.input_key(field))
        for field in res["fields"]:  # a count the declaration reads from the words, once the words are copied
            if field.get("computed") == "number":
                counted = field.get("words") or base.get(field.get("words_from"))
                base[field["name"]] = c.derived(e, derive.count_before, e.get("quote"), counted)
        if table in COMPUTED:
            base.update(COMPUTED[table](c, e))
            missing = [n for n in c.tables.computed.get(table, []) if n not in base]
            if missing:
                raise BuildError(c.tables.spec_path, f"{table}.{missing[0]}: the kind's computation (COMPUTED "
                                 f"[{table!r}] in scripts/claims/extract.py) gives it no value; declare what the "
                                 "curator writes for it (`input:`), or compute it",
                                 declarations.line(c.tables.spec, table, missing[0]))
        if kind == "claim":
            mapped = claim.get("modality")
            if mapped:
                base["modality"] = mapped["map"][base[mapped["from"]]]
            if e.get("facet_of"):
                c.facets[base[key]] = f"{c.sid}-{e['facet_of']}"
            else:
                c.claim_ids.add(base[key])
            base["claim_id"] = c.facets.get(base[key], base[key])
        stored = c.add(table, base, line)
        c.pending.append((res, stored, e))


def inside_claim(c: Context, e: dict, claim_id: str, quote: str, what: str) -> str:
    """The evidence ID of `quote` found exactly once inside the words of claim `claim_id`."""
    first, last = c.tables.spans[c.claim_rows[claim_id]["evidence_id"]]
    words = c.b.text[first:last]
    where = [m.start() for m in re.finditer(re.escape(quote), words)] if isinstance(quote, str) and quote else []
    if len(where) != 1:
        found = "is not" if not where else f"is found {len(where)} times"
        raise c.error(f"{what} {quote!r} {found} inside the words of claim {claim_id!r} ({words!r}): "
                      "an attribute's words are its own, inside the claim they qualify; quote exactly them",
                      line_of(e, "quote"))
    return c.evidence_at(first + where[0], first + where[0] + len(quote))


def add_items(c: Context, res: dict, row: dict, e: dict) -> None:
    """The lists inside a claim (`items:` of its kind): one row of claim_items per item, its words found
    inside the claim's words in the order listed."""
    first, last = c.tables.spans[row["evidence_id"]]
    for list_key, item_type in fact_kinds.items(res).items():
        cursor = first
        for position, words in enumerate(e.get(list_key) or [], 1):
            found = c.b.text.find(words, cursor, last)
            if found < 0:
                later = "" if c.b.text.find(words, first, last) < 0 else " after the item before it"
                raise c.error(f"{list_key}: {words!r} is not in the claim's words{later} (items are listed in "
                              "the order printed)", line_of(e, list_key))
            cursor = found + len(words)
            c.add("claim_items", {"item_id": f"{row['claim_id']}-{item_type}-{slug(words)}", "claim_id": row["claim_id"],
                                  "item_type": item_type, "position": position, "words": words,
                                  "evidence_id": c.evidence_at(found, cursor)}, line_of(e, list_key))


def finish_claims(c: Context) -> None:
    """Facets, attributes' words, links, statements, parties and items of every claim row of the
    bulletin, then its row rules."""
    quotes = c.tables.quotes()
    c.claim_rows = {}
    seen_words: dict[str, tuple[str, int]] = {}
    for res, row, e in c.pending:
        if fact_kinds.role(res) != "claim":
            continue
        own = row[res["claim"]["id"]]
        if own in c.claim_ids:
            c.claim_rows[own] = row
            other = seen_words.setdefault(row["evidence_id"], (own, e["__line__"]))
            if other[0] != own:
                raise c.error(f"two claims with the same words: {own!r} and {other[0]!r} (line {other[1]}) both "
                              f"quote {quotes[row['evidence_id']]!r}. The same words are one claim: quote each "
                              "claim's own clause, or make one a facet of the other (facet_of)", e["__line__"])
    for res, row, e in c.pending:
        own = row[res["claim"]["id"]]
        if own in c.facets:
            target = c.facets[own]
            if target not in c.claim_rows:
                raise c.error(f"facet_of {e['facet_of']!r} is not a claim of this bulletin (a facet names the claim "
                              "whose words it tells, itself no facet)", line_of(e, "facet_of"))
            if c.claim_rows[target]["evidence_id"] != row["evidence_id"]:
                raise c.error(f"facet_of {e['facet_of']!r}: a facet tells the same words as its claim "
                              f"({quotes[c.claim_rows[target]['evidence_id']]!r}); these are other words: code them "
                              "as a claim of their own", line_of(e, "facet_of"))
    for res, row, e in c.pending:
        line, kind = e["__line__"], fact_kinds.role(res)
        if kind == "attribute":
            row["claim_id"] = c.resolve(next(f for f in res["fields"] if f["name"] == "claim_id"), e)
            row["evidence_id"] = inside_claim(c, e, row["claim_id"], e.get("quote"), f"{res['name']} quote")
            quotes[row["evidence_id"]] = c.b.text[slice(*c.tables.spans[row["evidence_id"]])]
        start, end = c.tables.spans[row["evidence_id"]]
        statement = next((s for s in c.statements if s["start"] <= start and end <= s["end"]), None)
        row["statement_id"] = statement["statement_id"] if statement else None
        typed = e.get("statement")
        if typed is not None and f"{c.sid}-{typed}" != row["statement_id"]:
            where = f"in statement {statement['statement_id']!r}" if statement else "in no quoted statement"
            raise c.error(f"statement {typed!r} disagrees with the words: the row's quote lies {where} (the "
                          "statement is computed from the words; leave the key out)", line_of(e, "statement"))
        party_columns = set()
        giver = res["claim"].get("giver")
        for name in fact_kinds.parties(res):
            coding = party(c, e, row, name, statement, giver=name == giver)
            party_columns |= set(coding)
            row.update(coding)
        for field in res["fields"]:
            if field.get("input") == "ref" and field["name"] not in party_columns and not field.get("list") \
                    and not (field["name"] == "claim_id" and kind in ("claim", "attribute")):
                row[field["name"]] = c.resolve(field, e)
        if kind == "link":
            inside = [cid for cid in (row["from_claim_id"], row["to_claim_id"])
                      if c.tables.spans[c.claim_rows[cid]["evidence_id"]][0] <= start
                      and end <= c.tables.spans[c.claim_rows[cid]["evidence_id"]][1]]
            if not inside:
                raise c.error(f"{res['name']}: the link's words {quotes[row['evidence_id']]!r} lie inside the words of "
                              "neither claim it joins; quote the words that state the link", line_of(e, "quote"))
        if kind == "claim":
            add_items(c, res, row, e)
        if res["name"] in FINISH:
            FINISH[res["name"]](c, row, e)
        broken = rules.broken(c.tables.rules.get(res["name"], []), row, quotes)
        if broken:
            raise c.error("; ".join(f"{res['name']} rule {r.name}: {r.message}" for r in broken), line)
    check_event_dates(c)


PAST = PAST_MODALITIES


def check_event_dates(c: Context) -> None:
    """The dates of the bulletin's events agree with their order and with the publication: a later event
    (in `sequence`) is never dated before an earlier one, and an event that has happened is never dated
    after the publication day. Each stops the build at the entry whose date disagrees."""
    published = getattr(c.b, "published_day", None)
    rows = sorted(((row, e) for res, row, e in c.pending if res["name"] == "events"), key=lambda p: p[0]["sequence"])
    latest = None
    for row, e in rows:
        if not row.get("date"):
            continue
        dated = date.fromisoformat(row["date"])
        if published and row.get("modality") in PAST and dated > published:
            raise c.error(f"events: {row['date']} is after the bulletin's publication ({published.isoformat()}), but "
                          f"the event is told as {row['modality']}: a past event is never dated after the bulletin "
                          "that reports it (date: how the date is given)", line_of(e, "date") or e["__line__"])
        if latest and dated < latest[0]:
            raise c.error(f"events: {row['date']} contradicts the order of events: sequence {row['sequence']} comes "
                          f"after {latest[1]!r} (sequence {latest[2]}), dated {latest[0].isoformat()}",
                          line_of(e, "date") or e["__line__"])
        if not latest or dated >= latest[0]:
            latest = (dated, row["event_id"], row["sequence"])


FIRST_PERSON_WORD = re.compile(r"(?i)(?<![\w’'])(we|us|our)(?![\w’'])")


def check_first_person(c: Context) -> None:
    """Every first-person word of the bulletin (we, us, our) is resolved (it lies in a party's words,
    coded by the first-person rule) or excused under `first_person:` with the reason."""
    resolved = []
    for _, row, _ in c.pending:  # every row of a fact kind of this bulletin
        resolved += [c.tables.spans[v] for k, v in row.items()
                     if v and k.endswith("_evidence_id") and k[:-len("_evidence_id")] + "_words" in row]
    excused = []
    for e in c.b.entries("first_person"):
        quote = e["quote"]
        if c.b.text.count(quote) != 1:
            raise c.error(f"first_person: quote must be found exactly once in {c.b.source_path.name}: {quote!r}",
                          line_of(e, "quote"))
        start = c.b.text.find(quote)
        inner = [(start + m.start(), start + m.end()) for m in FIRST_PERSON_WORD.finditer(quote)]
        if len(inner) != 1:
            raise c.error(f"first_person: the quote holds {len(inner)} first-person words; quote words around "
                          "exactly one", line_of(e, "quote"))
        if any(s <= inner[0][0] and inner[0][1] <= t for s, t in resolved):
            raise c.error(f"first_person: {c.b.text[slice(*inner[0])]!r} here is a party's words, resolved by the "
                          "first-person rule; excuse only a first person no party holds", line_of(e, "quote"))
        excused.append(inner[0])
    missing = [m for m in FIRST_PERSON_WORD.finditer(c.b.text)
               if not any(s <= m.start() and m.end() <= t for s, t in resolved) and m.span() not in excused]
    if missing:
        lines = [f"  {c.b.source_path.name}:%d:%d {m.group(0)!r} in {c.b.text[max(0, m.start() - 30):m.end() + 30]!r}"
                 % sentences.line_col(c.b.text, m.start()) for m in missing]
        raise c.error(f"{len(missing)} first-person word(s) of {c.b.source_path.name} are in no party's words: code "
                      "the party they are (its words resolve by the first-person rule), or excuse each under "
                      "`first_person:` with a quote and the reason:\n" + "\n".join(lines), None)


@section("events")
def add_events(c: Context, entries: list[dict]) -> None:
    """Events in the order of their sequence (a date counted from an earlier event needs it first)."""
    add_claims(c, "events", sorted(entries, key=lambda item: item["sequence"]))


@computed("events")
def event_values(c: Context, e: dict) -> dict:
    values = {"event_id": f"{c.sid}-{e['id']}", "date": None, "time": None, "utc_offset": None,
              "part_of_day": None, "date_end": None, "date_rule": None, "date_latest": None,
              "date_earliest": None, "timeline": None, **event_date(c, e)}  # bounds and timeline: once all are read
    c.events[e["id"]] = {**values, "sequence": e["sequence"], "event_type": e["event_type"]}
    return values


@computed("events", FINISH)
def event_bound(c: Context, row: dict, e: dict) -> None:
    """date_latest: the date of the later event the words order this one before, or (the reported rule) the
    bulletin's publication for an undated event told as done; date_earliest: the date of the earlier event it
    comes after. A link to another bulletin's event is resolved once every bulletin is read."""
    row["date_earliest"] = None
    for key, column in (("latest", "date_latest_event_id"), ("after", "date_earliest_event_id")):
        if not row.get(column):
            continue
        if c.other_bulletin(row[column]) and e.get(key) not in c.events:
            c.tables.cross_links.append((c, row, e, key))
            continue
        bound = c.events[e[key]]
        later = bound["sequence"] > row["sequence"]
        if key == "latest" and (not bound["date"] or not later):
            raise c.error(f"latest {e['latest']!r} must be a later event in this file with a date", line_of(e, "latest"))
        if key == "after" and later:
            raise c.error(f"after {e['after']!r} must be an earlier event in this file (a lower sequence), or an "
                          "event of another bulletin by its full ID", line_of(e, "after"))
        if key == "latest":
            row["date_latest"] = bound["date"]
        elif not row.get("date"):
            row["date_earliest"] = bound["date"]
    if not row.get("date") and not row.get("date_latest_event_id") and row.get("modality") in PAST:
        published = next((v for k, v in c.events.items() if v.get("event_type") == "bulletin_published"), None)
        if published and published["event_id"] != row["event_id"]:
            row.update(date_latest=published["date"], date_latest_event_id=published["event_id"],
                       date_latest_event_basis="inferred", date_latest_event_rule=c.tables.reported_rule)


@computed("threat_assessments")
def assessment_values(c: Context, e: dict) -> dict:
    """The level the words print, and the level a change moves from when they print it too ('from critical
    to severe'); otherwise the previous-level rule gives it once every bulletin is read (`threat_changes`)."""
    change = c.derived(e, derive.threat_change, e["level_quote"], c.levels, key="level_quote")
    if change.from_level:
        return {"level_id": change.to_level, "from_level_id": change.from_level, "from_level_basis": "stated",
                "from_level_rule": None}
    return {"level_id": change.to_level, "from_level_id": None, "from_level_basis": "not_stated",
            "from_level_rule": "the words print only the level it moves to, and no earlier assessment of the corpus gives one"}


@computed("personnel")
def personnel_values(c: Context, e: dict) -> dict:
    count = c.derived(e, derive.headcount, e["quote"])
    window = c.derived(e, derive.window_hours, e["quote"]) or (None, None)
    return {"qualifier": count.qualifier, "count_min": count.low, "count_max": count.high,
            "window_min_hours": window[0], "window_max_hours": window[1]}


@computed("contacts")
def contact_values(c: Context, e: dict) -> dict:
    number = c.derived(e, derive.phone, e["quote"])
    return {"number_as_printed": number.as_printed, "e164": number.e164, "number_type": number.number_type,
            "emergency": number.emergency}


CONTACT_CODING = ("purpose", "confidential")
CONTACT_PARTY = ("organisation", "organisation_words", "organisation_rule")


@section("contacts")
def add_contacts(c: Context, entries: list[dict]) -> None:
    """A contact is one thing across bulletins, keyed by its normalised number (E.164, or a short number's
    digits), however it is printed. The bulletin that first prints a number defines the contact's row (with
    its purpose, confidentiality and answering organisation); a later bulletin that prints it lists it under
    the same ID and reuses the row. The same number under two IDs, or one ID for two numbers, stops the build
    at the entry. Every printing of a known number in the text is a mention of the contact."""
    known, new = c.tables.contacts, []
    for e in entries:
        number = c.derived(e, derive.phone, e["quote"])
        key = derive.contact_key(number)
        named = c.tables.contact_names.get(e["id"])
        if named and named[0] != key:
            raise c.error(f"contact {e['id']!r} is {number.as_printed!r} here, but the ID names {named[1]!r} "
                          f"({display_path(named[2])}:{named[3]}): an ID names one number in every bulletin",
                          line_of(e, "quote"))
        seen = known.get(key)
        if seen is None:
            missing = [k for k in CONTACT_CODING if e.get(k) is None]
            if missing:
                raise c.error(f"contact {e['id']!r}: {' and '.join(missing)} required where the number is first "
                              f"printed (here, {number.as_printed!r})", e["__line__"])
            known[key] = {"id": f"{c.sid}-{e['id']}", "curator": e["id"], "entry": e, "path": c.path,
                          "printed": number.as_printed}
            c.tables.contact_names[e["id"]] = (key, number.as_printed, c.path, e["__line__"])
            c.contact_ids[e["id"]] = known[key]["id"]
            new.append(e)
            continue
        first = f"{display_path(seen['path'])}:{seen['entry']['__line__']}"
        if seen["curator"] != e["id"]:
            raise c.error(f"the same contact number under two IDs: {number.as_printed!r} is contact {seen['curator']!r} "
                          f"({first}, printed {seen['printed']!r}); a number is one contact in every bulletin: "
                          f"write id: {seen['curator']}", line_of(e, "id"))
        for k in CONTACT_CODING:
            if e.get(k) is not None and e[k] != seen["entry"].get(k):
                raise c.error(f"contact {e['id']!r}: {k} {e[k]!r} disagrees with the contact's definition ({first}: "
                              f"{seen['entry'].get(k)!r}); a contact is coded where first printed: leave {k} out "
                              "or give the same", line_of(e, k))
        for k in CONTACT_PARTY:
            if e.get(k) is not None:
                raise c.error(f"contact {e['id']!r}: the answering organisation is coded where the number is first "
                              f"printed ({first}); leave {k} out here", line_of(e, k))
        if c.b.text.count(e["quote"]) != 1:
            locate(c.b, c.tables, e["quote"], line_of(e, "quote"))  # names why (not found, or found twice)
        c.contact_ids[e["id"]] = seen["id"]
    add_claims(c, "contacts", new)
    for token in recognise.phones(c.b.text):  # every printing of a known number, in any spacing
        try:
            key = derive.contact_key(derive.phone(token.text))
        except ValueError:
            continue
        if key in known:
            entry = next((e for e in entries if e["id"] == known[key]["curator"]), None)
            c.mention(c.evidence_at(token.start, token.end), line_of(entry) if entry else None,
                      contact=known[key]["id"], name=token.text)


@section("statements", input_models.Statement)
def add_statements(c: Context, entries: list[dict]) -> None:
    """Statements, quoted or reported, numbered per speaker in the order of the text (not of the list).
    Their kind (direct when the words open with a quotation mark), their speaker (the mention the
    attribution verb governs, speech.speaker_rule) and the organisation that speaks or that the
    attribution introduces the speaker as heading are computed from the words; a curator's `speaker`
    agrees with them, or corrects the speaker to another person or organisation the attribution names."""
    speech = c.tables.speech
    located = sorted(((c.ev(e), e) for e in entries), key=lambda pair: c.tables.spans[pair[0]])
    mentions = [m for m in c.tables.rows["mentions"] if m["source_id"] == c.sid]
    spans = [c.tables.spans[m["evidence_id"]] for m in mentions]
    paragraphs: dict[str, int] = {}
    for evidence_id, e in located:
        attribution = c.ev(e, "attribution_quote")
        first, last = c.tables.spans[attribution]
        found = derive.attribution_speaker(c.b.text, first, last, spans, speech)
        governed = [m for m, span in zip(mentions, spans) if span == found.speaker]
        typed, corrected = e.get("speaker"), None
        if typed is not None and not any((m["person_id"] or m["organisation_id"]) == typed for m in governed):
            named = [m for m, (s, t) in zip(mentions, spans) if first <= s and t <= last
                     and (m["person_id"] or m["organisation_id"]) == typed]
            if not named:
                raise c.error(f"statements: speaker {typed!r} is not named in the attribution "
                              f"({c.b.text[first:last]!r}): a speaker is a person or organisation the attribution's "
                              "words name", line_of(e, "speaker"))
            governed, corrected = named[:1], "speaker"
        if not governed:
            why = "prints no attribution verb (schema/package.yaml speech.verbs, speech.prepositions)" \
                if not found.verb else f"names no person or organisation that {found.verb!r} governs"
            raise c.error(f"statements: the attribution {c.b.text[first:last]!r} {why}: quote the words that name "
                          "the speaker with the verb, or name the speaker with `speaker:`", line_of(e, "attribution_quote"))
        mention = governed[0]
        speaker = mention["person_id"] or mention["organisation_id"]
        paragraphs[speaker] = paragraphs.get(speaker, 0) + 1
        quote = e["quote"]
        direct = quote[:1] in "“\"‘'"
        start, end = c.tables.spans[evidence_id]
        row = c.add("statements", {
            "statement_id": f"{c.sid}-{e['id']}", "kind": "direct" if direct else "reported",
            "evidence_id": evidence_id, "person_id": mention["person_id"], "organisation_id": mention["organisation_id"],
            "speaker_mention_id": mention["mention_id"], "attribution_evidence_id": attribution,
            "paragraph": paragraphs[speaker], "text": quote.strip("“”\"‘’ ") if direct else quote,
            "speaker_organisation_id": mention["organisation_id"] or mention["role_organisation_id"],
            "corrected": corrected}, e["__line__"])
        c.statements.append({**row, "start": start, "end": end})


def _claim_section(table: str):
    """The section of a fact kind with no section function of its own: its declaration."""
    return lambda c, entries: add_claims(c, table, entries)


@section("first_person", input_models.FirstPerson)
def add_first_person(c: Context, entries: list[dict]) -> None:
    """First-person words no party holds, with the reason: checked with every first-person word of the
    bulletin once its claims are made (`check_first_person`)."""


def excused_start(c: Context, e: dict) -> int:
    """Where an excuse's words are printed: their one place, or their `occurrence`-th (words, such as a
    connective, printed more than once)."""
    quote, text = e["quote"], c.b.text
    places = [m.start() for m in re.finditer(rf"(?<![\w’']){re.escape(quote)}(?![\w’'])", text)]
    wanted = e.get("occurrence")
    if wanted is None:
        if len(places) != 1:
            found = "is not" if not places else f"is printed {len(places)} times"
            raise c.error(f"uncoded: {quote!r} {found} in {c.b.source_path.name} as whole words"
                          + ("; say which with `occurrence: <n>` (1 = the first)" if places else ""),
                          line_of(e, "quote"))
        return places[0]
    if not 1 <= wanted <= len(places):
        raise c.error(f"uncoded: occurrence {wanted} of {quote!r}, which {c.b.source_path.name} prints "
                      f"{len(places)} time(s)", line_of(e, "occurrence"))
    return places[wanted - 1]


@section("uncoded", input_models.Uncoded)
def add_uncoded(c: Context, entries: list[dict]) -> None:
    """Words of the narrative excused from coding, with kind and reason: a few words each, found
    once (or placed by `occurrence` where they are printed more than once), each excused once."""
    for e in entries:
        line, quote = e["__line__"], e["quote"]
        start = excused_start(c, e)
        count = len(clauses.words(quote))
        if e["kind"] == "page_furniture":
            line_start = c.b.text.rfind("\n", 0, start) + 1
            line_end = c.b.text.find("\n", start)
            whole = c.b.text[line_start:len(c.b.text) if line_end < 0 else line_end].strip()
            if whole != quote:
                raise c.error(f"uncoded: page furniture is a whole line of the page ({whole[:60]!r}); quote the "
                              "line, or excuse a few words with another kind", line_of(e, "quote"))
        elif e["kind"] == "headline":
            if quote != c.annotations_title():
                raise c.error("uncoded: a headline is the source's title, quoted whole (source.title)",
                              line_of(e, "quote"))
        elif e["kind"] == "attribution":
            if quote not in {s["attribution_quote"] for s in c.b.entries("statements")}:
                raise c.error("uncoded: an attribution is a statement's attribution_quote, quoted whole",
                              line_of(e, "quote"))
        elif count > MAX_EXCUSED_WORDS:
            raise c.error(f"uncoded: {count} words excused at once, at most {MAX_EXCUSED_WORDS}: code the claim "
                          "they state, or excuse fewer words", line_of(e, "quote"))
        for other_start, other_end, other_line in c.b.excuses:
            if other_start < start + len(quote) and start < other_end:
                raise c.error(f"uncoded: these words are already excused (line {other_line})", line_of(e, "quote"))
        c.b.excuses.append((start, start + len(quote), line))
        c.b.excuse_codes[(start, start + len(quote))] = (e["kind"], " ".join(e["reason"].split()))


def add_sentences(b: Bulletin, tables: Tables, covered: list[tuple[int, int]]) -> None:
    """The bulletin's sentences with their coverage by claims; stop naming source.txt:line:col of
    every run of words that no claim covers and no excuse excuses, and annotations.yaml:line of an
    excuse of words a claim covers."""
    words = clauses.words(b.text)
    inside = clauses.inside(words, covered)
    excused = {}
    for start, end, line in b.excuses:
        for index, (first, last) in enumerate(words):
            if start <= first and last <= end:
                if inside[index]:
                    raise BuildError(b.annotations_path, f"uncoded: {b.text[first:last]!r} lies in a claim's words; "
                                     "excuse only words no row covers", line)
                excused[index] = (start, end)
    runs = clauses.runs([not inside[i] and i not in excused for i in range(len(words))], words)
    if runs:
        lines = []
        for first, last in runs:
            where = "%d:%d" % sentences.line_col(b.text, first)
            lines.append(f"  {b.source_path.name}:{where} {b.text[first:last]!r}")
        raise BuildError(b.annotations_path, f"{len(runs)} run(s) of words of {b.source_path.name} lie in no "
                         "claim's words (a claim, or an attribute, item or link of one) "
                         "and are not excused under `uncoded:` with a kind and a reason; code their claims:\n"
                         + "\n".join(lines))
    cut = sentences.split(b.text)
    for number, (start, end) in enumerate(cut, 1):
        mine = [i for i, (first, last) in enumerate(words) if start <= first and last <= end]
        codes = [b.excuse_codes[excused[i]] for i in mine if i in excused]
        covered_count = sum(1 for i in mine if inside[i])
        tables.add("sentences", {
            "sentence_id": sentences.sentence_id(b.source_id, number, len(cut)), "source_id": b.source_id,
            "number": number, "start": start, "end": end, "text": b.text[start:end], "words": len(mine),
            "words_covered": covered_count, "words_excused": len(codes),
            "covered_share": round(covered_count / len(mine), 4) if mine else 1.0,
            "excused_kind": codes[0][0] if codes else None,
            "reason": "; ".join(dict.fromkeys(reason for _, reason in codes)) or None},
            (b.annotations_path, None))


def add_bulletin(b: Bulletin, tables: Tables, levels: list[str], root: Path) -> None:
    """Every row the bulletin's annotations state, added to `tables`, section by section."""
    context = Context(b, tables, levels, root)
    b.context = context  # for the checks of the whole bulletin once every bulletin is built
    try:
        for name, add_section in b.registry.sections.items():
            add_section(context, b.entries(name))
        finish_claims(context)
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


@dataclass(frozen=True)
class Registry:
    """The annotation sections of one package, in the order they are read: section name -> the
    function that makes its rows (`sections`) and the model of one entry (`models`); the model of a
    whole annotations.yaml (`annotations`), and the keys each section allows and requires (for the
    drafting aid). A fact kind is its declaration: its section makes its rows by `add_claims` and its
    entry's model is built from the declaration (scripts/inputs/input_models.py, `claim_model`)."""

    sections: dict
    models: dict
    annotations: type
    keys: dict
    required: dict


_REGISTRIES: dict[str, Registry] = {}


def registry(spec: dict) -> Registry:
    """The registry of the package whose declarations are `spec` (made once per content of
    schema/package.yaml, never when this module is imported: a slip in the file is reported by
    package_spec, naming its line, before anything reads it)."""
    key = spec.get("_digest") or repr([(r["name"], r.get("claim"), r["fields"]) for r in spec["resources"]])
    if key not in _REGISTRIES:
        if len(_REGISTRIES) > 4:  # a few packages at a time (tests build many variants in one process)
            _REGISTRIES.clear()
        sections, models = dict(_SECTIONS), dict(_SECTION_MODELS)
        for table in [r["name"] for r in fact_kinds.claim_tables(spec)]:
            if table not in sections:
                sections[table] = _claim_section(table)
            models[table] = input_models.claim_model(spec, table)
        sections["uncoded"] = sections.pop("uncoded")  # read last, as written last
        models["uncoded"] = models.pop("uncoded")
        annotations = input_models.annotations_model(models)
        _REGISTRIES[key] = Registry(sections, models, annotations, *input_models.section_keys(models))
    return _REGISTRIES[key]


def __getattr__(name: str):
    """The registry of this repository's package as module attributes (SECTIONS, SECTION_MODELS,
    ANNOTATIONS, SECTION_KEYS, REQUIRED_KEYS), read on first use."""
    fields = {"SECTIONS": "sections", "SECTION_MODELS": "models", "ANNOTATIONS": "annotations",
              "SECTION_KEYS": "keys", "REQUIRED_KEYS": "required"}
    if name in fields:
        return getattr(registry(package_spec(ROOT)), fields[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    written by the release step, scripts/outputs/build_dist.py)."""
    found = {}
    for listed in sorted(releases.glob("*-ids.csv"), key=lambda p: version_key(p.name[:-len("-ids.csv")])):
        with open(listed, newline="", encoding="utf-8") as handle:
            found[listed.name[:-len("-ids.csv")]] = {
                row["id"]: (row["table_name"], number) for number, row in enumerate(csv.DictReader(handle), start=2)}
    return found


def released_meanings(releases: Path) -> dict[str, dict[str, tuple[str, int]]]:
    """Version -> {ID -> (meaning, line)}: what each fact-kind row a release published meant, where
    its list records it (the `meaning` column, scripts/claims/claim_rows.py; lists older than 3.0.0 have none)."""
    found = {}
    for listed in sorted(releases.glob("*-ids.csv"), key=lambda p: version_key(p.name[:-len("-ids.csv")])):
        with open(listed, newline="", encoding="utf-8") as handle:
            found[listed.name[:-len("-ids.csv")]] = {
                row["id"]: (row["meaning"], number) for number, row in enumerate(csv.DictReader(handle), start=2)
                if row.get("meaning")}
    return found


def check_meanings(tables: Tables, releases: Path, retired: set[str]) -> None:
    """A released row kept under its ID still means what it meant: its coded values, figures,
    parties' organisations and links are what the release recorded. A row whose meaning changes is
    another row: it gets a new ID, and the old one is retired with the reason."""
    now = {}
    for table in tables.claim_tables:
        res = tables.resources[table]
        key = res["claim"]["id"]
        now.update({row[key]: claim_rows.meaning(res, row) for row in tables.rows[table]})
    for released, recorded in released_meanings(releases).items():
        for old, (was, number) in recorded.items():
            # Compared on the columns both versions have: a column renamed or re-scaled by a major
            # version (its map is in CHANGELOG.md) is not a change of one row's meaning.
            before, after = _meaning_columns(was), _meaning_columns(now.get(old, ""))
            changed = [f"{k} {before[k]!r} -> {after[k]!r}" for k in before if k in after and before[k] != after[k]]
            if old in now and old not in retired and changed:
                path, line = tables.origins[old]
                raise BuildError(path, f"row {old!r} no longer means what release {released} published "
                                 f"(data/releases/{released}-ids.csv line {number}): {', '.join(changed)}. A row whose "
                                 "meaning changes is another row: give the entry a new id and retire this one in "
                                 "data/releases/retired-ids.yaml with the reason", line)


def _meaning_columns(text: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in text.split("; ") if "=" in part)


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
        elif retired_in != version and retired_in not in published:
            problem(e, "retired_in", f"retired_in {retired_in!r} is neither this version ({version}) nor a release "
                    "(no data/releases/<version>-ids.csv): an ID is retired by a version that exists")
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
    check_meanings(tables, releases, set(retired))


def version_key(version: str) -> tuple:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def discover(raw_dir: Path) -> list[Path]:
    """Every bulletin folder (one holding source.txt) under `raw_dir`, in name order."""
    return sorted((p.parent for p in Path(raw_dir).glob("*/source.txt")), key=lambda p: p.name)


def build(root: Path = ROOT) -> dict:
    """All tables' rows for the package at `root`, checked; raises BuildError."""
    root = Path(root)
    spec = package_spec(root)
    check_computed(spec)
    tables = Tables(spec)
    # Every hand-written file is read and checked before anything is built from it, and the
    # problems of all of them are reported together.
    problems = []
    try:
        levels = add_reference(tables, root / "data" / "reference", spec)
    except InputErrors as errors:
        problems += errors.problems
    try:
        tables.date_rules = dates.load_rules(root)
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
    bulletins = sorted(readable, key=lambda b: (b.published_order, b.folder.name))
    tables.bulletin_ids = {b.source_id for b in bulletins}
    for bulletin in bulletins:
        add_bulletin(bulletin, tables, levels, root)
    for check in (organisations_part_of, cross_bulletin_links, one_timeline, threat_changes):
        try:
            check(tables, bulletins, levels)
        except BuildError as error:
            owner = next((b for b in bulletins if b.annotations_path == error.path), None)
            raise (with_key_path(error, owner) if owner else error) from None
    check_printed(tables)
    tables.rows["evidence"].sort(key=lambda r: (r["source_id"], r["start"], r["end"]))
    spans, own = coverage.fact_spans(tables.rows)
    coding = clauses.covering_spans(tables.rows, clauses.coding_tables(tables.fields))
    for bulletin in bulletins:
        coverage.check(bulletin, spans.get(bulletin.source_id, []), levels, own.get(bulletin.source_id))
        add_sentences(bulletin, tables, coding.get(bulletin.source_id, []))
        try:
            check_first_person(bulletin.context)
        except BuildError as error:
            raise with_key_path(error, bulletin) from None
    # An index of the fact kinds' rows (their IDs are theirs, so they are not added as new IDs).
    tables.rows["claims"] = claim_rows.claim_rows(spec, tables.rows, tables.publishers)
    claim_rows.list_in_sentences(tables.rows)
    add_retired(tables, root / "data" / "releases", str(package_spec(root)["version"]), retired_entries,
                {b.source_id: b.annotations_path for b in bulletins})
    check_filled(tables)
    return {"fields": tables.fields, "rows": tables.rows, "origins": tables.origins, "spec": spec}


def check_computed(spec: dict) -> None:
    """A fact kind's own field that the curator does not write (no `input:`) and the declaration does
    not compute (`computed:`) is computed by code (COMPUTED); stop at its line of schema/package.yaml
    when no code does."""
    path = Path(spec.get("_path") or ROOT / "schema" / "package.yaml")
    problems = [Problem(path, declarations.line(spec, table, name), f"{table}.{name}",
                        "the curator writes no value for it (no `input:`) and nothing computes it: declare `input:` "
                        "(what the curator writes), `computed: number` with `words:` (a count read from the words), "
                        f"or register a function for {table} in COMPUTED (scripts/claims/extract.py)")
                for table, names in (spec.get("_computed") or {}).items() if table not in COMPUTED for name in names]
    if problems:
        raise InputErrors(problems)


def check_filled(tables: Tables) -> None:
    """Every declared column of a table with rows is filled by some step of the build (an empty value
    counts); a column no step writes is a field of schema/package.yaml the build does not know."""
    problems = []
    for table, fields in tables.fields.items():
        rows = tables.rows[table]
        if not rows:
            continue
        written = set().union(*(row.keys() for row in rows))
        if written - tables.columns[table]:
            problems.append(Problem(tables.spec_path, declarations.line(tables.spec, table), table,
                                    f"the build writes column(s) {', '.join(sorted(written - tables.columns[table]))}, "
                                    f"which the declaration of {table} does not list; declare them"))
        problems += [Problem(tables.spec_path, declarations.line(tables.spec, table, name), f"{table}.{name}",
                             "no step of the build fills this column (the curator writes none: no `input:`); "
                             "remove it, or say what fills it") for name in fields if name not in written]
    if problems:
        raise InputErrors(problems)


def organisations_part_of(tables: Tables, bulletins, levels) -> None:
    """An organisation coded part of another (`part_of` of its entry in a bulletin that names it): the other
    is an organisation of the package; stated when part_of_words hold a mention of it (no rule), else inferred
    by part_of_rule; one parent, and no cycle. Each problem stops the build at the curator's line."""
    rows = {r["organisation_id"]: r for r in tables.rows["organisations"]}
    for row in rows.values():  # none is part of another unless coded so
        for column in ("part_of_organisation_id", "part_of_words", "part_of_evidence_id", "part_of_basis",
                       "part_of_rule"):
            row.setdefault(column, None)
    where: dict[str, tuple] = {}
    for c, e, evidence_id in tables.part_of:
        org, parent, rule = e["id"], e["part_of"], e.get("part_of_rule")
        line = line_of(e, "part_of")
        if tables.entities.get(parent, {}).get("kind") != "organisation":
            raise c.error(f"organisation {org!r}: part_of {parent!r} is not an organisation of the package (listed "
                          "under organisations in a bulletin)", line)
        if parent == org:
            raise c.error(f"organisation {org!r} is part_of itself: an organisation is part of another", line)
        names = evidence_id and c.organisation_mentions(parent, evidence_id)
        if names and rule:
            raise c.error(f"part_of_rule: the words {e['part_of_words']!r} name {parent!r}, so the part_of is stated; "
                          "a rule is only for an inferred part_of", line_of(e, "part_of_rule"))
        if not names and not rule:
            raise c.error(f"organisation {org!r}: part_of {parent!r} is not named by part_of_words"
                          + ("" if e.get("part_of_words") else " (none given)")
                          + ": give part_of_rule, the rule that infers it", line)
        if org in where and where[org][0] != parent:
            first = where[org]
            raise c.error(f"organisation {org!r}: part_of {parent!r}, but {first[0]!r} at {display_path(first[1])}:"
                          f"{first[2]}; an organisation is part of one other", line)
        if org in where or org not in rows:
            continue
        where[org] = (parent, c.path, line, c)
        rows[org].update(part_of_organisation_id=parent, part_of_words=e.get("part_of_words"),
                         part_of_evidence_id=evidence_id, part_of_basis="stated" if names else "inferred",
                         part_of_rule=" ".join(rule.split()) if rule else None)
    for org, (parent, path, line, c) in where.items():
        chain = [org]
        while parent in where and parent not in chain:
            chain.append(parent)
            parent = where[parent][0]
        if parent == org:  # org is in the cycle (one that only leads into a cycle is not its fault)
            loop = " -> ".join(chain + [parent])
            raise c.error(f"organisation {org!r}: part_of makes a cycle ({loop}); an organisation is never part "
                          "of itself through others", line)


def cross_bulletin_links(tables: Tables, bulletins, levels) -> None:
    """A link from an event to an event of another bulletin, by its full ID: the event exists (else the build
    stops at the curator's line), and it bounds this one as a link within a bulletin does."""
    events = {r["event_id"]: r for r in tables.rows["events"]}
    for c, row, e, key in tables.cross_links:
        target = events.get(e[key])
        if target is None:
            others = sorted(i for i in events if i.startswith(c.other_bulletin(e[key]) + "-"))
            raise c.error(f"{key} {e[key]!r} is not an event of the package (the events of that bulletin: "
                          f"{', '.join(others) or 'none'})", line_of(e, key))
        if key == "latest":
            bound = target["date"] or target["date_latest"]
            if not bound:
                raise c.error(f"latest {e[key]!r} has no date and no latest date to bound this event", line_of(e, key))
            if row.get("date") and row["date"] > bound:
                raise c.error(f"events: {row['date']} is after {e[key]!r} ({bound}), which the link says comes later",
                              line_of(e, key))
            if not row.get("date"):
                row["date_latest"] = bound
        else:
            bound = target["date"] or target["date_earliest"]
            if row.get("date") and bound and row["date"] < bound:
                raise c.error(f"events: {row['date']} is before {e[key]!r} ({bound}), which the link says comes "
                              "earlier", line_of(e, key))
            if not row.get("date"):
                row["date_earliest"] = bound
        broken = rules.broken(tables.rules.get("events", []), row, tables.quotes())
        if broken:
            raise c.error("; ".join(f"events rule {r.name}: {r.message}" for r in broken), e["__line__"])


def one_timeline(tables: Tables, bulletins, levels) -> None:
    """The events of every bulletin in one order (`timeline`, 1 = earliest): a linear order that keeps each
    bulletin's sequence and every link to an earlier (date_earliest_event_id) or later (date_latest_event_id)
    event, across bulletins too; among events free to come next, the earliest date or bound first, then the
    older bulletin, then the sequence. Links that order events in a circle stop the build at a link's line."""
    import heapq
    events = tables.rows["events"]
    published = {b.source_id: b.published_order for b in bulletins}  # (day, as dated) sorts in order
    by_id = {r["event_id"]: r for r in events}
    after: dict[str, set[str]] = {r["event_id"]: set() for r in events}  # event -> the events it comes after
    by_source: dict[str, list[dict]] = {}
    for r in events:
        by_source.setdefault(r["source_id"], []).append(r)
    for rows in by_source.values():
        rows.sort(key=lambda r: r["sequence"])
        for earlier, later in zip(rows, rows[1:]):
            after[later["event_id"]].add(earlier["event_id"])
    for r in events:
        if r.get("date_earliest_event_id") in by_id:
            after[r["event_id"]].add(r["date_earliest_event_id"])
        if r.get("date_latest_event_id") in by_id:
            after[r["date_latest_event_id"]].add(r["event_id"])

    def key(r):
        when = r.get("date") or r.get("date_earliest") or r.get("date_latest") or "9999-12-31"
        return (when, r.get("time") or "", published[r["source_id"]], r["sequence"], r["event_id"])

    waiting = {i: set(v) for i, v in after.items()}
    followers: dict[str, list[str]] = {}
    for i, earlier in after.items():
        for j in earlier:
            followers.setdefault(j, []).append(i)
    ready = [key(by_id[i]) for i, v in waiting.items() if not v]
    heapq.heapify(ready)
    position = 0
    while ready:
        event_id = heapq.heappop(ready)[-1]
        position += 1
        by_id[event_id]["timeline"] = position
        for j in followers.get(event_id, []):
            waiting[j].discard(event_id)
            if not waiting[j]:
                heapq.heappush(ready, key(by_id[j]))
    left = [i for i in by_id if "timeline" not in by_id[i] or by_id[i]["timeline"] is None]
    if left:
        path, line = tables.origins[left[0]]
        raise BuildError(path, f"the links of events order them in a circle ({', '.join(sorted(left))}): an event "
                         "never comes after itself; check after and latest", line)


def threat_changes(tables: Tables, bulletins, levels) -> None:
    """A change of threat level records the level it moves from: the one its words print, else the level of
    the corpus's previous assessment in the one timeline (the previous-level rule, basis inferred). A raise
    moves up the UK scale (data/reference/uk-threat-levels.yaml) and a lowering down; one that does not stops
    the build at the assessment."""
    events = {r["event_id"]: r for r in tables.rows["events"]}
    rank = {level: n for n, level in enumerate(levels, 1)}
    rows = sorted(tables.rows["threat_assessments"], key=lambda r: events[r["event_id"]]["timeline"])
    previous = None
    for row in rows:
        path, line = tables.origins[row["assessment_id"]]
        event = events[row["event_id"]]
        if row["from_level_basis"] == "not_stated" and previous \
                and events[previous["event_id"]]["timeline"] < event["timeline"] and previous["level_id"] != row["level_id"]:
            row.update(from_level_id=previous["level_id"], from_level_basis="inferred",
                       from_level_rule=f"{tables.previous_level_rule} ({previous['assessment_id']})")
        moves = {"threat_level_raised": ("raise", 1), "threat_level_lowered": ("lowering", -1)}.get(event["event_type"])
        if moves and row.get("from_level_id"):
            step = rank[row["level_id"]] - rank[row["from_level_id"]]
            if step * moves[1] <= 0:
                how = "the words print it" if row["from_level_basis"] == "stated" else \
                    f"the previous assessment of the corpus, {previous['assessment_id']}, is at it"
                raise BuildError(path, f"threat_assessments: a {moves[0]} ({event['event_id']}) from "
                                 f"{row['from_level_id']} ({how}) to {row['level_id']} does not move "
                                 f"{'up' if moves[1] > 0 else 'down'} the UK scale ({', '.join(levels)}): check "
                                 "the event's type or the level words", line)
        broken = rules.broken(tables.rules.get("threat_assessments", []), row, tables.quotes())
        if broken:
            raise BuildError(path, "; ".join(f"threat_assessments rule {r.name}: {r.message}" for r in broken), line)
        previous = row


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
