"""Property-based mutations of the curator's inputs and of the published tables.

Each case copies nothing: one workspace (a copy of the package) is made per run,
and each case mutates one file in it, runs the build in process, classifies the
outcome, and puts the file back.

- A mutated YAML input (annotations.yaml, metadata.yaml, the reference scale, the
  declarations in schema/package.yaml, checked against their model) goes
  through `scripts.claims.extract.build` (what `make` runs first). If that succeeds with
  the very tables of the unmutated inputs, the change was harmless. If it succeeds
  with other tables, the whole publishing step (`scripts.outputs.publish.publish`:
  staging, validation, publishing) is run to see what the build really does.
- A mutated published CSV (as if edited by hand) goes through
  `scripts.checks.validate.validate` (what `make validate` runs on a hand-edited table),
  with or without its hash and size refreshed in datapackage.json.

Outcomes: a clean rejection (a BuildError whose every line names the mutated file,
or validation failures one of which names the mutated table), a harmless acceptance
(same tables), a crash (any other exception: a traceback for the curator), a wrong
input accepted, an error that does not name the curator's file, and a published
file changed by a failing build. The last four must be 0.

The workspace holds two bulletins (the archived one and the fictional fixture under
tests/fixtures/raw/) and the retired-ID table, so that mutations reach the relations
between entries, sections and files as well as single values.

The mutations are wrong inputs by construction. Of one value: type swaps, required
keys removed, unknown and misspelt keys, keys given twice, look-alike characters,
huge and negative numbers, YAML 1.1 scalars, aliases, empty and truncated files,
lists where mappings belong, sections removed. Of relations (`relation: ...`):
an entry duplicated, copied under a new ID, moved to another section, moved or
copied to the other bulletin; a reference pointed at another section's entry or
at the other bulletin's; a name of one organisation or person given to another
as an alias; an organisation given another kind by the other bulletin; a retired
ID filed against the release lists wrongly. A case may touch two files; its
errors must each name one of them. Plus a few that must be harmless (keys or
sections reordered, the file re-serialised, a comment added). Deleting an
optional key or a whole entry, or rewording free text, gives a valid input with
other tables: those are edits, not slips, and are not generated.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from hypothesis import strategies as st

from scripts.claims import extract
from scripts.inputs import declarations, input_models
from scripts.outputs import publish
from scripts.checks import validate
from scripts.common import BuildError
from scripts.inputs.yaml_input import load, strip_lines

ROOT = Path(__file__).resolve().parent.parent
BULLETIN = "met-2017-05-24-additional-armed-officers"
ANNOTATIONS = f"data/raw/{BULLETIN}/annotations.yaml"
METADATA = f"data/raw/{BULLETIN}/metadata.yaml"
REFERENCE = "data/reference/uk-threat-levels.yaml"
FIXTURE = ROOT / "tests" / "fixtures" / "raw" / "met-2017-10-14-fixture-railway-patrols"
OTHER = f"data/raw/{FIXTURE.name}/annotations.yaml"  # the second bulletin's annotations
RETIRED = "data/releases/retired-ids.yaml"
PACKAGE = "schema/package.yaml"  # the declarations (scripts/inputs/declarations.py)
BULLETINS = (ANNOTATIONS, OTHER)
# retired-ids.yaml is never cut short: an entry ends with its free-text reason, so a copy cut short
# inside it would read as a shorter reason.
YAML_FILES = {ANNOTATIONS: extract.ANNOTATIONS, OTHER: extract.ANNOTATIONS, METADATA: input_models.Metadata,
              REFERENCE: input_models.Reference, RETIRED: input_models.RetiredIds, PACKAGE: declarations.Package}

OUTCOMES = ("clean rejection", "harmless acceptance", "crash", "wrong input accepted",
            "error not naming the curator's file", "published file changed by a failing build")
BAD = OUTCOMES[2:]


@dataclass
class Tally:
    counts: Counter = field(default_factory=Counter)
    by_operator: Counter = field(default_factory=Counter)
    examples: dict = field(default_factory=dict)  # bad outcome -> first few (operator, file, detail)

    def record(self, outcome: str, operator: str, relpath: str, detail: str = "") -> None:
        self.counts["cases"] += 1
        self.counts[outcome] += 1
        self.by_operator[(operator, outcome)] += 1
        if outcome in BAD:
            self.examples.setdefault(outcome, [])
            if len(self.examples[outcome]) < 5:
                self.examples[outcome].append((operator, relpath, detail[:2000]))

    def by_kind(self) -> list[str]:
        """One line per mutation kind: cases, clean rejections, harmless acceptances, then the four
        outcomes that must be 0 (crashes, wrong inputs accepted, errors naming a file the curator did
        not touch, published files changed)."""
        heads = ("cases", "rejected", "same", "crash", "accepted", "elsewhere", "changed")
        lines = ["fuzz: by mutation kind (rejected: cleanly; same: accepted with the same tables; must be 0: crash,",
                 "fuzz: accepted (a wrong input), elsewhere (an error naming a file the case did not change), changed",
                 "fuzz: (a published file changed by a failing build))",
                 f"fuzz:   {'mutation kind':<52}" + "".join(f"{h:>10}" for h in heads)]
        for op in sorted({op for op, _ in self.by_operator}):
            counts = [sum(n for (o, _), n in self.by_operator.items() if o == op)]
            counts += [self.by_operator[(op, outcome)] for outcome in OUTCOMES]
            lines.append(f"fuzz:   {op:<52}" + "".join(f"{n:>10}" for n in counts))
        return lines

    def bad(self) -> int:
        return sum(self.counts[o] for o in BAD)

    def report(self) -> list[str]:
        lines = [f"fuzz: cases run: {self.counts['cases']}"]
        lines += [f"fuzz: {label}: {self.counts[name]}" for name, label in zip(OUTCOMES[:3], ("clean rejections", "harmless acceptances", "crashes"))]
        lines += [f"fuzz: {name}: {self.counts[name]}" for name in OUTCOMES[3:]]
        yaml_cases = sum(n for (op, _), n in self.by_operator.items() if not op.startswith("csv"))
        lines.append(f"fuzz: (YAML input cases {yaml_cases}, published CSV cases {self.counts['cases'] - yaml_cases})")
        if self.counts["cases"] >= 500:  # make fuzz: how each kind of mutation was handled
            lines += self.by_kind()
        for outcome, examples in self.examples.items():
            for operator, relpath, detail in examples:
                lines.append(f"  {outcome}: {operator} on {relpath}: {detail}")
        return lines


TALLY = Tally()


# ---------------------------------------------------------------- the workspace


class Workspace:
    """A copy of the package (inputs, tables, descriptor) that cases mutate and restore."""

    def __init__(self, dest: Path):
        self.root = Path(dest)
        shutil.copytree(ROOT / "data", self.root / "data")
        shutil.copytree(ROOT / "schema", self.root / "schema")
        shutil.copy2(ROOT / "datapackage.json", self.root / "datapackage.json")
        shutil.copytree(FIXTURE, self.root / "data" / "raw" / FIXTURE.name, dirs_exist_ok=True)
        self.originals = {p.relative_to(self.root).as_posix(): p.read_bytes()
                          for p in self.root.rglob("*") if p.is_file()}
        self.published_names = sorted(["datapackage.json"] + [f"data/{p.name}" for p in (self.root / "data").glob("*.csv")])
        self.baseline = extract.build(self.root)["rows"]
        self.texts = {rel: self.originals[rel].decode("utf-8") for rel in YAML_FILES}
        self.data = {rel: strip_lines(load(self.root / rel, text=text).data) for rel, text in self.texts.items()}

    def published(self) -> dict[str, bytes]:
        return {name: (self.root / name).read_bytes() if (self.root / name).exists() else b""
                for name in self.published_names}

    def restore(self, relpaths) -> None:
        for rel in relpaths:
            (self.root / rel).write_bytes(self.originals[rel])


# ---------------------------------------------------------------- YAML mutations

LOOK_ALIKES = {" ": ["\u00a0", "\u2009", "\u200b", "\t"], '"': ["\u201c", "\u201d"], "'": ["\u2019", "\u2018"],
               "a": ["\u0430"], "e": ["\u0435"], "o": ["\u03bf", "\u043e"], "i": ["\u0456"], "c": ["\u0441"],
               "p": ["\u0440"], "-": ["\u2010", "\u2013", "\u2212"], "0": ["O"], "1": ["l"], ":": ["\uff1a"]}
ODD_VALUES = [42, -1, 0, 10**30, -10**30, 2**63, 3.5, float("inf"), True, False, None, [], {}, ["x"],
              {"key": "value"}, "", "text", [{"a": 1}]]
# Plain scalars that YAML 1.1 (PyYAML) and YAML 1.2 (editors) read differently, or that are not
# text in either. (`y`, `n`, `<<` or `2017-05-24` are text in both readings: typed where text
# belongs they are an edit of that text, not a slip the build can see.)
YAML11_TOKENS = ["017", "0017", "1:30", "12:00:00", "yes", "no", "on", "off", "Yes", "NO", "1_000", "0o17",
                 "0x1F", "~", "null", "1e3", ".inf"]


def paths(value, prefix=()):
    """Every (path, value) inside loaded data, the root included."""
    yield prefix, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, prefix + (index,))


def get(data, path):
    for part in path:
        data = data[part]
    return data


def put(data, path, value):
    if not path:
        return value
    get(data, path[:-1])[path[-1]] = value
    return data


def dump(data) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10**6)


def copy(data):
    return json.loads(json.dumps(data))


def model_at(model, path):
    """The pydantic model of the mapping at `path` (None if not a model's mapping)."""
    annotation = input_models._unwrap(input_models._annotation_at(model, path)) if path else model
    return annotation if isinstance(annotation, type) and issubclass(annotation, input_models.BaseModel) else None


def key_lines(text: str) -> list[tuple[int, re.Match]]:
    """Lines of `key: value` (block mappings), with their match."""
    out = []
    for number, line in enumerate(text.split("\n")):
        match = re.match(r"^(\s*)(- )?([A-Za-z_][A-Za-z0-9_]*):( +(.*))?$", line)
        if match:
            out.append((number, match))
    return out


def typo(key: str, draw) -> str:
    kind = draw(st.sampled_from(["drop", "swap", "double", "upper", "plural", "dash", "space"]))
    i = draw(st.integers(0, max(len(key) - 2, 0)))
    return {"drop": key[:i] + key[i + 1:], "swap": key[:i] + key[i + 1:i + 2] + key[i:i + 1] + key[i + 2:],
            "double": key[:i] + key[i] + key[i:], "upper": key[:1].upper() + key[1:], "plural": key + "s",
            "dash": key.replace("_", "-") if "_" in key else key + "-", "space": key + " x"}[kind]


def yaml_mutation(draw, ws: Workspace, rel: str) -> tuple[str, str | bytes]:
    """(operator, new text or bytes) for one YAML input."""
    text, data, model = ws.texts[rel], ws.data[rel], YAML_FILES[rel]
    operator = draw(st.sampled_from([
        "type swap", "required key removed", "unknown key", "misspelt key", "key given twice", "look-alike character",
        "huge or negative number", "YAML 1.1 scalar", "alias", "empty file", "list for a mapping",
        "harmless: keys reordered", "harmless: re-serialised", "harmless: comment added"]
        + ([] if rel == RETIRED else ["truncated file", "section removed"])))  # (a list of entries: no sections)
    everything = list(paths(data))
    if operator == "type swap":
        path, old = draw(st.sampled_from(everything))
        new = draw(st.sampled_from([v for v in ODD_VALUES if type(v) is not type(old)]))
        return operator, dump(put(copy(data), path, new))
    if operator == "required key removed":
        options = [(path, key) for path, value in everything if isinstance(value, dict) and model_at(model, path)
                   for key, f in model_at(model, path).model_fields.items() if f.is_required() and key in value]
        path, key = draw(st.sampled_from(options))
        changed = copy(data)
        del get(changed, path)[key]
        return operator, dump(changed)
    if operator in ("unknown key", "misspelt key"):
        # In schema/package.yaml a mapping of free keys (a list of values, a kind's parties) takes new
        # keys by design: a key added or renamed there is an edit of the package, not a slip.
        mappings = [(path, value) for path, value in everything if isinstance(value, dict) and value
                    and (rel != PACKAGE or model_at(model, path))]
        path, mapping = draw(st.sampled_from(mappings))
        allowed = set(model_at(model, path).model_fields) if model_at(model, path) else set(mapping)
        changed = copy(data)
        target = get(changed, path)
        if operator == "unknown key":
            key = draw(st.from_regex(r"[a-z][a-z_]{0,11}", fullmatch=True).filter(lambda k: k not in allowed))
            target[key] = draw(st.sampled_from(["x", 1, True, ["a"]]))
        else:
            old = draw(st.sampled_from(sorted(mapping)))
            new = typo(old, draw)
            if new in allowed or new == old:
                new = old + "x"
            changed = put(changed, path, {(new if k == old else k): v for k, v in target.items()})
        return operator, dump(changed)
    if operator == "key given twice":
        number, match = draw(st.sampled_from(key_lines(text)))
        indent = match.group(1) + ("  " if match.group(2) else "")
        value = draw(st.sampled_from([match.group(5) or "", "other", "1", '"x"']))
        lines = text.split("\n")
        lines.insert(number + 1, f"{indent}{match.group(3)}: {value}".rstrip())
        return operator, "\n".join(lines)
    if operator == "look-alike character":
        # A digit's ASCII look-alike ("O" for "0", "l" for "1") is a slip inside an ID, where a reader
        # cannot tell them apart; in the curator's prose it is rewording, which this does not generate.
        in_ids = {i for m in re.finditer(r"\b[a-z]+(?:-[a-z0-9]+)+\b", text) for i in range(*m.span())}
        positions = [i for i, c in enumerate(text) if c in LOOK_ALIKES and (c not in "01" or i in in_ids)]
        i = draw(st.sampled_from(positions))
        return operator, text[:i] + draw(st.sampled_from(LOOK_ALIKES[text[i]])) + text[i + 1:]
    if operator == "huge or negative number":
        scalars = [(p, v) for p, v in everything if p and not isinstance(v, (dict, list))]
        ints = [(p, v) for p, v in scalars if isinstance(v, int) and not isinstance(v, bool)]
        path, _ = draw(st.sampled_from(ints or scalars))
        return operator, dump(put(copy(data), path, draw(st.sampled_from([10**30, -1, -10**30, 0, 2**63, 10_001]))))
    if operator == "YAML 1.1 scalar":
        number, match = draw(st.sampled_from([(n, m) for n, m in key_lines(text)  # not a block scalar's header
                                              if m.group(5) and not m.group(5).startswith((">", "|"))]))
        lines = text.split("\n")
        lines[number] = f"{match.group(1)}{match.group(2) or ''}{match.group(3)}: {draw(st.sampled_from(YAML11_TOKENS))}"
        return operator, "\n".join(lines)
    if operator == "alias":
        candidates = [(n, m) for n, m in key_lines(text) if m.group(5) and not m.group(5).startswith(("[", "|", ">", "&", "*"))]
        (n1, m1), (n2, m2) = sorted(draw(st.lists(st.sampled_from(candidates), min_size=2, max_size=2, unique_by=lambda c: c[0])),
                                    key=lambda c: c[0])
        lines = text.split("\n")
        lines[n1] = f"{m1.group(1)}{m1.group(2) or ''}{m1.group(3)}: &v {m1.group(5)}"
        lines[n2] = f"{m2.group(1)}{m2.group(2) or ''}{m2.group(3)}: *v"
        return operator, "\n".join(lines)
    if operator == "empty file":
        return operator, draw(st.sampled_from(["", "\n", "   \n", "# nothing\n", "---\n", "~\n", "[]\n", "{}\n"]))
    if operator == "truncated file":
        raw = text.encode("utf-8")
        return operator, raw[:draw(st.integers(0, len(raw) - 1))]
    if operator == "list for a mapping":
        mappings = [(path, value) for path, value in everything if isinstance(value, dict)]
        path, mapping = draw(st.sampled_from(mappings))
        new = draw(st.sampled_from([list(mapping.values()), [mapping], list(mapping)]))
        return operator, dump(put(copy(data), path, new))
    if operator == "section removed":  # a section the file's model requires (an optional one may be left out)
        fields = model_at(model, ()).model_fields if model_at(model, ()) else {}
        changed = copy(data)
        del changed[draw(st.sampled_from(sorted(k for k in changed if k not in fields or fields[k].is_required())))]
        return operator, dump(changed)
    if operator == "harmless: keys reordered":
        mappings = [path for path, value in everything if isinstance(value, dict) and len(value) > 1]
        path = draw(st.sampled_from(mappings))
        changed = copy(data)
        items = list(get(changed, path).items())
        order = draw(st.permutations(range(len(items))))
        return operator, dump(put(changed, path, dict(items[i] for i in order)))
    if operator == "harmless: re-serialised":
        return operator, dump(data)
    lines = text.split("\n")
    number = draw(st.integers(0, len(lines)))
    lines.insert(number, "# a note")
    return "harmless?: comment line inserted", "\n".join(lines)


# ---------------------------------------------------------------- relation mutations

RELATIONS = ["relation: entry duplicated", "relation: entry copied under a new ID",
             "relation: entry moved to another section", "relation: entry moved to the other bulletin",
             "relation: entry copied to the other bulletin", "relation: reference to another section",
             "relation: reference to the other bulletin", "relation: name given to another as an alias",
             "relation: other bulletin gives another kind",
             "relation: retired ID"]


def entries(data) -> list[tuple[str, int, dict]]:
    """(section, index, entry) of every entry of every list section of an annotations file."""
    return [(name, i, e) for name, value in data.items() if isinstance(value, list)
            for i, e in enumerate(value) if isinstance(e, dict)]


def references(data) -> list[tuple[str, int, str, str]]:
    """(section, index, key, target section) of every reference key an entry gives."""
    found = []
    for name, i, e in entries(data):
        model = extract.SECTION_MODELS.get(name)
        if isinstance(model, type) and issubclass(model, input_models.BaseModel):
            found += [(name, i, key, marker.section) for key, marker in input_models._markers(model, input_models.RefTo).items()
                      if e.get(key) is not None]
    return found


def ids_of(data, section) -> set:
    return {e.get("id") for e in data.get(section) or [] if isinstance(e, dict)}


def relation_mutation(draw, ws: Workspace) -> tuple[str, dict]:
    """(operator, {relative path: new text}) changing how entries relate, in one file or two."""
    operator = draw(st.sampled_from(RELATIONS))
    here = draw(st.sampled_from(BULLETINS))
    there = OTHER if here == ANNOTATIONS else ANNOTATIONS
    data, other = copy(ws.data[here]), copy(ws.data[there])
    with_ids = [(n, i, e) for n, i, e in entries(data) if "id" in e]
    if operator == "relation: entry duplicated":
        name, i, e = draw(st.sampled_from(entries(data)))
        data[name].insert(i + 1, copy(e))
        return operator, {here: dump(data)}
    if operator == "relation: entry copied under a new ID":
        name, i, e = draw(st.sampled_from(with_ids))
        data[name].append({**copy(e), "id": e["id"] + "-copy"})
        return operator, {here: dump(data)}
    if operator == "relation: entry moved to another section":
        name, i, e = draw(st.sampled_from(entries(data)))
        target = draw(st.sampled_from(sorted(n for n, v in data.items() if isinstance(v, list) and n != name)))
        data[target].append(data[name].pop(i))
        return operator, {here: dump(data)}
    if operator in ("relation: entry moved to the other bulletin", "relation: entry copied to the other bulletin"):
        name, i, e = draw(st.sampled_from([(n, i, e) for n, i, e in entries(data) if "quote" in e]))
        if operator.endswith("moved to the other bulletin"):
            data[name].pop(i)
        other[name] = (other.get(name) or []) + [copy(e)]
        return operator, {here: dump(data), there: dump(other)}
    if operator in ("relation: reference to another section", "relation: reference to the other bulletin"):
        name, i, key, target = draw(st.sampled_from(references(data)))
        if operator.endswith("another section"):
            choices = sorted({e["id"] for n, _, e in with_ids if n != target} - ids_of(data, target))
        else:
            choices = sorted(ids_of(other, target) - ids_of(data, target) - {None})
        if not choices:  # nothing to point at: point at an ID no entry has
            choices = [f"{data[name][i][key]}-elsewhere"]
        data[name][i][key] = draw(st.sampled_from(choices))
        return operator, {here: dump(data)}
    if operator == "relation: name given to another as an alias":
        named = [(rel, section, i, e) for rel in BULLETINS for section in ("organisations", "people")
                 for i, e in enumerate(ws.data[rel].get(section) or [])]
        (_, _, _, giver), (rel, section, i, taker) = draw(st.lists(
            st.sampled_from(named), min_size=2, max_size=2, unique_by=lambda n: n[3]["id"]))
        term = draw(st.sampled_from([giver["name"], *(giver.get("aliases") or [])]))
        changed = copy(ws.data[rel])
        changed[section][i]["aliases"] = [*(taker.get("aliases") or []), term]
        return operator, {rel: dump(changed)}
    if operator == "relation: other bulletin gives another kind":
        # (changing the kind where it is defined is an edit; the other bulletin contradicting it is a slip)
        defined = [(rel, e) for rel in BULLETINS for e in ws.data[rel].get("organisations") or [] if e.get("kind")]
        rel, e = draw(st.sampled_from(defined))
        kinds = input_models.descriptor_field(extract.package_spec(ws.root), "organisations", "kind")["enum"]
        kind = draw(st.sampled_from([k for k in kinds if k != e["kind"]]))
        target = OTHER if rel == ANNOTATIONS else ANNOTATIONS
        changed = copy(ws.data[target])
        mine = [o for o in changed["organisations"] if o["id"] == e["id"]]
        if mine:
            mine[0]["kind"] = kind
        else:
            changed["organisations"].append({"id": e["id"], "name": e["name"], "kind": kind})
        return operator, {target: dump(changed)}
    retired = copy(ws.data[RETIRED])
    i = draw(st.integers(0, len(retired) - 1))
    spec = extract.package_spec(ws.root)
    slip = draw(st.sampled_from(["retired by its own release", "retired later than this version",
                                 "filed under another table", "never published", "still in use", "duplicated"]))
    if slip == "retired by its own release":
        retired[i]["retired_in"] = "1.0.0"
    elif slip == "retired later than this version":
        major, minor, patch = (int(part) for part in str(spec["version"]).split("."))
        retired[i]["retired_in"] = draw(st.sampled_from([f"{major}.{minor}.{patch + 1}", f"{major}.{minor + 1}.0",
                                                         f"{major + 1}.0.0", "10.0.0"]))
    elif slip == "filed under another table":
        retired[i]["table"] = draw(st.sampled_from([r["name"] for r in spec["resources"]
                                                    if r["name"] != retired[i]["table"] and r.get("fields")]))
    elif slip == "never published":
        retired[i]["id"] = retired[i]["id"] + "-x"
    elif slip == "still in use":
        retired[i]["id"] = draw(st.sampled_from(sorted(new for e in retired for new in e["replaced_by"])))
    else:
        retired.insert(i, copy(retired[i]))
    return f"{operator} ({slip})", {RETIRED: dump(retired)}


# ---------------------------------------------------------------- CSV mutations

CELL_VALUES = ["one", "-1", "0", "10000000000000000000000", "-10000000000000000000000", "1.5", "true", "maybe", "",
               " x", "x ", "2017-13-45", "24/05/2017", "NA", "null", "[]", "{}", "1e3", "\u00a0"]


def csv_mutation(draw, ws: Workspace) -> tuple[str, str, bytes]:
    rel = draw(st.sampled_from([n for n in ws.published_names if n.endswith(".csv")]))
    raw = ws.originals[rel]
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"))))
    operator = draw(st.sampled_from(["csv: cell value", "csv: look-alike character", "csv: column removed",
                                     "csv: column added", "csv: column duplicated", "csv: header misspelt",
                                     "csv: row duplicated", "csv: row removed", "csv: empty file",
                                     "csv: truncated file", "csv: CRLF", "csv: BOM"]))
    if operator == "csv: empty file":
        return operator, rel, b""
    if operator == "csv: truncated file":
        return operator, rel, raw[:draw(st.integers(1, len(raw) - 1))]
    if operator == "csv: CRLF":
        return operator, rel, raw.replace(b"\n", b"\r\n")
    if operator == "csv: BOM":
        return operator, rel, b"\xef\xbb\xbf" + raw
    width = len(rows[0])
    r = draw(st.integers(1, len(rows) - 1)) if len(rows) > 1 else 0
    c = draw(st.integers(0, width - 1))
    if operator == "csv: cell value":
        rows[r][c] = draw(st.sampled_from([v for v in CELL_VALUES if v != rows[r][c]] + [rows[r][c] + "x"]))
    elif operator == "csv: look-alike character":
        cell = rows[r][c] or " "
        positions = [i for i, ch in enumerate(cell) if ch in LOOK_ALIKES] or [0]
        i = draw(st.sampled_from(positions))
        rows[r][c] = cell[:i] + draw(st.sampled_from(LOOK_ALIKES.get(cell[i], ["\u00a0"]))) + cell[i + 1:]
    elif operator == "csv: column removed":
        rows = [row[:c] + row[c + 1:] for row in rows]
    elif operator == "csv: column added":
        rows = [row + (["note"] if i == 0 else ["x"]) for i, row in enumerate(rows)]
    elif operator == "csv: column duplicated":
        rows = [row + [row[c]] for row in rows]
    elif operator == "csv: header misspelt":
        rows[0][c] = typo(rows[0][c], draw)
    elif operator == "csv: row duplicated":
        rows.insert(r, list(rows[r]))
    elif operator == "csv: row removed" and len(rows) > 1:
        del rows[r]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return operator, rel, buffer.getvalue().encode("utf-8")


def refresh_descriptor(ws: Workspace) -> None:
    path = ws.root / "datapackage.json"
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    for res in descriptor["resources"]:
        data = (ws.root / res["path"]).read_bytes()
        res["bytes"], res["hash"] = len(data), "sha256:" + hashlib.sha256(data).hexdigest()
    path.write_text(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# ---------------------------------------------------------------- one case


def error_lines(error: BuildError) -> list[str]:
    if getattr(error, "problems", None):
        return [str(p) for p in error.problems]
    return [str(error).split("\n")[0]]


def run_yaml_case(ws: Workspace, rel: str, operator: str, new) -> str:
    return run_changes(ws, {rel: new}, operator)


def run_changes(ws: Workspace, changes: dict, operator: str) -> str:
    """Write the mutated files (relative path -> new text or bytes), build, classify, restore. A clean
    rejection names, on every error line, one of the files the case changed."""
    before = ws.published()
    rel = ", ".join(changes)
    touched = [str(ws.root / name) for name in changes]
    for name, new in changes.items():
        (ws.root / name).write_bytes(new if isinstance(new, bytes) else new.encode("utf-8"))
    published_ran = False
    try:
        try:
            rows = extract.build(ws.root)["rows"]
        except BuildError as error:
            lines = error_lines(error)
            if all(any(path in line for path in touched) for line in lines):
                return record("clean rejection", operator, rel, ws, before)
            return record("error not naming the curator's file", operator, rel, ws, before, "\n".join(lines))
        if rows == ws.baseline:
            return record("harmless acceptance", operator, rel, ws, before)
        published_ran = True
        try:
            publish.publish(ws.root)
        except BuildError as error:
            lines = error_lines(error)
            if all(any(path in line for path in touched) for line in lines):
                return record("clean rejection", operator, rel, ws, before)
            return record("error not naming the curator's file", operator, rel, ws, before,
                          shown(changes, 300) + " -> " + str(error)[:800])
        return record("wrong input accepted", operator, rel, ws, None, shown(changes, 1500))
    except Exception:  # noqa: BLE001 - a crash is what is being counted
        return record("crash", operator, rel, ws, before, shown(changes, 600) + "\n" + traceback.format_exc()[-1200:])
    finally:
        ws.restore(list(changes) + (ws.published_names if published_ran else []))


def shown(changes: dict, limit: int) -> str:
    return "; ".join(f"{name}: {new!r}"[:limit] for name, new in changes.items())


def run_csv_case(ws: Workspace, rel: str, operator: str, new: bytes, refresh: bool) -> str:
    if new == ws.originals[rel]:
        return TALLY_RECORD("harmless acceptance", operator, rel)
    (ws.root / rel).write_bytes(new)
    if refresh:
        refresh_descriptor(ws)
    before = ws.published()
    try:
        failures = validate.validate(ws.root)
        if not failures:
            return TALLY_RECORD("wrong input accepted", operator, rel, f"{new[:300]!r}")
        if not any(f.file == rel for f in failures):
            return TALLY_RECORD("error not naming the curator's file", operator, rel,
                                "; ".join(str(f) for f in failures[:5]))
        outcome = "clean rejection"
        if ws.published() != before:
            outcome = "published file changed by a failing build"
        return TALLY_RECORD(outcome, operator, rel)
    except Exception:  # noqa: BLE001
        return TALLY_RECORD("crash", operator, rel, traceback.format_exc()[-1200:])
    finally:
        ws.restore([rel, "datapackage.json"])


def TALLY_RECORD(outcome, operator, rel, detail=""):
    TALLY.record(outcome, operator, rel, detail)
    return outcome


def record(outcome, operator, rel, ws, before, detail="") -> str:
    if before is not None and outcome != "harmless acceptance" and ws.published() != before:
        outcome = "published file changed by a failing build"
    return TALLY_RECORD(outcome, operator, rel, detail)


def run_case(ws: Workspace, draw) -> str:
    """Draw one mutation (four in eight of one value of a YAML input, three in eight of the relations
    between entries and files, one in eight of a published table, whose validation takes ten times
    as long) and run it."""
    kind = draw(st.integers(0, 7))
    if kind < 4:
        rel = draw(st.sampled_from([ANNOTATIONS, ANNOTATIONS, OTHER, METADATA, REFERENCE, RETIRED, PACKAGE]))
        operator, new = yaml_mutation(draw, ws, rel)
        return run_yaml_case(ws, rel, operator, new)
    if kind < 7:
        operator, changes = relation_mutation(draw, ws)
        return run_changes(ws, changes, operator)
    operator, rel, new = csv_mutation(draw, ws)
    return run_csv_case(ws, rel, operator, new, draw(st.booleans()))
