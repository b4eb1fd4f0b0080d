"""Drafting aid: a new bulletin's text -> a draft annotations file for the curator.

Every fact-bearing token that the coverage check looks for (scripts/claims/recognise.py:
numbers in words and digits, dates, times, weekday and relative-day phrases,
phone numbers, threat-level words, names) becomes a candidate entry in the
section of annotations.yaml it most likely belongs to, with a quote that occurs
exactly once in the text (the token's clause, or the token widened word by word
until unique), the values scripts/claims/derive.py reads from it, and guesses for the
coding keys. The curator confirms (deletes the entry's `draft:` line), corrects
or deletes each entry. An entry that still has its `draft:` line, or lacks a
required key, stops the build with its file and line.

    python -m scripts.tools.draft_annotations SOURCE [--out PATH] [--force] [--root DIR]

Writes SOURCE's folder/annotations.draft.yaml unless --out is given; never
overwrites an existing file without --force.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..claims import dates, derive, recognise
from ..common import ROOT, BuildError, atomic_write_bytes, fail, load_yaml, package_spec
from ..claims import extract
from ..claims.extract import slug

DRAFT_NAME = "annotations.draft.yaml"
# How a date is coded, most specific first (the `date` key of an event).
# How an event's date is given, the most specific first (the values of `date:`; see schema/dates.yaml).
DATE_CODES = ("dateline", "printed", "day_phrase", "relative", "days_into", "not_stated")
# Words that make a name an organisation, and the organisation kind each suggests.
ORGANISATION_WORDS = {
    "Policing": "police_network", "Police": "police_force", "Constabulary": "police_force",
    "Centre": "government_agency", "Center": "government_agency", "Agency": "government_agency",
    "Service": "government_agency", "Office": "government_agency", "Ministry": "government_agency",
    "Department": "government_agency", "Government": "government_agency", "Council": "government_agency",
    "Authority": "government_agency", "Army": "armed_forces", "Navy": "armed_forces",
    "Forces": "armed_forces",
}
ORGANISATION_WORDS.update({w: "police_force" for w in recognise.ORGANISATION_WORDS if w not in ORGANISATION_WORDS})
ABBREVIATION_RE = recognise.ABBREVIATION_RE
ORGANISATION_WORDS.update({"Rail": None, "Railways": None, "Trust": None, "Company": None})
# Common nouns bulletins use for organisations, and the kind each suggests.
# (A phrase that joins names, "police and partners", is no organisation: each party is coded.)
COMMON_ORGANISATIONS = {"police": "police_forces", "military": "armed_forces",
                        "armed forces": "armed_forces", "the army": "armed_forces"}
# Capitals that are no organisation: places, time zones, common initialisms.
NOT_ORGANISATIONS = {"UK", "US", "USA", "EU", "UN", "BST", "GMT", "UTC", "CCTV", "TV", "ID", "OK", "ATM", "PM"}
# Cues for the sections a sentence (or clause) may belong to beyond the numbers and names:
# each is a candidate for the curator to confirm, correct or delete.
CLAIM_CUES = {
    "measures": re.compile(r"\bno plans\b|\breview(?:ing)? security\b|\bchecks? at\b|\bcordon\b|\bclosed?\b|"
                           r"\bdo everything\b|\bpolicing plan\b|\bfreeing up\b|"
                           r"\bdeployed to\b|\bincreased patrolling\b|\b(?:more|additional|extra) armed officers at\b|"
                           r"\b(?:on foot|in vehicles|proactive operations|targeted patrols|high[- ]visibility|"
                           r"stop and search|(?:increased|extra|more|additional) (?:police |armed )?patrols)\b|"
                           r"(?<!military )\b(?:to|will) patrol\b",
                           re.IGNORECASE),
    "advice": re.compile(r"\bshould\b|\b[Pp]lease\b|\b[Ii]f you (?:see|hear|notice)\b|\bIt is (?:critical|vital|important|essential) that\b|"
                         r"\b(?:let us know|call us|trust your instinct|remain vigilant|stay alert|report it)\b|"
                         r"^[“\"]?(?:Look out|Call|Report|Keep|Allow|Plan|Stay|Remain|Trust|Do not|Don’t)\b"),
    "partnerships": re.compile(r"(?<!public )\bwork(?:s|ing)? (?:closely )?with\b|\balongside\b|\bin partnership\b|"
                               r"\bjoin(?:s|ing)? the\b|\benabled us\b|\bwith the support of\b"),
    "command": re.compile(r"\bin (?:control|command)\b|\bunder the command\b|\bcommand(?:s|ing|ed)?\b|"
                          r"\bcontrol of\b"),
    "aims": re.compile(r"\bin an effort to\b|\bas a precautionary measure\b|\bso that\b|\bin order to\b|"
                       r"\bto (?:protect|prevent|deter|disrupt|reassure|support|keep|help|carry out|patrol|join)\b"),
    "qualifiers": re.compile(r"\b(?:urgently|immediately|additional|extra|more|increased|all|major|upcoming|usually|"
                             r"out and about|at this time|across the UK|(?:in|over) the coming (?:days|weeks))\b",
                             re.IGNORECASE),
}
# Cues of the attributes and links a curator codes inside a claim's words (each a candidate to confirm,
# trim or delete); the examples schema/package.yaml quotes for their categories are cues too
# (declared_cues), so a value declared with its words is looked for with no code change.
ATTRIBUTE_CUES = {
    "effects": r"\b(?:which|that|this) (?:may|might|could|will|would|can) (?:cause|lead to|mean) [^,;.]+",
    "framing": r"\b(?:highly |very |most )?(?:un)?likely\b|\b(?:may|might|could) be imminent\b|\bimminent\b|"
               r"\b(?:appalling|horrific|horrendous|cowardly|senseless|shocking|despicable|tragic|dreadful|"
               r"heinous)\b|\b(?:We are|I am|we're) (?:grateful|thankful|proud)\b|\bthank(?:s| you)\b|"
               r"\bIt may (?:well )?be nothing\b|\b(?:well-rehearsed|well-practised|tried and tested)\b",
    "claim_links": r"^(?:[\w’'-]+ ){0,6}?(?:means|may mean|could mean|sees|leads to|led to|results in|"
                   r"resulted in)\b|\b(?:freeing|allowing|enabling) up\b|\bfreeing up\b",
}


def declared_cues(spec: dict) -> dict[str, list[str]]:
    """Section -> the words schema/package.yaml quotes as examples of the categories of its fields
    ("leads_to: ... ('The move sees', 'freeing up')"), for the attribute and link kinds, from the lists of
    codes that are the kind's own."""
    categories = spec.get("categories") or {}
    users: dict[str, set] = {}  # a category list -> the kinds whose fields take it
    for res in spec.get("resources", []):
        for f in res["fields"]:
            if f.get("categories"):
                users.setdefault(f["categories"], set()).add(res["name"])
    found: dict[str, list[str]] = {}
    for res in spec.get("resources", []):
        if (res.get("claim") or {}).get("role") not in ("attribute", "link"):
            continue
        for f in res["fields"]:
            if users.get(f.get("categories")) != {res["name"]}:
                continue  # a list shared by every claim (modality) says nothing of this kind
            values = (categories.get(f.get("categories")) or {}).get("values") or {}
            for meaning in values.values():
                for group in re.findall(r"\(('[^()]*')\)", str(meaning)):
                    found.setdefault(res["name"], []).extend(re.findall(r"'([^']+)'", group))
    return found


CALL_WORDS_RE = re.compile(r"\b(?:call|ring|phone|text|dial|contact)\b", re.IGNORECASE)
DAY_WORDS_RE = re.compile(r"^(?:today|tonight|yesterday|tomorrow|overnight)$", re.IGNORECASE)
STATUS_WORDS = {"freed up": "freed_up", "mobilised": "mobilisable", "deployed": "deployed"}
# A count of people (personnel) names them within a few words of the number: "150 additional officers",
# "3,800 military personnel"; a count of anything else ("12 arrests") is no figure of officers or troops.
PEOPLE_RE = re.compile(r"\s*(?:[\w-]+\s+){0,3}?(?:officers?|personnel|troops|soldiers|police|policemen|staff|"
                       r"constables|detectives|members|specialists|experts|people|servicemen|reservists|"
                       r"marines|sailors|airmen)\b", re.IGNORECASE)
MILITARY_WORDS_RE = re.compile(r"\b(?:military|troops|soldiers|army)\b", re.IGNORECASE)
# Lines of the web page around the bulletin: a follow link, a photograph's caption in brackets.
FURNITURE_RE = re.compile(r"Follow [^\n]+|\[[^\n\]]+\]")


@dataclass
class Known:
    """An organisation, person or contact another bulletin of data/raw/ defines: its ID, the names
    (name and aliases) or number it is known by, and the folder of the bulletin that defines it."""
    section: str
    id: str
    names: list[str]
    bulletin: str
    number: str | None = None  # a contact's number, normalised (E.164, or the digits of a short number)


def contact_number(words: str) -> str | None:
    """The number a contact's words print, normalised as the build keys it: E.164, else the digits."""
    try:
        phone = derive.phone(words)
    except ValueError:
        return None
    return phone.e164 or re.sub(r"\D", "", phone.as_printed)


def known_entities(root: Path, folder: Path | None = None, published: str | None = None) -> list[Known]:
    """The organisations, people and contacts the bulletins of `root`/data/raw/ define, except the one in
    `folder` (the bulletin being drafted) and, when `published` (an ISO date) is given, those published
    after it: bulletins are read oldest first, and the first to list an ID defines it."""
    here = Path(folder).resolve() if folder else None
    bulletins = []
    for path in sorted((Path(root) / "data" / "raw").glob("*/annotations.yaml")):
        if here is not None and path.parent.resolve() == here:
            continue
        try:
            meta = load_yaml(path.parent / "metadata.yaml")
            day = str(meta.get("published", ""))[:10]
        except (BuildError, OSError):
            day = ""
        if published and day and (day, path.parent.name) >= (published, here.name if here else ""):
            continue
        bulletins.append((day, path.parent.name, path))
    found: dict[tuple, Known] = {}
    for _, name, path in sorted(bulletins):
        try:
            annotations = load_yaml(path) or {}
        except BuildError:
            continue  # a bulletin the build rejects defines nothing here; the build names its error
        for section in ("organisations", "people", "contacts"):
            for entry in annotations.get(section) or []:
                if not isinstance(entry, dict) or not entry.get("id"):
                    continue
                known = found.setdefault((section, entry["id"]), Known(section, entry["id"], [], name))
                for word in [entry.get("name"), *(entry.get("aliases") or [])]:
                    if word and word not in known.names:
                        known.names.append(word)
                if section == "contacts" and known.number is None and entry.get("quote"):
                    known.number = contact_number(entry["quote"])
    return list(found.values())


@dataclass
class Entry:
    """One candidate annotation: its section, the spans of its quote keys, guessed keys and notes."""
    section: str
    spans: dict[str, tuple[int, int]]
    fields: dict = field(default_factory=dict)
    tokens: list = field(default_factory=list)  # the recognised tokens the entry accounts for
    notes: list[str] = field(default_factory=list)  # what scripts/claims/derive.py reads from the quote


class Text:
    """The bulletin's text cut into paragraphs (lines), sentences and clauses, as spans."""

    def __init__(self, text: str):
        self.text = text
        self.paragraphs = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text)]
        self.sentences = self._cut(self.paragraphs, r"(?<=[.!?])[”\"’)]?(?=\s)")
        self.clauses = self._cut(self.sentences, r"(?=[,;:]\s)")

    def _cut(self, spans, boundary):
        out = []
        for start, end in spans:
            cuts = [m.end() for m in re.finditer(boundary, self.text[start:end])]
            for lo, hi in zip([0] + cuts, cuts + [end - start]):
                piece = self.trim(start + lo, start + hi)
                if piece[0] < piece[1]:
                    out.append(piece)
        return out

    def trim(self, start, end):
        while start < end and self.text[start] in " \u00a0\t,;:":
            start += 1
        while end > start and self.text[end - 1] in " \u00a0\t,;:":
            end -= 1
        return start, end

    def of(self, spans, pos):
        return next(span for span in spans if span[0] <= pos < span[1])

    def clause(self, pos):
        return self.of(self.clauses, pos)

    def sentence(self, pos):
        return self.of(self.sentences, pos)

    def paragraph(self, pos):
        return self.of(self.paragraphs, pos)

    def unique(self, start, end) -> bool:
        quote = self.text[start:end]
        first = self.text.find(quote)
        return bool(quote) and self.text.find(quote, first + 1) < 0

    def widen(self, start, end):
        """The span itself if its words occur once in the text, else widened a word at a time
        (left, then right) within its paragraph until they do."""
        lo, hi = self.paragraph(start)
        if self.unique(start, end):
            return start, end
        while start > lo and not self.text[start - 1].isspace():
            start -= 1
        while end < hi and not self.text[end].isspace():
            end += 1
        while not self.unique(start, end) and (start, end) != (lo, hi):
            if start > lo:
                start = self._word_start(start, lo)
            if not self.unique(start, end) and end < hi:
                end = self._word_end(end, hi)
        trimmed = self.trim(start, end)
        return trimmed if self.unique(*trimmed) else (start, end)

    def _word_end(self, end, hi):
        while end < hi and self.text[end].isspace():
            end += 1
        while end < hi and not self.text[end].isspace():
            end += 1
        return end

    def _word_start(self, start, lo):
        while start > lo and self.text[start - 1].isspace():
            start -= 1
        while start > lo and not self.text[start - 1].isspace():
            start -= 1
        return start


class Draft:
    """The candidate entries, merged when two tokens give the same section and spans."""

    def __init__(self, text: Text, spec: dict):
        self.t = text
        self.entries: dict[tuple, Entry] = {}
        self.registry = extract.registry(spec)  # the sections of the package's declared kinds
        self.enums = {(res["name"], f["name"]): f["enum"] for res in spec["resources"]
                      for f in res["fields"] if "enum" in f}

    def add(self, section, spans: dict, token=None, **fields) -> Entry:
        key = (section, tuple(sorted(spans.items())))
        entry = self.entries.setdefault(key, Entry(section, dict(spans)))
        for name, value in fields.items():
            if name == "date" and name in entry.fields:
                value = min(value, entry.fields[name], key=DATE_CODES.index)
            elif name in entry.fields:
                continue
            entry.fields[name] = value
        if token is not None and token not in entry.tokens:
            entry.tokens.append(token)
        return entry

    def note(self, entry: Entry, text: str):
        if text not in entry.notes:
            entry.notes.append(text)

    def quote(self, entry: Entry, key="quote") -> str:
        start, end = entry.spans[key]
        return self.t.text[start:end]

    def enum(self, table, column) -> list:
        return self.enums.get((table, column), [])


def inside(token, span) -> bool:
    return span[0] <= token.start and token.end <= span[1]


def derived(draft: Draft, entry: Entry, label: str, func, *args):
    """Call a derive.* function on the entry's words; its answer (or its reason for refusing) is a note."""
    try:
        value = func(*args)
    except ValueError as exc:
        draft.note(entry, f"{label}: cannot derive ({exc})")
        return None
    shown = ", ".join(f"{k} = {v}" for k, v in vars(value).items() if v is not None) if hasattr(value, "__dict__") \
        else f"{label} = {value}"
    draft.note(entry, shown)
    return value


def quantity_text(q: derive.Quantity) -> str:
    bounds = {"exact": f"{q.low}", "range": f"{q.low} to {q.high}", "up_to": f"up to {q.high}",
              "at_least": f"at least {q.low}"}[q.qualifier]
    return f"{bounds} ({q.qualifier})"


def occurrences(text: str, name: str) -> list[tuple[int, int]]:
    """Where `text` prints `name` as whole words, as the build finds mentions: case ignored, except for
    an abbreviation in capitals."""
    pattern = r"(?<![\w-])" + r"[ \u00a0]+".join(map(re.escape, name.split())) + r"(?![\w-])"
    flags = 0 if ABBREVIATION_RE.fullmatch(name) else re.IGNORECASE
    return [m.span() for m in re.finditer(pattern, text, flags)]


def build_draft(source_text: str, levels: list[str], spec: dict, known: list[Known] | None = None,
                root: Path = ROOT) -> Draft:
    """Every candidate fact of `source_text`, as draft annotation entries; `known` are the entities
    other bulletins define (proposed by their ID, never defined again)."""
    t = Text(source_text)
    d = Draft(t, spec)
    text = t.text
    tokens = recognise.all_tokens(text, levels)
    done: set = set()  # tokens that an entry already accounts for
    known = known or []

    # The dateline (any shape schema/dates.yaml reads: "<category> • <date> <time> <zone>", a date alone)
    # and the title on the line before it: the first short paragraph that is a date and nothing else.
    published = None
    rules = dates.load_rules(root)
    # Words that are no fact of the bulletin's own: the title (it restates the text's claims), the
    # page's follow link and photo captions. No claim, event or organisation is proposed from them.
    furniture = [p for p in t.paragraphs if FURNITURE_RE.fullmatch(text[p[0]:p[1]])]
    title_span = (0, 0)
    for start, end in t.paragraphs:
        if end - start > 80 or not any(tk.kind == "date" and inside(tk, (start, end)) for tk in tokens):
            continue
        try:
            dateline = dates.parse_dateline(text[start:end], rules)
        except ValueError:
            continue
        published = dateline.day
        before = [p for p in t.paragraphs[:t.paragraphs.index((start, end))] if p not in furniture]
        title = before[-1] if before else None
        if title:
            furniture.append(title)
            title_span = title
        spans = {"title": title, "dateline": (start, end)} if title else {"dateline": (start, end)}
        head = d.add("source", spans)
        event = d.add("events", {"quote": (start, end)}, date="dateline", event_type="bulletin_published")
        for entry in (head, event):
            d.note(entry, f"published = {dateline.iso()}, category = {dateline.category}")
        for tk in tokens:
            if any(inside(tk, span) for span in spans.values()):
                d.add("source", spans, tk)
                if inside(tk, (start, end)):
                    d.add("events", {"quote": (start, end)}, tk)
                done.add(tk)
        break

    # Entities other bulletins define, wherever this text prints one of their names: proposed by their
    # ID and the name as printed, never defined again (the build records the mentions).
    organisations: dict[str, str] = {}  # name or abbreviation printed here -> id
    person_spans: list[tuple[int, int]] = []
    people: dict[str, list] = {}
    taken: list[tuple[int, int]] = []  # words an entity's name holds
    names_at = [(tk.start, tk.end) for tk in tokens if tk.kind == "name"]
    for entity in (k for k in known if k.section in ("organisations", "people")):
        spots = []
        for name in sorted(entity.names, key=len, reverse=True):
            for lo, hi in occurrences(text, name):
                # inside a longer name ("Police" of "British Transport Police") it names something else
                if any(a <= lo and hi <= b and (a, b) != (lo, hi) and not any(
                        occ[0] <= a and b <= occ[1] for n in entity.names for occ in occurrences(text, n))
                       for a, b in names_at) or any(a < hi and lo < b for a, b in taken):
                    continue
                spots.append((lo, hi))
        spots = sorted(s for s in spots if not title_span[0] <= s[0] < title_span[1])  # a title names no one
        if not spots:
            continue
        first = spots[0]
        entry = d.add(entity.section, {"name": first}, id=entity.id)
        d.note(entry, f"defined in {entity.bulletin}: listed by its ID (the build finds its mentions here)")
        taken.extend(spots)
        for lo, hi in spots:
            if entity.section == "organisations":
                organisations[text[lo:hi]] = entity.id
            else:
                person_spans.append((lo, hi))
                people.setdefault(text[lo:hi], [])
        for tk in tokens:
            if tk.kind == "name" and any(lo <= tk.start and tk.end <= hi for lo, hi in spots):
                d.add(entity.section, entry.spans, tk)
                done.add(tk)

    # People: a rank and a name. The occurrence followed by ", <role>" defines the person; others are mentions.
    person_re = re.compile(rf"({recognise.RANK_RE.pattern})[ \u00a0]+([A-Z][\w'’-]+(?:[ \u00a0]+[A-Z][\w'’-]+)+)")
    for m in person_re.finditer(text):
        if any(a <= m.start(2) < b for a, b in taken) and m.group(2) not in people:
            continue
        people.setdefault(m.group(2), []).append(m)
    for name, matches in people.items():
        if not matches:
            continue
        for m in matches:
            person_spans.append((m.start(), m.end()))
        if any(e.section == "people" and text[slice(*e.spans["name"])] == name for e in d.entries.values()):
            continue  # defined by another bulletin: already proposed by its ID
        person_id = slug(name)
        defining = next((m for m in matches if text[m.end():m.end() + 1] == ","), matches[0])
        end = defining.end()
        if text[end:end + 1] == ",":
            end = t.clause(end + 2)[1]
        first = matches[0]
        entry = d.add("people", {"name": first.span(2)}, id=person_id)
        derived(d, entry, "person", derive.person, text[defining.start():end])
        d.note(entry, f"named {len(matches)} time(s); mentions, rank and role are found by the build")
        # Every other printing of the name (without its rank) is a mention the build finds.
        for lo, hi in occurrences(text, name):
            person_spans.append((lo, hi))

    def speaker_in(span):
        return next((person_id_of(name) for name in people
                     if any(span[0] <= lo < span[1] for lo, _ in occurrences(text, name))), None)

    def person_id_of(name):
        return next((e.fields["id"] for e in d.entries.values()
                     if e.section == "people" and text[slice(*e.spans["name"])] == name), slug(name))

    # Statements, by the words schema/package.yaml declares under `speech`: direct ('<speaker>, <role>,
    # said: “...' and the quoted paragraphs that follow it) and reported ('X said that ...', 'According
    # to X, ...': the attribution, and the reported clause up to the end of its sentence).
    speech = spec.get("speech") or {}
    verbs = sorted(speech.get("verbs") or ["said", "says", "added"], key=len, reverse=True)
    verb_re = r"(?:" + "|".join(r"[ \u00a0]+".join(map(re.escape, v.split())) for v in verbs) + r")"
    direct_re = re.compile(rf"(?P<attribution>[^\n]*?\b{verb_re}\s*:)\s*(?P<quote>[“\"][^\n]*)", re.IGNORECASE)
    statement_spans = []
    for m in direct_re.finditer(text):
        attribution = (t.trim(*m.span("attribution"))[0], m.end("attribution"))
        speaker = speaker_in(attribution)
        quote_start = m.start("quote")
        paragraph = t.paragraph(quote_start)
        count = 0
        while True:
            count += 1
            span = (quote_start, paragraph[1])
            statement_spans.append(span)
            fields = {"id": f"{speaker or 'speaker'}-{count}", "speaker": speaker} if speaker else {"id": f"statement-{count}"}
            d.add("statements", {"attribution_quote": attribution, "quote": span}, **fields)
            following = [p for p in t.paragraphs if p[0] > paragraph[1]]
            if not following or text[following[0][0]] not in "“\"":
                break
            paragraph = following[0]
            quote_start = paragraph[0]
    prepositions = r"(?:" + "|".join(map(re.escape, speech.get("prepositions") or ["according to"])) + r")"
    reported_re = re.compile(rf"(?P<attribution>{prepositions}\b[^,\n]+,|[^“\"\n]*?\b{verb_re}\b[^“\"\n:]*?\bthat)\s+"
                             rf"(?P<quote>[^“\"\n]+)", re.IGNORECASE)
    for sentence in t.sentences:
        if any(a < sentence[1] and sentence[0] < b for a, b in statement_spans):
            continue
        m = reported_re.fullmatch(text, *sentence)
        if not m:
            continue
        attribution, span = m.span("attribution"), m.span("quote")
        statement_spans.append(span)
        speaker = speaker_in(attribution)
        entry = d.add("statements", {"attribution_quote": attribution, "quote": span},
                      id=f"{speaker or 'statement'}-{len(statement_spans)}")
        d.note(entry, "reported speech: the build reads its kind and its speaker from the attribution")
    for tk in tokens:
        for entry in list(d.entries.values()):
            if entry.section == "statements" and any(inside(tk, s) for s in entry.spans.values()):
                d.add("statements", entry.spans, tk)
    reported = [e.spans["quote"] for e in d.entries.values() if e.section == "statements"
                and text[e.spans["quote"][0]] not in "“\""]

    def in_statement(tk):
        # a direct statement's tokens are its own; a reported clause's claims are drafted too
        return any(inside(tk, span) for span in statement_spans if span not in reported)

    # Organisations: a name with an organisation word (and its "(ABBR)"); first occurrence defines it.
    # Never a threat-level word, a time zone, a month or a weekday printed in capitals ("CRITICAL").
    not_names = {w.upper() for w in [*levels, *rules.zones, *recognise.MONTHS, *recognise.WEEKDAYS]}
    for tk in tokens:
        if tk in done or tk.kind != "name" or any(s[0] < tk.end and tk.start < s[1] for s in person_spans):
            continue
        if any(a < tk.end and tk.start < b for a, b in taken):
            continue  # part of a known entity's name
        kinds = [kind for word, kind in ORGANISATION_WORDS.items() if re.search(rf"\b{word}\b", tk.text)]
        abbreviation = re.match(r"[ \u00a0]*\(([A-Z]{2,})\)", text[tk.end:])
        # An abbreviation on its own ("NPCC said ...") names an organisation too.
        acronym = (ABBREVIATION_RE.fullmatch(tk.text) and tk.text not in NOT_ORGANISATIONS
                   and tk.text.upper() not in not_names)
        if not kinds and not acronym and tk.text not in organisations:
            continue
        if tk.text in organisations:  # a later mention: the build finds it from the name
            entry = next(e for e in d.entries.values()
                         if e.section == "organisations" and e.fields.get("id") == organisations[tk.text])
            d.add("organisations", entry.spans, tk)
        else:
            end = tk.end + abbreviation.end() if abbreviation else tk.end
            org_id = abbreviation.group(1).lower() if abbreviation else slug(tk.text)
            kind = next((k for k in kinds if k in d.enum("organisations", "kind")), None)
            extra = {"aliases": [abbreviation.group(1)]} if abbreviation else {}
            entry = d.add("organisations", {"name": (tk.start, tk.end)}, tk, id=org_id,
                          **({"kind": kind} if kind else {}), **extra)
            name, abbr = derive.organisation(text[tk.start:end])
            d.note(entry, f"name = {name}" + (f", abbreviation = {abbr}" if abbr else "")
                   + ("; named only by its abbreviation: give its kind" if acronym and not kinds else ""))
            organisations[tk.text] = org_id
            if abbreviation:
                organisations[abbreviation.group(1)] = org_id
                for other in tokens:
                    if other.kind == "name" and other.text == abbreviation.group(1) and inside(other, (tk.start, end)):
                        d.add("organisations", entry.spans, other)
                        done.add(other)
        done.add(tk)

    # Organisations named by a common noun ("the military", "police and partners"): the first
    # occurrence of each outside the title, the longest first, as a candidate (the build finds the
    # other mentions); none when another bulletin defines an organisation of that name.
    for noun, kind in sorted(COMMON_ORGANISATIONS.items(), key=lambda item: -len(item[0])):
        named = [m for e in d.entries.values() if e.section == "organisations"
                 for m in occurrences(text, text[slice(*e.spans["name"])])]
        m = next((m for m in re.finditer(rf"(?<![\w-]){re.escape(noun)}(?![\w-])", text, re.IGNORECASE)
                  if not any(lo < m.end() and m.start() < hi for lo, hi in taken + named + furniture)), None)
        if m is None or any(noun in (n.lower() for n in k.names) for k in known if k.section == "organisations"):
            continue
        taken.append(m.span())
        entry = d.add("organisations", {"name": m.span()}, id=slug(noun), kind=kind)
        d.note(entry, f"a common noun for an organisation: keep it if the bulletin uses {noun!r} for one")

    def org_in(span):
        return next((oid for name, oid in organisations.items() if name in text[span[0]:span[1]]), None)

    def event(span, tk=None, **fields):
        types = [v for v in d.enum("events", "event_type")
                 if all(re.search(rf"\b{w}", text[span[0]:span[1]], re.IGNORECASE) for w in v.split("_"))]
        if len(types) == 1:
            fields.setdefault("event_type", types[0])
        entry = d.add("events", {"quote": span}, tk, **fields)
        if len(types) > 1:
            d.note(entry, f"event_type: one of {types}")
        return entry

    # Phone numbers: the number with the words that ask to call it.
    for tk in tokens:
        if tk.kind != "phone":
            continue
        lo = t.clause(tk.start)[0]
        calls = [m for m in CALL_WORDS_RE.finditer(text, lo, tk.start)]
        start = calls[-1].start() if calls else lo
        try:
            short = derive.phone(tk.text)
        except ValueError:
            short = None
        sentence = t.sentence(tk.start)
        if (short and short.e164 is None and not short.emergency
                and not CALL_WORDS_RE.search(text, sentence[0], sentence[1])):
            continue  # a short number with no call to make ("Around 150 officers"): a count, not a contact
        number = contact_number(tk.text)
        same = next((k for k in known if k.section == "contacts" and number and k.number == number), None)
        if same:  # printed before: the same contact, listed by its ID and quote (coded where first printed)
            entry = d.add("contacts", {"quote": t.widen(start, tk.end)}, tk, id=same.id)
            d.note(entry, f"printed before in {same.bulletin}: its purpose and confidentiality are coded there")
        else:
            entry = d.add("contacts", {"quote": t.widen(start, tk.end)}, tk,
                          confidential="in confidence" in text[start:tk.end])
        phone = derived(d, entry, "number", derive.phone, d.quote(entry))
        done.update(other for other in tokens if other.kind == "name" and inside(other, sentence))
        if phone:
            entry.fields.setdefault("id", phone.number_type if phone.emergency else slug(phone.as_printed))
        done.update(other for other in tokens if inside(other, (tk.start, tk.end)))
        done.add(tk)

    # Threat-level words: an assessment (and the event that set it) when the clause speaks of the threat level.
    for tk in tokens:
        if tk.kind != "threat_level" or tk in done or in_statement(tk):
            continue
        clause = t.clause(tk.start)
        level = tk.text.lower()
        fields = {"id": f"threat-level-{level}"}
        if org_in(clause):
            fields["assessor"] = org_in(clause)
        sentence = t.sentence(tk.start)
        following = [s for s in t.sentences if s[0] >= sentence[1]]
        # The assessment's own words: the sentence that says what it means ("This means that ..."), the
        # level read from the clause that prints it; else the clause itself (a facet of its event).
        spans = {"quote": clause, "level_quote": clause}
        if following and text[following[0][0]:].startswith("This means"):
            spans["quote"] = following[0]
        entry = d.add("threat_assessments", spans, tk, **fields)
        derived(d, entry, "level", derive.threat_level, d.quote(entry, "level_quote"), levels)
        if re.search(r"threat level", text[clause[0]:clause[1]], re.IGNORECASE):
            event(clause, tk, date="not_stated")
            for other in tokens:
                if other.kind == "name" and inside(other, clause) and other not in done:
                    d.add("threat_assessments", spans, other)
        done.add(tk)

    # Weekday phrases: an event dated by the phrase.
    for tk in tokens:
        if tk.kind != "weekday" or tk in done or in_statement(tk):
            continue
        clause = t.clause(tk.start)
        # Words that print their own date are read as printed, never as a weekday before publication.
        how = "printed" if dates.printed_date(text[clause[0]:clause[1]]) else "day_phrase"
        entry = event(clause, tk, date=how)
        if published:
            read = dates.read_printed if how == "printed" else dates.resolve_day_phrase
            derived(d, entry, "date", lambda q: read(q, published, *([rules] if how == "printed" else [])).columns()
                    ["date"], d.quote(entry))
        done.update(other for other in tokens if other.kind in ("name", "relative_time") and inside(other, (tk.start, tk.end)))
        done.add(tk)

    # Relative words and periods schema/dates.yaml declares: a relative word ("overnight") or a closed
    # period ("the bank holiday weekend": both its ends declared) dates an event by the rules; an open
    # period ("the coming days") is a time frame, left to the claims below.
    for lo, hi, how, rule in dates.matches(text, rules):
        if how == "periods" and rule.get("to") is None:
            continue
        if any(f[0] <= lo < f[1] for f in furniture) or any(lo >= a and hi <= b for a, b in statement_spans
                                                              if (a, b) not in reported):
            continue
        clause = t.clause(lo)
        entry = event(clause, None, date="relative")
        d.note(entry, f"{how} {rule['words']!r} (schema/dates.yaml)")
        if published:
            derived(d, entry, "date", lambda q: dates.read_relative(q, published, rules).columns()["date"],
                    text[clause[0]:clause[1]])
        for tk in tokens:
            if tk.kind == "relative_time" and lo <= tk.start and tk.end <= hi:
                d.add("events", entry.spans, tk)
                done.add(tk)

    def count_of(words, w):
        try:
            return derive.count_before(words, w)
        except ValueError:
            return None

    # Counts of their own kind: a field schema/package.yaml declares `computed: number` reads the number
    # before its `words:` ("12 arrests"), or before the words the curator copies into the field it names
    # by `words_from:` ("eight people", "14 properties"). Such a kind's section is the place of the count;
    # for `words_from`, the kind's own coded field (categories no other field uses: not a claim's
    # modality) says what is counted, each category known by the stem of its name ("in_custody": custody).
    categories = spec.get("categories") or {}
    uses = collections.Counter(f.get("categories") for res in spec.get("resources", []) for f in res["fields"])
    count_kinds = []  # (section, field, fixed words or None, words_from field, coded field, {category: stems})
    for res in spec.get("resources", []):
        if res.get("claim") is None or res["name"] not in d.registry.keys:
            continue
        coded = next((g for g in res["fields"] if g.get("input") == "code" and g.get("categories")
                      and uses[g["categories"]] == 1), None)
        values = list(((categories.get(coded["categories"]) or {}).get("values") or {})) if coded else []
        cues = {v: [re.sub(r"(es|ed|s)$", "", word) for word in v.split("_") if len(word) > 3] for v in values}
        for f in res["fields"]:
            if f.get("computed") == "number" and (f.get("words") or f.get("words_from")):
                count_kinds.append((res["name"], f["name"], f.get("words"), f.get("words_from"),
                                    coded and coded["name"], cues))
    # A kind that names its words is the more specific: it is tried first.
    count_kinds.sort(key=lambda kind: kind[2] is None)

    def count_kind(words, quantity):
        """(section, its fields, the counted field's name, the words counted) for a count in `words` of a
        declared kind, or None."""
        for section, name, fixed, source, coded, cues in count_kinds:
            if fixed:
                if count_of(words, fixed) is not None:
                    return section, {}, name, fixed
                continue
            kind = next((v for v, stems in cues.items()
                         if stems and all(re.search(rf"\b{re.escape(stem)}", words, re.IGNORECASE) for stem in stems)), None)
            if kind and quantity.unit and quantity.unit not in derive.TIME_UNITS and count_of(words, quantity.unit) is not None:
                return section, {source: quantity.unit, **({coded: kind} if coded else {})}, name, quantity.unit
        return None

    # Numbers: a count of people is a personnel figure; a span of time is its window, or "<n> days into" an event.
    # A number that is part of a date ("May 27", "2017") or a clock time ("0700 hours") is neither.
    clocks = [tk for tk in tokens if tk.kind in ("date", "time")]
    for tk in tokens:
        if tk.kind in ("number", "relative_time") and any(inside(tk, (c.start, c.end)) for c in clocks if c is not tk):
            done.add(tk)
    for tk in tokens:
        if tk.kind not in ("number", "relative_time") or tk in done or in_statement(tk):
            continue
        clause = t.clause(tk.start)
        words = text[clause[0]:clause[1]]
        try:
            found = derive.quantities(words)
        except ValueError:
            found = []
        mine = next((q for q in found if q.start <= tk.start - clause[0] < q.end), None)
        counts = [q for q in found if q.unit not in derive.TIME_UNITS]
        if mine is None and tk.kind == "relative_time" and DAY_WORDS_RE.match(tk.text):
            entry = event(clause, tk, date="relative")  # "overnight", "today": a declared relative word
            if published:
                derived(d, entry, "date", lambda q: dates.read_relative(q, published, rules).columns()["date"], words)
        elif mine is None and tk.kind == "relative_time":
            d.add("measures", {"quote": clause}, tk)  # an unquantified period ("the coming days") qualifies an action
        elif mine is not None and mine.unit in derive.TIME_UNITS and re.search(r"\bdays?\s+into\b", words):
            entry = event(clause, tk, date="days_into")
            derived(d, entry, "days_into", derive.days_into, words)
        elif mine is not None and count_kind(words, mine):
            # a count a declared kind reads ("12 arrests", "eight people ... arrested"): never personnel
            section, fields, name, counted = count_kind(words, mine)
            entry = d.add(section, {"quote": clause}, tk, **fields)
            entry.fields.setdefault("id", f"{section}-{len([e for e in d.entries.values() if e.section == section])}")
            d.note(entry, f"{name} = {count_of(words, counted)} (the number before {counted!r}, as the build reads it)")
        elif mine is not None and counts and not PEOPLE_RE.match(words[counts[0].end - len(counts[0].unit or ""):]):
            event(clause, tk, date="not_stated")  # a count of no people ("12 arrests"): told by an event
        elif mine is not None and counts:  # a count of people, or the window of one
            entry = d.add("personnel", {"quote": clause}, tk, **personnel_guess(words, counts[0]))
            derived(d, entry, "count", lambda q: quantity_text(derive.headcount(q)), words)
            if derive.window_hours(words):
                derived(d, entry, "window_hours", derive.window_hours, words)
            if org_in(clause):
                entry.fields.setdefault("organisation", org_in(clause))
        else:
            event(clause, tk, date="not_stated")

    # Dates, times and other names (places, operations) not yet accounted for: context of an event.
    for tk in tokens:
        if tk in done or in_statement(tk) or tk.kind not in ("date", "time", "timezone", "name"):
            continue
        if tk.kind == "name" and any(p[0] < tk.end and tk.start < p[1] for p in person_spans):
            continue  # a person's name: the build finds every mention of it
        if any(entry.section != "statements" and any(inside(tk, s) for s in entry.spans.values())
               and entry.section in ("people", "mentions", "organisations") for entry in d.entries.values()):
            continue
        clause = t.clause(tk.start)
        entry = event(clause, tk, date="printed" if dates.printed_date(text[clause[0]:clause[1]]) else "not_stated")
        if published and entry.fields.get("date") == "printed":
            derived(d, entry, "date", lambda q: dates.read_printed(q, published, rules).columns()["date"],
                    text[clause[0]:clause[1]])

    # The kinds of claim a sentence may make (advice, measures, ..., aims, qualifiers): one
    # candidate per sentence and kind, its actor and modality left to the curator.
    for span in t.sentences:
        words = text[span[0]:span[1]]
        if any(f[0] <= span[0] < f[1] for f in furniture):
            continue
        # A sentence told as an event is one claim: its other cues are facets or attributes of it.
        # (Only an event the words tell whole: its kind recognised, or dated by a declared relative word or
        # period; a date or time printed in a measure's words leaves the measure standing.)
        told = any(e.section == "events" and e.fields.get("event_type") != "bulletin_published"
                   and (e.fields.get("event_type") or e.fields.get("date") == "relative")
                   and span[0] <= e.spans["quote"][0] < span[1] for e in d.entries.values())
        for section, cue in CLAIM_CUES.items():
            if section == "measures" and told:
                continue
            if cue.search(words):
                entry = d.add(section, {"quote": t.widen(*span)})
                if section in ("aims", "qualifiers"):
                    d.note(entry, f"cue {cue.search(words).group()!r}; narrow the quote to the words (found inside "
                                  "the claim's words), code them and name the claim they are of under `of`")
                else:
                    d.note(entry, f"cue {cue.search(words).group()!r}; give the actor's words (actor_words: stated "
                                  "when they name an organisation, we/us/our by the first-person rule) or a rule, "
                                  "and the modality")
                entry.fields.setdefault("id", f"{section}-{len([e for e in d.entries.values() if e.section == section])}")
                for tk in tokens:
                    if inside(tk, span):
                        d.add(section, entry.spans, tk)

    # Attributes and links whose cue words are in a claim's sentence: the words, widened until they occur
    # once (the curator narrows them and names the claim under `of`, or `from` and `to`).
    cues = {section: [cue] for section, cue in ATTRIBUTE_CUES.items()}
    for section, words in declared_cues(spec).items():
        if section in CLAIM_CUES:
            continue  # drafted sentence by sentence above
        cues.setdefault(section, []).extend(r"(?<![\w-])" + re.escape(w) + r"(?![\w-])" for w in words)
    for section, patterns in cues.items():
        if section not in d.registry.keys:
            continue
        for span in t.sentences if section != "claim_links" else t.clauses:
            if any(f[0] <= span[0] < f[1] for f in furniture):
                continue
            words = text[span[0]:span[1]]
            hits = sorted({m.span() for pattern in patterns for m in re.finditer(pattern, words)})
            for lo, hi in hits:
                if any(a <= lo and hi <= b and (a, b) != (lo, hi) for a, b in hits):
                    continue  # inside a longer cue
                if section == "effects":
                    hi = len(words)  # the effect's words run to the end of its clause
                entry = d.add(section, {"quote": t.widen(span[0] + lo, span[0] + hi)})
                entry.fields.setdefault("id", f"{section}-{len([e for e in d.entries.values() if e.section == section])}")
                d.note(entry, f"cue {words[lo:hi]!r}; "
                       + ("name the two claims it links under `from` and `to`" if section == "claim_links"
                          else "narrow the quote to the words and name the claim they are of under `of`"))

    number_events(d)
    return d


def personnel_guess(words: str, count: derive.Quantity) -> dict:
    """Role (the words after the number up to a verb), force and status read off the clause."""
    after = words[count.end - len(count.unit):] if count.unit else words[count.end:]
    role = re.match(r"((?:[\w-]+ )*?[\w-]+?)(?= (?:have|has|had|are|is|were|was|can|could|will|may|of|from|to)\b)",
                    after)
    guess = {"role": role.group(1)} if role else {}
    guess["force"] = "military" if MILITARY_WORDS_RE.search(guess.get("role", after)) else "police"
    for phrase, status in STATUS_WORDS.items():
        if phrase in words:
            guess["status"] = status
            break
    return guess


def number_events(d: Draft) -> None:
    """Events in order of appearance (the curator reorders them into the timeline); figures and
    assessments linked to the event drafted from the same words; IDs unique within each section."""
    events = sorted((e for e in d.entries.values() if e.section == "events"), key=lambda e: e.spans["quote"])
    for sequence, entry in enumerate(events, start=1):
        entry.fields["sequence"] = sequence
        entry.fields.setdefault("date", "not_stated")
        entry.fields.setdefault("id", slug(entry.fields.get("event_type", f"event {sequence}")))
    for entry in d.entries.values():
        if entry.section == "personnel":
            entry.fields.setdefault("id", slug(f"{entry.fields.get('role', 'figure')} {entry.fields.get('status', '')}"))
        if entry.section in ("personnel", "threat_assessments"):
            same = next((e for e in events if e.spans["quote"] == entry.spans["quote"]), None)
            if same:  # the same words as an event: a facet of its claim, never a second claim
                entry.fields.setdefault("event", same.fields["id"])
                entry.fields.setdefault("facet_of", same.fields["id"])
    for section in d.registry.keys:
        seen: dict[str, int] = {}
        for entry in (e for e in d.entries.values() if e.section == section and "id" in e.fields):
            seen[entry.fields["id"]] = seen.get(entry.fields["id"], 0) + 1
            if seen[entry.fields["id"]] > 1:
                entry.fields["id"] = f"{entry.fields['id']}-{seen[entry.fields['id']]}"


PLAIN_RE = re.compile(r"[a-z][a-z0-9_]*(?:-[a-z0-9_]+)*")
YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n"}


def yaml_scalar(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(yaml_scalar(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if PLAIN_RE.fullmatch(str(value)) and str(value) not in YAML_WORDS:
        return str(value)
    # A JSON string is a valid YAML double-quoted scalar; no-break spaces are shown escaped, as curators type them.
    return json.dumps(str(value), ensure_ascii=False).replace("\u00a0", "\\u00a0")


HEADER = """\
# DRAFT annotations for {source}, written by scripts/tools/draft_annotations.py.
#
# Every entry is a candidate fact found in the text, in the section it most
# likely belongs to, with a quote that occurs exactly once in the text. Its
# `draft:` line says what was recognised, what scripts/claims/derive.py reads from the
# quote, and which required keys are still to fill. For each entry: confirm it
# (fill the missing keys, delete the `draft:` line), correct it (trim the quote,
# move it to another section, fix the guesses) or delete it. Then save the file
# as annotations.yaml beside source.txt and run `make`: an entry still holding
# a `draft:` line, or lacking a required key, stops the build with its line.
"""
FIRST_KEYS = ("id", "sequence", "event_type", "speaker")


def render(d: Draft, source_name: str, schema: str | None = None) -> str:
    """The draft file; `schema` is the path of schema/annotations.schema.json relative to it,
    named in the first line for editors (yaml-language-server)."""
    lines = ([f"# yaml-language-server: $schema={schema}"] if schema else []) + [HEADER.format(source=source_name)]
    for section in d.registry.keys:
        if section == "mentions":
            continue  # computed by the build
        entries = sorted((e for e in d.entries.values() if e.section == section), key=lambda e: min(e.spans.values()))
        if section == "source":
            for entry in entries[:1]:
                lines.append("source:")
                lines += [f"  {key}: {yaml_scalar(d.quote(entry, key))}" for key in entry.spans]
                lines += [f"  draft: {yaml_scalar(note(entry, d.registry.required))}", ""]
            continue
        lines.append(f"{section}:" + ("" if entries else " []"))
        for entry in entries:
            body = [(key, entry.fields[key]) for key in FIRST_KEYS if key in entry.fields]
            body += [(key, d.quote(entry, key)) for key in sorted(entry.spans, key=lambda k: k != "quote")]
            body += [(key, value) for key, value in entry.fields.items() if key not in FIRST_KEYS]
            body.append(("draft", note(entry, d.registry.required)))
            for index, (key, value) in enumerate(body):
                lines.append(f"  {'- ' if index == 0 else '  '}{key}: {yaml_scalar(value)}")
        lines.append("")
    return "\n".join(lines)


def note(entry: Entry, required: dict) -> str:
    """Tokens recognised (those inside a longer one left out), derived values, keys still to fill."""
    shown = [tk for tk in entry.tokens
             if not any(other is not tk and inside(tk, (other.start, other.end)) and len(other.text) > len(tk.text)
                        for other in entry.tokens)]
    missing = sorted(required.get(entry.section, set()) - set(entry.spans) - set(entry.fields))
    parts = ([", ".join(f"{tk.kind} {tk.text!r}" for tk in shown)] if shown else []) + entry.notes \
        + ([f"to fill: {', '.join(missing)}"] if missing else [])
    return "; ".join(parts)


def published_day(text: str, root: Path) -> str | None:
    """The ISO day of the bulletin's dateline (the first short line the date rules read), if any."""
    rules = dates.load_rules(root)
    for line in text.splitlines():
        if len(line) <= 80:
            try:
                return dates.parse_dateline(line, rules).day.isoformat()
            except ValueError:
                continue
    return None


def reference_levels(root: Path) -> list[str]:
    return list(load_yaml(Path(root) / "data" / "reference" / "uk-threat-levels.yaml")["levels"])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="the bulletin's verbatim text (source.txt)")
    parser.add_argument("--out", type=Path, help=f"where to write the draft (default: {DRAFT_NAME} beside SOURCE)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing draft")
    parser.add_argument("--root", type=Path, default=ROOT, help="package folder (schema and reference scale)")
    args = parser.parse_args(argv)
    out = args.out or args.source.parent / DRAFT_NAME
    try:
        try:
            text = args.source.read_bytes().decode("utf-8")
        except FileNotFoundError:
            raise BuildError(args.source, "file not found") from None
        except UnicodeDecodeError as exc:
            raise BuildError(args.source, f"not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
        if out.exists() and not args.force:
            raise BuildError(out, "already exists; not overwritten (use --force, or FORCE=1 with make draft)")
        spec = package_spec(args.root)
        dateline = published_day(text, args.root)
        known = known_entities(args.root, args.source.parent, dateline)
        draft = build_draft(text, reference_levels(args.root), spec, known, args.root)
    except BuildError as error:
        fail(error)
    schema = os.path.relpath(Path(args.root).resolve() / "schema" / "annotations.schema.json", out.resolve().parent)
    atomic_write_bytes(out, render(draft, args.source.name, Path(schema).as_posix()).encode("utf-8"))
    counts = {}
    for entry in draft.entries.values():
        counts[entry.section] = counts.get(entry.section, 0) + 1
    print(f"draft_annotations: wrote {out} ({len(draft.entries)} candidates: "
          + ", ".join(f"{s} {n}" for s, n in counts.items()) + ")")


if __name__ == "__main__":
    main()
