"""The drafting aid, measured entry by entry against what a curator keeps.

What is counted (the same for every bulletin; `score` computes it):

- **An entry a curator keeps** is an entry of a bulletin's curated `annotations.yaml` (the file the
  build reads) in a section the aid drafts: `source` (one entry), `organisations`, `people`,
  `statements`, and every fact kind `schema/package.yaml` declares (a resource with a `claim:`
  block: events, threat_assessments, personnel, contacts, measures, advice, partnerships, command,
  aims, effects, qualifiers, framing, claim_links, and any kind declared later). `first_person`
  and `uncoded` are not counted: they account for words that state no fact (whose pronoun, why a
  line is page furniture), and `mentions` is computed by the build.
- **A draft candidate** is an entry of the draft file the aid writes, in its section.
- **A candidate matches a kept entry** when both are in the same section and
  - `source`: the candidate quotes the same title and the same dateline;
  - `organisations`, `people`: the candidate's name is one of the kept entry's names (its `name`
    or an alias; case ignored); when another bulletin of `data/raw/` published before this one
    defines the entry (its ID is listed there first), the candidate must also give that ID and
    not define it again (no `kind` of its own): an entity known elsewhere is proposed by reference;
  - every other section: one of the candidate's quoted spans (quote, attribution_quote,
    level_quote, title, dateline; an attribute's quote found inside the claim it names under
    `of`) overlaps one of the kept entry's spans in the text; a contact another bulletin defines
    must carry that contact's ID.
  A candidate may match several kept entries (a curator trims or splits it: one sentence proposed
  as a qualifier may be kept as two), so every candidate quote must lie inside one paragraph
  (`test_candidates_stay_in_a_paragraph`): a candidate cannot cover the text wholesale.
- **Recall** = kept entries that some candidate matches / kept entries (what the draft proposes
  of what the curator keeps). **Precision** = candidates that match some kept entry / candidates
  (how much of the draft the curator keeps).

The figures are printed per bulletin (`pytest -s tests/test_draft.py -k figures`) for the
development set (the archived bulletin, the fixture bulletins of tests/fixtures/raw/ the aid was
written against, and the fictional texts of tests/fixtures/drafting/, whose expected.yaml lists
each kept entry as a section and its words) and for the held-out bulletins listed in
tests/fixtures/drafting/held-out.yaml: bulletins written after the aid's last change and never
tuned on. Each must reach RECALL_FLOOR and PRECISION_FLOOR.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field

import pytest
import yaml
from conftest import BULLETIN, FIXTURES, ROOT, SOURCE_TEXT, copy_inputs, run_step

from scripts.common import package_spec
from scripts.inputs import fact_kinds
from scripts.tools.draft_annotations import DRAFT_NAME

RAW = ROOT / "data" / "raw"
FIXTURES = FIXTURES
DRAFTING = ROOT / "tests" / "fixtures" / "drafting"
HELD_OUT_LIST = DRAFTING / "held-out.yaml"
QUOTE_KEYS = ("quote", "title", "dateline", "attribution_quote", "level_quote")
NAMED = ("organisations", "people")
OTHER_SECTIONS = ("source", *NAMED, "statements")  # the sections that are no declared fact kind
RECALL_FLOOR, PRECISION_FLOOR = 0.90, 0.80
# The fictional texts' expected.yaml lists the facts and entities, not every attribute a curator adds
# (qualifiers, aims), so a candidate for one counts against the draft there: lower floors.
FICTIONAL_FLOORS = (0.80, 0.70)


def scored_sections(spec: dict | None = None) -> tuple[str, ...]:
    """`source`, the named entities, statements and every declared fact kind (see the module docstring)."""
    spec = spec or package_spec(ROOT)
    return (*OTHER_SECTIONS, *(res["name"] for res in fact_kinds.claim_tables(spec)))


SECTIONS = scored_sections()
ATTRIBUTES = tuple(res["name"] for res in fact_kinds.claim_tables(package_spec(ROOT))
                   if fact_kinds.role(res) == "attribute")


@dataclass
class Item:
    """A kept entry or a candidate: its section, ID, names (entities), quoted spans and keys."""
    section: str
    id: str | None
    names: set = field(default_factory=set)
    spans: list = field(default_factory=list)
    entry: dict = field(default_factory=dict)
    elsewhere: str | None = None  # a kept entity defined by an earlier bulletin (its folder)

    def label(self, text: str) -> str:
        if self.section in NAMED:
            return f"{self.section} {self.id or ''} {sorted(self.names)}"
        start, end = self.spans[0] if self.spans else (0, 0)
        return f"{self.section} {text[start:end][:50]!r}"


def entries(annotations: dict):
    for section, value in (annotations or {}).items():
        if section not in SECTIONS:
            continue
        for entry in [value] if section == "source" else (value or []):
            yield section, entry


def find_once(text: str, quote: str, lo: int = 0, hi: int | None = None) -> tuple[int, int]:
    hi = len(text) if hi is None else hi
    start = text.find(quote, lo, hi)
    assert start >= 0 and text.find(quote, start + 1, hi) < 0, f"does not occur exactly once: {quote!r}"
    return start, start + len(quote)


def items(text: str, annotations: dict, known: dict | None = None) -> list[Item]:
    """The counted entries of an annotations file (curated or draft) as Items; `known` maps an entity
    ID another earlier bulletin defines to that bulletin's folder."""
    claims = {entry["id"]: find_once(text, entry["quote"]) for section, entry in entries(annotations)
              if section not in ATTRIBUTES and "quote" in entry and "id" in entry}
    out = []
    for section, entry in entries(annotations):
        item = Item(section, entry.get("id"), entry=entry, elsewhere=(known or {}).get((section, entry.get("id"))))
        if section in NAMED:
            item.names = {n.lower() for n in [entry.get("name"), *(entry.get("aliases") or [])] if n}
        elif section in ATTRIBUTES and entry.get("of") in claims:
            item.spans = [find_once(text, entry["quote"], *claims[entry["of"]])]
        else:
            item.spans = [find_once(text, entry[key]) for key in QUOTE_KEYS if key in entry]
        out.append(item)
    return out


def matches(kept: Item, cand: Item) -> bool:
    if kept.section != cand.section:
        return False
    if kept.section == "source":
        return all(kept.entry.get(k) == cand.entry.get(k) for k in ("title", "dateline") if k in kept.entry)
    if kept.elsewhere and (cand.id != kept.id or (kept.section == "organisations" and "kind" in cand.entry)
                           or (kept.section == "contacts" and "purpose" in cand.entry)):
        return False  # an entity another bulletin defines: proposed by its ID, never defined again
    if kept.section in NAMED:
        return bool(kept.names & cand.names)
    return any(a[0] < b[1] and b[0] < a[1] for a in kept.spans for b in cand.spans)


def score(kept: list[Item], candidates: list[Item], text: str) -> dict:
    proposed = [k for k in kept if any(matches(k, c) for c in candidates)]
    correct = [c for c in candidates if any(matches(k, c) for k in kept)]
    return {"kept": len(kept), "proposed": len(proposed), "candidates": len(candidates), "correct": len(correct),
            "recall": len(proposed) / len(kept) if kept else 0.0,
            "precision": len(correct) / len(candidates) if candidates else 0.0,
            "missed": [k.label(text) for k in kept if k not in proposed],
            "wrong": [c.label(text) for c in candidates if c not in correct]}


def published_key(folder) -> tuple:
    meta = yaml.safe_load((folder / "metadata.yaml").read_text(encoding="utf-8"))
    return str(meta.get("published", ""))[:10], folder.name


def known_entities(folder) -> dict:
    """(section, ID) -> the folder of the bulletin of data/raw/ that defines it: the oldest bulletin
    listing it, when that bulletin is not `folder` and was published before it."""
    order = sorted((p.parent for p in RAW.glob("*/annotations.yaml")), key=published_key)
    mine = published_key(folder)
    found: dict = {}
    for other in order:
        annotations = yaml.safe_load((other / "annotations.yaml").read_text(encoding="utf-8"))
        for section in (*NAMED, "contacts"):
            for entry in annotations.get(section) or []:
                found.setdefault((section, entry["id"]), other)
    return {key: other.name for key, other in found.items() if other.name != folder.name
            and published_key(other) < mine}


def write_draft(source, out, *args):
    result = run_step("tools.draft_annotations", ROOT, str(source), "--out", str(out), *args)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(out.read_text(encoding="utf-8"))


def score_bulletin(folder, out) -> tuple[dict, dict]:
    """(figures, draft) of the aid on a bulletin folder with a curated annotations.yaml."""
    text = (folder / "source.txt").read_text(encoding="utf-8")
    curated = yaml.safe_load((folder / "annotations.yaml").read_text(encoding="utf-8"))
    draft = write_draft(folder / "source.txt", out)
    return score(items(text, curated, known_entities(folder)), items(text, draft), text), draft


def score_expected(folder, out) -> tuple[dict, dict]:
    """(figures, draft) on a fictional text of tests/fixtures/drafting/: its expected.yaml lists the
    kept entries as a section and the words that state them (a name, for an entity)."""
    text = (folder / "source.txt").read_text(encoding="utf-8")
    kept = []
    for fact in yaml.safe_load((folder / "expected.yaml").read_text(encoding="utf-8"))["facts"]:
        if fact["section"] in NAMED:
            kept.append(Item(fact["section"], fact.get("id"), names={fact["quote"].lower()}))
        elif fact["section"] == "source":
            kept.append(Item("source", None, entry={"title": fact["quote"]}))  # its title
        else:
            kept.append(Item(fact["section"], fact.get("id"), spans=[find_once(text, fact["quote"])]))
    draft = write_draft(folder / "source.txt", out)
    return score(kept, items(text, draft), text), draft


def figure_line(name: str, result: dict) -> str:
    return (f"drafting aid on {name}: recall {result['proposed']}/{result['kept']} = {result['recall']:.1%}, "
            f"precision {result['correct']}/{result['candidates']} = {result['precision']:.1%}")


def held_out() -> tuple[list[str], dict[str, str]]:
    """The bulletin folders of tests/fixtures/raw/ listed as held out (none when the list is absent), and
    those recorded as short of the floors, with the figures measured and why."""
    if not HELD_OUT_LIST.exists():
        return [], {}
    listed = yaml.safe_load(HELD_OUT_LIST.read_text(encoding="utf-8")) or {}
    return list(listed.get("held_out") or []), dict(listed.get("short_of_target") or {})


HELD_OUT, SHORT_OF_TARGET = held_out()
DEVELOPMENT = [("archived", RAW / BULLETIN)] + [
    ("fixture", p) for p in sorted(FIXTURES.iterdir()) if (p / "annotations.yaml").exists() and p.name not in HELD_OUT]
FICTIONAL = sorted(p for p in DRAFTING.iterdir() if (p / "expected.yaml").exists())


def check_figures(name, result, record_property, floors=(RECALL_FLOOR, PRECISION_FLOOR)):
    print(f"\n{figure_line(name, result)}; missed: {result['missed']}; wrong: {result['wrong']}")
    record_property("summary_line", figure_line(name, result))
    assert result["kept"] >= 5, "too few kept entries: the definition has gone vacuous"
    assert result["recall"] >= floors[0], f"kept entries the draft does not propose: {result['missed']}"
    assert result["precision"] >= floors[1], f"candidates no kept entry matches: {result['wrong']}"


@pytest.mark.parametrize("kind, folder", DEVELOPMENT, ids=[p.name for _, p in DEVELOPMENT])
def test_figures_on_the_development_bulletins(kind, folder, tmp_path, record_property):
    """The bulletins the aid was written against: recall and precision printed, with the floors."""
    result, _ = score_bulletin(folder, tmp_path / DRAFT_NAME)
    check_figures(f"{kind} {folder.name}", result, record_property)


@pytest.mark.parametrize("folder", FICTIONAL, ids=[p.name for p in FICTIONAL])
def test_figures_on_the_fictional_texts(folder, tmp_path, record_property):
    result, _ = score_expected(folder, tmp_path / DRAFT_NAME)
    check_figures(f"fictional {folder.name}", result, record_property, FICTIONAL_FLOORS)


@pytest.mark.parametrize("name", HELD_OUT or [None], ids=HELD_OUT or ["none-listed"])
def test_figures_on_the_held_out_bulletins(name, tmp_path, record_property, request):
    """Bulletins written after the aid's last change, never tuned on (tests/fixtures/drafting/held-out.yaml).
    One recorded there as short of the floors is an expected failure, strictly: the figures are still
    measured and printed, and once they reach the floors the test fails until the record is removed."""
    if name in SHORT_OF_TARGET:
        request.node.add_marker(pytest.mark.xfail(strict=True, reason=f"short of the floors: {SHORT_OF_TARGET[name]}"))
    assert set(SHORT_OF_TARGET) <= set(HELD_OUT), "a bulletin short of the floors that is not held out"
    if name is None:
        pytest.skip(f"no held-out bulletin is listed in {HELD_OUT_LIST.relative_to(ROOT)} yet: only the "
                    "development set is measured")
    folder = FIXTURES / name
    assert (folder / "annotations.yaml").exists(), f"held-out bulletin {name} has no curated annotations"
    result, _ = score_bulletin(folder, tmp_path / DRAFT_NAME)
    check_figures(f"held-out {name}", result, record_property)


@pytest.fixture(scope="module")
def archived_draft(tmp_path_factory):
    return write_draft(SOURCE_TEXT, tmp_path_factory.mktemp("draft") / DRAFT_NAME)


def test_score_sees_a_missing_candidate(archived_draft, source_text):
    """The measure can fail: without its contacts the draft no longer proposes them, and a known
    organisation defined again (its own kind) is not the entry a curator keeps."""
    curated = yaml.safe_load((SOURCE_TEXT.parent / "annotations.yaml").read_text(encoding="utf-8"))
    kept = items(source_text, curated)
    full = score(kept, items(source_text, archived_draft), source_text)
    cut = score(kept, items(source_text, {**archived_draft, "contacts": []}), source_text)
    assert full["proposed"] - cut["proposed"] == 2 and any(m.startswith("contacts") for m in cut["missed"])
    fixture = FIXTURES / "met-2017-10-14-fixture-railway-patrols"
    text = (fixture / "source.txt").read_text(encoding="utf-8")
    jtac = items(text, {"organisations": [{"id": "jtac", "name": "Joint Terrorism Analysis Centre"}]},
                 known_entities(fixture))[0]
    assert jtac.elsewhere == BULLETIN
    redefined = Item("organisations", "jtac", names={"joint terrorism analysis centre"},
                     entry={"id": "jtac", "kind": "government_agency"})
    assert not matches(jtac, redefined) and matches(jtac, Item("organisations", "jtac", {"joint terrorism analysis centre"},
                                                            entry={"id": "jtac"}))


def test_candidates_stay_in_a_paragraph(archived_draft, source_text):
    """Every quote of every candidate lies inside one paragraph (line) of the text, so that an overlap
    with a kept entry means the candidate proposed it."""
    paragraphs = [m.span() for m in re.finditer(r"[^\n]+", source_text)]
    for item in items(source_text, archived_draft):
        for start, end in item.spans:
            assert any(lo <= start and end <= hi for lo, hi in paragraphs), item.label(source_text)


def test_every_draft_entry_is_marked_and_derived(archived_draft, source_text):
    for section, entry in entries(archived_draft):
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
    result = run_step("tools.draft_annotations", root, str(folder / "source.txt"))
    assert result.returncode == 0, result.stderr
    shutil.move(folder / DRAFT_NAME, folder / "annotations.yaml")
    build = run_step("claims.extract", root)
    assert build.returncode != 0
    assert re.search(r"annotations.yaml:\d+: \w+\[\d+\]\.draft: unknown key", build.stderr), build.stderr
    first_line = (folder / "annotations.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first_line == "# yaml-language-server: $schema=../../../schema/annotations.schema.json"
    assert not (root / "data" / "sources.csv").exists()


def test_never_overwrites_without_force(tmp_path):
    out = tmp_path / DRAFT_NAME
    out.write_text("kept\n", encoding="utf-8")
    refused = run_step("tools.draft_annotations", ROOT, str(SOURCE_TEXT), "--out", str(out))
    assert refused.returncode != 0 and "already exists" in refused.stderr
    assert out.read_text(encoding="utf-8") == "kept\n"
    write_draft(SOURCE_TEXT, out, "--force")
    assert out.read_text(encoding="utf-8").splitlines()[1].startswith("# DRAFT annotations")


def test_unreadable_source_is_named(tmp_path):
    bad = tmp_path / "source.txt"
    bad.write_bytes(b"Caf\xe9")
    result = run_step("tools.draft_annotations", ROOT, str(bad))
    assert result.returncode != 0 and "source.txt" in result.stderr and "not valid UTF-8" in result.stderr
    assert not (tmp_path / DRAFT_NAME).exists()


def test_known_entities_are_proposed_by_reference(tmp_path):
    """An organisation, person or contact the archived bulletin defines is proposed by its ID, never
    defined again; the bulletin's own definitions are not taken as known."""
    fixture = FIXTURES / "met-2017-10-14-fixture-railway-patrols"
    draft = write_draft(fixture / "source.txt", tmp_path / DRAFT_NAME)
    orgs = {e["id"]: e for e in draft["organisations"]}
    for known in ("metropolitan-police", "jtac", "counter-terrorism-policing"):
        assert known in orgs and "kind" not in orgs[known] and "defined in" in orgs[known]["draft"], orgs.get(known)
    assert orgs["british-transport-police"]["kind"] == "police_force"
    hotline = next(e for e in draft["contacts"] if "789321" in e["quote"])
    assert hotline["id"] == "0800-789-321" and "confidential" not in hotline
    update = write_draft(FIXTURES / "cp-2017-06-03-fixture-reported-update" / "source.txt", tmp_path / "cp.yaml")
    assert [(e["id"], e["name"]) for e in update["people"]] == [("mark-rowley", "Mark Rowley")]
    own = write_draft(SOURCE_TEXT, tmp_path / "own.yaml")
    assert not any("defined in" in e["draft"] for e in own["organisations"] + own["people"])


def test_no_threat_level_title_or_furniture_as_organisation_or_event(tmp_path):
    """A threat-level word in capitals is no organisation; the title and the page's furniture hold
    no organisation, event or claim; the dateline is the publication event only."""
    source = tmp_path / "source.txt"
    source.write_text("Follow Metropolitan Police\n\nThreat level stays SEVERE as military leave\n\n"
                      "News • June 9, 2017 10:00 BST\n\nThe threat level remains SEVERE. Officers made "
                      "12 arrests overnight.", encoding="utf-8")
    draft = write_draft(source, tmp_path / DRAFT_NAME)
    title = "Threat level stays SEVERE as military leave"
    assert "severe" not in {e["id"] for e in draft["organisations"]}
    for section, entry in entries(draft):
        if section != "source":
            assert all(title not in str(entry[k]) and str(entry[k]) not in title
                       for k in ("quote", "name") if k in entry), (section, entry)
    assert [e["event_type"] for e in draft["events"] if "June 9" in e["quote"]] == ["bulletin_published"]
    assert not draft.get("personnel"), "arrests are no personnel figure"


def test_a_declared_count_kind_gets_its_counts(tmp_path):
    """A fact kind declared in schema/package.yaml with a field `computed: number` and `words:` gets
    the counts its words print, under its own section, with no change to the aid."""
    root = copy_inputs(tmp_path / "package")
    schema = root / "schema" / "package.yaml"
    kind = """
  - name: arrests
    title: Arrests
    description: "How many arrests a claim counts."
    claim:
      id: arrest_id
      row: arrest figure
    fields:
      - {name: arrests, type: integer, minimum: 0, required: true, computed: number, words: "arrests", description: "The number of arrests, read from the words."}
"""
    text = schema.read_text(encoding="utf-8").replace("\n  - name: contacts\n", kind + "\n  - name: contacts\n", 1)
    text = text.replace('      command: "command and control"\n',
                        '      command: "command and control"\n      arrests: "a count of arrests"\n', 1)
    schema.write_text(text, encoding="utf-8")
    source = tmp_path / "source.txt"
    source.write_text("Arrests after the attack\n\nNews • June 9, 2017 10:00 BST\n\n"
                      "Officers have made 12 arrests in connection with the attack.", encoding="utf-8")
    result = run_step("tools.draft_annotations", root, str(source), "--out", str(tmp_path / DRAFT_NAME))
    assert result.returncode == 0, result.stderr
    draft = yaml.safe_load((tmp_path / DRAFT_NAME).read_text(encoding="utf-8"))
    assert [e["quote"] for e in draft["arrests"]] == ["Officers have made 12 arrests in connection with the attack."]
    assert "arrests = 12" in draft["arrests"][0]["draft"]
    assert not draft.get("personnel")


def test_a_count_read_before_a_fields_words_gets_that_field_and_its_category(tmp_path):
    """Table counts (`computed: number, words_from: counted`): the aid proposes each count under counts,
    with the words it counts and what is counted (count_type, from the stem of each category's name),
    never as a personnel figure; a sentence with no counting word stays where it was."""
    source = tmp_path / "source.txt"
    source.write_text("Arrests after the attack\n\nNews • June 9, 2017 10:00 BST\n\n"
                      "Eight people have been arrested in connection with the attack. "
                      "Officers have searched 14 properties. Two men remain in custody.", encoding="utf-8")
    draft = write_draft(source, tmp_path / DRAFT_NAME)
    got = sorted((e["count_type"], e["counted"]) for e in draft["counts"])
    assert got == [("arrests", "people"), ("in_custody", "men"), ("searches", "properties")], draft["counts"]
    assert any("count = 8 " in e["draft"] for e in draft["counts"])
    assert not draft.get("personnel")
