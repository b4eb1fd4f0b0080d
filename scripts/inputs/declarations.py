"""schema/package.yaml checked like the curator's annotations, before anything is built from it.

The file is the declaration language of the package: its metadata, the lists of coded values
(`categories:`), the shorthands a fact kind's `claim:` block expands, and every table (`resources:`)
with its fields, keys and row rules. A slip in it (a list of values removed, a misspelt `input:`, a
key given twice, a formula naming no field) would otherwise surface far from its cause: as a
Python traceback, or as an error blaming a curator's row or a row of the built tables. So the file is
read strictly with the line of every value (scripts/inputs/yaml_input.py: duplicate keys are an
error at their line), checked against a pydantic model of the language (`Package` below: every key
allowed or an error, types strict), and then for what a model of one value cannot see:

- references: a field's `categories`, `pattern`, `ref` and `printed`, a foreign key's fields and
  table, a primary key, a claim block's link tables, items, giver and modality map, and the
  shorthands the claim blocks use, each name something declared;
- names: one resource per name, one field per name in a table (as expanded), placeholders of a
  shorthand filled in;
- row rules: each formula parses as a Python expression and every name in it is a field of its
  table (or one of the functions the evaluator offers);
- what the build relies on: the tables it fills itself, the fields the input models read, the
  kinds of claim listed in `categories: claim_type`, the first-person and request rules.

Every problem is reported at once as `schema/package.yaml:<line>: <key path>: <what is wrong and what
is expected>` (an `InputErrors`). `spec(root)` returns the expanded declarations
(scripts/inputs/fact_kinds.py) once they pass, with the line of each table, field and rule kept aside
(`line`) for errors found later, when the build runs (a kind's value no code computes).
"""

import ast
import copy
import difflib
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import fact_kinds, input_models
from .yaml_input import InputErrors, Loaded, Problem, key_path, load, strip_lines

# ---------------------------------------------------------------- the language, as a model


class Decl(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


Text = Annotated[str, Field(min_length=1)]
FIELD_TYPES = ("string", "integer", "number", "boolean", "date", "time", "datetime")
INPUTS = ("words", "code", "own", "flag", "ref", "quote")
COMPUTED = ("number",)


class FieldDecl(Decl):
    """One column: Table Schema's keys, and what the curator writes for it (`input:` and the rest)."""

    name: Text
    type: Literal[FIELD_TYPES]
    description: Text
    required: bool = None
    unique: bool = None
    pattern: Text = None
    enum: Annotated[list[Text], Field(min_length=1)] = None
    categories: Text = None
    minimum: int | float = None
    maximum: int | float = None
    minLength: int = None
    maxLength: int = None
    unit: Text = None
    printed: Text = None
    input: Literal[INPUTS] = None
    computed: Literal[COMPUTED] = None
    words: Text = None
    words_from: Text = None
    key: Text = None
    optional: bool = None
    ref: Text = None
    ordinal: bool = None
    list: bool = None  # last: the name is the builtin's in the class body from here on


class Reference(Decl):
    resource: Text
    fields: Annotated[list[Text], Field(min_length=1, max_length=1)]


class ForeignKey(Decl):
    fields: Annotated[list[Text], Field(min_length=1, max_length=1)]
    reference: Reference


class Rule(Decl):
    name: Text
    formula: Text
    message: Text


class Block(Decl):
    """A shorthand: fields, foreign keys and rules a claim block writes out, with placeholders."""

    fields: Annotated[list[FieldDecl], Field(min_length=1)]
    foreignKeys: list[ForeignKey] = None
    rules: list[Rule] = None


class Category(Decl):
    values: Annotated[dict[str, Text], Field(min_length=1)]
    ordered: bool = None


class Link(Decl):
    to: Text
    what: Text
    key: Text = None
    basis: bool = None
    optional: bool = None
    across: bool = None  # may name a row of another bulletin by its full ID


class ClaimInput(Decl):
    key: Text
    description: Text
    values: Annotated[list[Text], Field(min_length=1)] = None
    ref: Text = None
    optional: bool = None


class ModalityMap(Decl):
    from_: Text = Field(alias="from")
    map: Annotated[dict[str, Text], Field(min_length=1)]


class Claim(Decl):
    """A fact kind's `claim:` block (scripts/inputs/fact_kinds.py)."""

    id: Text
    row: Text
    role: Literal[fact_kinds.ROLES] = None
    of: Text = None
    parties: Annotated[dict[str, Text], Field(min_length=1)] = None
    links: Annotated[dict[str, Link], Field(min_length=1)] = None
    inputs: Annotated[list[ClaimInput], Field(min_length=1)] = None
    items: Annotated[dict[str, Text], Field(min_length=1)] = None
    giver: Text = None
    modality: ModalityMap = None


class Resource(Decl):
    name: Text
    title: Text
    description: Text
    claim: Claim = None
    primaryKey: Annotated[list[Text], Field(min_length=1, max_length=1)] = None
    foreignKeys: list[ForeignKey] = None
    rules: list[Rule] = None
    fields: Annotated[list[FieldDecl], Field(min_length=1)]


class License(Decl):
    name: Text
    path: Text
    title: Text


class Contributor(Decl):
    title: Text
    roles: Annotated[list[Text], Field(min_length=1)]


Words = Annotated[list[Annotated[str, Field(pattern=r"^[a-z][a-z-]*( [a-z][a-z-]*)*$")]], Field(min_length=1)]


class Speech(Decl):
    """How a statement, its speaker and a person's role are read from the words (`speech:`)."""

    kind_rule: Text
    verbs: Words
    prepositions: Words
    speaker_rule: Text
    role_nouns: Words
    role_rule: Text


class Package(Decl):
    """schema/package.yaml."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", description="the package's name")]
    title: Text
    version: Annotated[str, Field(pattern=r"^[0-9]+\.[0-9]+\.[0-9]+$", description="the version, e.g. 4.0.0 (quoted or not)")]
    released: Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", description='the release date, quoted: "2026-12-07"')]
    description: Text
    homepage: str
    site_url: str
    doi: str
    keywords: Annotated[list[Text], Field(min_length=1)]
    spatial_coverage: Text
    licenses: Annotated[list[License], Field(min_length=1)]
    contributors: Annotated[list[Contributor], Field(min_length=1)]
    source_licence: Text
    patterns: Annotated[dict[str, Text], Field(description="named patterns fields take by `pattern: <name>`, with `id`")]
    categories: Annotated[dict[str, Category], Field(description="the lists of coded values, each value with its label")]
    first_person_rule: Annotated[str, Field(min_length=1, description="how a party's first-person words (we, us, our) "
                                            "are coded: one rule for every bulletin, written into the party's rule column")]
    request_rule: Annotated[str, Field(min_length=1, description="who gives a request whose words do not name its "
                                       "giver: one rule for every bulletin")]
    reported_rule: Annotated[str, Field(min_length=1, description="how an undated event told as done is bounded by "
                                        "the publication of the bulletin that reports it")]
    previous_level_rule: Annotated[str, Field(min_length=1, description="the level a change of threat level moves "
                                              "from when its words do not print it")]
    speech: Speech
    retired_tables: dict[str, Text] = None
    shorthands: Annotated[dict[str, Block], Field(description="the blocks a claim block expands: party, link, "
                                                  "statement, unit and attribute")]
    resources: Annotated[list[Resource], Field(min_length=1)]


# ---------------------------------------------------------------- what the build relies on

# The tables the build fills itself (scripts/claims/extract.py), not from a `claim:` block.
BUILT_TABLES = ("sources", "evidence", "sentences", "threat_levels", "organisations", "people", "mentions",
                "statements", "claim_items", "claims", "retired_ids")
# Fields the input models read their allowed values or pattern from (scripts/inputs/input_models.py).
READ_FIELDS = {("sources", "sha256"): "pattern", ("organisations", "kind"): "enum",
               ("threat_levels", "level_id"): "enum", ("sentences", "excused_kind"): "enum",
               ("claim_items", "item_type"): "enum", ("claims", "claim_type"): "enum"}
# Names a formula may use besides its table's fields (scripts/inputs/rules.py, `holds`).
FORMULA_NAMES = {"quote", "bool", "abs", "round", "True", "False", "None"}
# The placeholders a claim block fills in a shorthand (fact_kinds._expand_claim).
PLACEHOLDERS = {"party", "who", "org", "link", "to", "key", "to_key", "what"}
NAME = re.compile(r"[a-z][a-z0-9_]*")


def _close(name, names) -> str:
    found = difflib.get_close_matches(str(name), [str(n) for n in names], n=1)
    return f" (did you mean {found[0]!r}?)" if found else ""


def _listing(names) -> str:
    names = [str(n) for n in names]
    return ", ".join(names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else "") if names else "none"


def _keys(mapping) -> list:
    return [k for k in (mapping or {}) if not str(k).startswith("__")]


class Checker:
    def __init__(self, loaded: Loaded, path: Path):
        self.loaded, self.path, self.problems = loaded, Path(path), []
        self.data = strip_lines(loaded.data)  # each value's line is in loaded.lines, by its key path

    def problem(self, loc: tuple, what: str, line: int | None = None) -> None:
        self.problems.append(Problem(self.path, line or self.loaded.line(loc), self.where(loc), what))

    def where(self, loc: tuple) -> str:
        """The key path, with the name of the resource it is in: `resources[16] aims.claim.row`."""
        text = key_path(loc)
        if len(loc) >= 2 and loc[0] == "resources" and isinstance(loc[1], int):
            resources = self.data.get("resources") if isinstance(self.data, dict) else None
            name = resources[loc[1]].get("name") if isinstance(resources, list) and loc[1] < len(resources) \
                and isinstance(resources[loc[1]], dict) else None
            if isinstance(name, str):
                head = key_path(loc[:2])
                text = f"{head} ({name})" + text[len(head):]
        return text

    # ---- the model
    def structure(self) -> bool:
        if not isinstance(self.data, dict):
            self.problem((), "expected key: value lines (a mapping) at the top of the file")
            return False
        try:
            Package.model_validate(self.data)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                loc = tuple(error["loc"])
                problem = Problem(self.path, self.loaded.line(loc), key_path(loc), input_models._message(Package, error))
                problem.what = self.explain(problem)
                problem.where = self.where(loc)
                self.problems.append(problem)
            return False
        return True

    @staticmethod
    def explain(problem: Problem) -> str:
        what = problem.what
        leaf = problem.where.rsplit(".", 1)[-1]
        if what == "required key missing":
            described = Package.model_fields.get(leaf)
            if described is not None and described.description and "." not in problem.where:
                return f"required key missing: {described.description}"
            return what
        if what.startswith("unknown key") and ".fields[" in problem.where:
            return what + " (a description that contains a comma or a colon is quoted)"
        return what

    # ---- references and names, before the claim blocks are written out
    def declarations(self) -> None:
        spec = self.data
        categories = spec["categories"]
        names: dict[str, int] = {}
        for index, res in enumerate(spec["resources"]):
            name = res["name"]
            if not NAME.fullmatch(name):
                self.problem(("resources", index, "name"), f"table name {name!r}: expected lower-case letters, digits "
                             "and underscores, starting with a letter (it names a CSV file and a database table)")
            if name in names:
                self.problem(("resources", index, "name"), f"resource {name!r} is declared twice (first at "
                             f"resources[{names[name]}], line {self.loaded.line(('resources', names[name]))}); "
                             "one table, one declaration")
            names.setdefault(name, index)
        self.tables = names
        for table in BUILT_TABLES:
            if table not in names:
                self.problem(("resources",), f"no resource {table!r}: the build fills table {table} itself "
                             "(scripts/claims/extract.py); declare it", self.loaded.line(("resources",)))
        for pattern, regex in (spec.get("patterns") or {}).items():
            self._regex(("patterns", pattern), regex)
        if "id" not in (spec.get("patterns") or {}):
            self.problem(("patterns",), "no pattern `id`: every ID of the package and of the curator's input "
                         "matches it")
        for name, block in categories.items():
            for value in _keys(block["values"]):
                if not re.fullmatch(r"[a-z0-9][a-z0-9_]*", str(value)):
                    self.problem(("categories", name, "values", value), f"value {value!r}: expected a code of "
                                 "lower-case letters, digits and underscores")
        used = set()
        for index, res in enumerate(spec["resources"]):
            where = ("resources", index)
            claim = res.get("claim")
            if claim is None and not res.get("primaryKey"):
                self.problem(where, f"resource {res['name']!r} has neither a `claim:` block nor a primaryKey: "
                             "every table has a key")
            if claim is not None and res.get("primaryKey"):
                self.problem(where + ("primaryKey",), "a fact kind's primary key is its claim block's `id`; "
                             "leave primaryKey out")
            for number, field in enumerate(res["fields"]):
                self.field(where + ("fields", number), field, res, categories)
            if claim is not None:
                used |= self.claim(where + ("claim",), res, claim, categories)
        for name, block in spec["shorthands"].items():
            for number, field in enumerate(block["fields"]):
                self.field(("shorthands", name, "fields", number), field, None, categories)
        users: dict[str, list[str]] = {}
        for name, table in sorted(used):
            users.setdefault(name, []).append(table)
        for name, tables in users.items():
            if name not in spec["shorthands"]:
                self.problem(("shorthands",), f"no shorthand {name!r}: the claim blocks of {_listing(tables)} are "
                             f"written out with it; shorthands here: {_listing(_keys(spec['shorthands']))}")
        self.claim_types(spec, categories)

    def claim_types(self, spec, categories) -> None:
        """The kinds whose rows are claims are the values of `categories: claim_type` (the claims table's
        claim_type names a row's table), and the item kinds of claim blocks are `item_type` values."""
        units = [res["name"] for res in spec["resources"] if res.get("claim") is not None
                 and (res["claim"].get("role") or "claim") == "claim"]
        block = categories.get("claim_type")
        if block is None:
            return  # reported where claims.claim_type names it
        values = _keys(block["values"])
        for name in units:
            if name not in values:
                index = self.tables[name]
                self.problem(("categories", "claim_type", "values"), f"no value {name!r}: resource {name} "
                             f"(resources[{index}], line {self.loaded.line(('resources', index))}) is a kind of "
                             f"claim, and table claims names its rows' kind by it; add `{name}: \"<what it is>\"`")
        for value in values:
            if value not in units:
                self.problem(("categories", "claim_type", "values", value), f"{value!r} is no resource whose "
                             f"rows are claims (those are: {_listing(units)}); remove it or declare the kind")

    def _regex(self, loc, regex) -> bool:
        try:
            re.compile(regex)
        except re.error as exc:
            self.problem(loc, f"pattern {regex!r} is not a regular expression: {exc}")
            return False
        return True

    def field(self, loc, field, res, categories) -> None:
        named = field.get("categories")
        if named is not None:
            if named not in categories:
                self.problem(loc + ("categories",), f"no list of values {named!r} under `categories:`"
                             f"{_close(named, categories)}; lists: {_listing(categories)}")
            if field.get("enum") is not None:
                self.problem(loc + ("enum",), "give the values once: `categories: <name>` or `enum: [...]`, not both")
        pattern = field.get("pattern")
        if pattern is not None and pattern not in (self.data.get("patterns") or {}):
            if re.fullmatch(r"[a-z_]+", pattern):
                self.problem(loc + ("pattern",), f"no pattern {pattern!r} under `patterns:`"
                             f"{_close(pattern, self.data.get('patterns') or {})} (a regular expression starts "
                             "with ^)")
            else:
                self._regex(loc + ("pattern",), pattern)
        kind = field.get("input")
        if field.get("ref") is not None and kind != "ref":
            self.problem(loc + ("ref",), "`ref:` is for a field with `input: ref`")
        if kind == "ref":
            target = field.get("ref")
            if target is None:
                self.problem(loc + ("input",), "a field with `input: ref` names its table with `ref: <table>`")
            elif "{" not in target and target not in self.tables:
                self.problem(loc + ("ref",), f"no resource {target!r}{_close(target, self.tables)}")
        for key in ("key", "optional", "list", "ordinal"):
            if field.get(key) is not None and kind is None:
                self.problem(loc + (key,), f"`{key}:` is about the curator's input: the field needs `input:`")
        if field.get("ordinal") and (kind != "code" or field.get("type") != "integer"):
            self.problem(loc + ("ordinal",), "`ordinal: true` is for an integer the curator writes (`input: code`)")
        if kind == "code" and field.get("type") != "integer" and named is None and field.get("enum") is None:
            self.problem(loc + ("input",), "a field with `input: code` takes one of its values: give it "
                         "`categories: <name>` or `enum: [...]`")
        computed = field.get("computed")
        if computed is not None:
            if kind is not None:
                self.problem(loc + ("computed",), "a field is written by the curator (`input:`) or computed "
                             "(`computed:`), not both")
            if field.get("type") != "integer":
                self.problem(loc + ("computed",), f"`computed: {computed}` reads a whole number: the field's type "
                             "is integer")
            if res is not None and res.get("claim") is None:
                self.problem(loc + ("computed",), f"`computed:` is for a fact kind's field (a resource with a "
                             "`claim:` block)")
        for key in ("words", "words_from"):
            if field.get(key) is not None and computed is None:
                self.problem(loc + (key,), f"`{key}:` names the words a computed count follows: the field needs "
                             "`computed: number`")
        if computed == "number" and (field.get("words") is None) == (field.get("words_from") is None):
            self.problem(loc + ("computed",), "`computed: number` reads the number in the row's words that comes "
                         "before the words given as `words: <word or words>` (e.g. words: arrests), or before the "
                         "row's value of a field the curator copies from the words, `words_from: <field>`: one "
                         "of the two")
        source = field.get("words_from")
        if source is not None and res is not None:
            named = next((f for f in res.get("fields") or [] if isinstance(f, dict) and f.get("name") == source), None)
            if named is None:
                names = [f.get("name") for f in res.get("fields") or [] if isinstance(f, dict) and f.get("name")]
                self.problem(loc + ("words_from",), f"no field {source!r} in {res.get('name')}{_close(source, names)}: "
                             "`words_from:` names a field of the same kind whose words the count follows")
            elif named.get("input") != "words" or named.get("optional") or not named.get("required"):
                self.problem(loc + ("words_from",), f"field {source!r} is not words every row copies from its quote: "
                             "`words_from:` names a field with `input: words` and `required: true`")

    def claim(self, loc, res, claim, categories) -> set:
        """A claim block: its role's keys, its links' tables, its items, giver and modality map."""
        role = claim.get("role") or "claim"
        used = {("statement", res["name"])}
        used |= {("unit", res["name"])} if role == "claim" else set()
        used |= {("attribute", res["name"])} if role == "attribute" else set()
        used |= {("party", res["name"])} if _keys(claim.get("parties")) else set()
        used |= {("link", res["name"])} if _keys(claim.get("links")) else set()
        if claim.get("of") is not None and role != "attribute":
            self.problem(loc + ("of",), f"`of:` says what an attribute is of: this kind's role is {role}")
        for key in ("items", "giver", "modality"):
            if claim.get(key) is not None and role != "claim":
                self.problem(loc + (key,), f"`{key}:` is for a kind whose role is claim; this one's is {role}")
        for link in _keys(claim.get("links")):
            target = claim["links"][link]["to"]
            if target not in self.tables:
                self.problem(loc + ("links", link, "to"), f"no resource {target!r}{_close(target, self.tables)}")
        item_types = _keys((categories.get("item_type") or {}).get("values"))
        for key in _keys(claim.get("items")):
            value = claim["items"][key]
            if value not in item_types:
                self.problem(loc + ("items", key), f"{value!r} is no value of `categories: item_type` (the kinds of "
                             f"claim_items){_close(value, item_types)}; values: {_listing(item_types)}")
        parties = _keys(claim.get("parties"))
        if claim.get("giver") is not None and claim["giver"] not in parties:
            self.problem(loc + ("giver",), f"giver {claim['giver']!r} is none of the kind's parties "
                         f"({_listing(parties)})")
        for number, extra in enumerate(claim.get("inputs") or []):
            if (extra.get("values") is None) == (extra.get("ref") is None):
                self.problem(loc + ("inputs", number), "an input gives its values (`values: [...]`) or the table "
                             "it names (`ref: <table>`), one of the two")
            elif extra.get("ref") is not None and extra["ref"] not in self.tables:
                self.problem(loc + ("inputs", number, "ref"), f"no resource {extra['ref']!r}"
                             f"{_close(extra['ref'], self.tables)}")
        mapped = claim.get("modality")
        if mapped is not None:
            source = next((f for f in res["fields"] if f["name"] == mapped["from"]), None)
            values = None
            if source is None:
                self.problem(loc + ("modality", "from"), f"no field {mapped['from']!r} in {res['name']}"
                             f"{_close(mapped['from'], [f['name'] for f in res['fields']])}")
            elif source.get("enum") is not None:
                values = source["enum"]
            elif source.get("categories") in categories:
                values = _keys(categories[source["categories"]]["values"])
            else:
                self.problem(loc + ("modality", "from"), f"field {mapped['from']!r} has no values to map "
                             "(`categories:` or `enum:`)")
            scale = _keys((categories.get("modality") or {}).get("values"))
            for code in _keys(mapped["map"]):
                if values is not None and code not in values:
                    self.problem(loc + ("modality", "map", code), f"{code!r} is no value of {res['name']}."
                                 f"{mapped['from']} ({_listing(values)})")
                if mapped["map"][code] not in scale:
                    self.problem(loc + ("modality", "map", code), f"{mapped['map'][code]!r} is no value of "
                                 f"`categories: modality`{_close(mapped['map'][code], scale)}; values: {_listing(scale)}")
            for code in values or []:
                if code not in _keys(mapped["map"]):
                    self.problem(loc + ("modality", "map"), f"no modality for {res['name']}.{mapped['from']} "
                                 f"{code!r}: the map gives every value its modality")
        return used

    # ---- the tables as written out
    def expanded(self) -> dict | None:
        """The declarations with every claim block written out, lines kept (each field, key and rule a
        shorthand writes keeps the line of its template)."""
        try:
            return fact_kinds.expand(copy.deepcopy(self.loaded.data))
        except (KeyError, TypeError, ValueError, StopIteration) as exc:  # a slip the checks above did not name
            self.problem((), f"the claim blocks cannot be written out: {exc}")
            return None

    def tables_as_written(self, spec: dict) -> None:
        fields_of = {res["name"]: {f["name"] for f in res["fields"]} for res in spec["resources"]}
        for index, res in enumerate(spec["resources"]):
            where = ("resources", index)
            name, claim = res["name"], res.get("claim")
            at = self.loaded.line(where + ("claim", "id")) if claim else self.loaded.line(where)
            seen: dict[str, int] = {}
            for field in res["fields"]:
                line = field.get("__line__") or at
                fname = field["name"]
                if "{" in fname or "}" in fname or "{" in str(field.get("ref", "")):
                    left = sorted(set(re.findall(r"\{(\w+)\}", fname + str(field.get("ref", "")))) - set())
                    self.problem(where, f"field {fname!r}: placeholder(s) {_listing(left)} not filled in (a shorthand "
                                 f"fills {_listing(sorted(PLACEHOLDERS))})", line)
                    continue
                if not NAME.fullmatch(fname):
                    self.problem(where, f"field name {fname!r}: expected lower-case letters, digits and "
                                 "underscores, starting with a letter", line)
                if fname in seen:
                    self.problem(where, f"field {fname!r} is declared twice in table {name} (first at line "
                                 f"{seen[fname]}, which may be a field the claim block writes: "
                                 f"{_listing(_keys(claim)) if claim else 'no claim block'})", line)
                seen.setdefault(fname, line)
                printed = field.get("printed")
                if printed is not None and printed not in fields_of[name]:
                    self.problem(where, f"field {fname!r}: printed {printed!r} is no field of {name}"
                                 f"{_close(printed, fields_of[name])}", line)
                target = field.get("ref")
                if target is not None and target in fields_of and not self._key_of(spec, target):
                    self.problem(where, f"field {fname!r}: table {target} has no primary key to refer to", line)
            for key in res.get("primaryKey") or []:
                if key not in fields_of[name]:
                    self.problem(where + ("primaryKey",), f"primary key {key!r} is no field of {name}"
                                 f"{_close(key, fields_of[name])}")
            for fk in res.get("foreignKeys") or []:
                line = fk.get("__line__") or at
                for column in fk["fields"]:
                    if column not in fields_of[name]:
                        self.problem(where, f"foreign key: {column!r} is no field of {name}"
                                     f"{_close(column, fields_of[name])}", line)
                target = fk["reference"]["resource"]
                if target not in fields_of:
                    self.problem(where, f"foreign key of {fk['fields']}: no resource {target!r}"
                                 f"{_close(target, fields_of)}", line)
                    continue
                for column in fk["reference"]["fields"]:
                    if column not in fields_of[target]:
                        self.problem(where, f"foreign key of {fk['fields']}: {column!r} is no field of {target}"
                                     f"{_close(column, fields_of[target])}", line)
            for rule in res.get("rules") or []:
                self.formula(where, rule, name, fields_of[name], rule.get("__line__") or at)
        for (table, column), what in READ_FIELDS.items():
            if table not in fields_of:
                continue  # reported as a missing table
            field = next((f for f in next(r for r in spec["resources"] if r["name"] == table)["fields"]
                          if f["name"] == column), None)
            if field is None:
                self.problem(("resources", self.tables[table]), f"table {table} has no field {column!r}: the "
                             f"curator's input takes its {what} from it (scripts/inputs/input_models.py)")
            elif what not in field:
                self.problem(("resources", self.tables[table]), f"field {table}.{column} has no {what}: the "
                             f"curator's input takes its {what} from it", field.get("__line__"))

    @staticmethod
    def _key_of(spec, table) -> bool:
        res = next(r for r in spec["resources"] if r["name"] == table)
        return bool(res.get("claim") or res.get("primaryKey"))

    def formula(self, where, rule, table, fields, line) -> None:
        text = " ".join(str(rule["formula"]).split())
        try:
            tree = ast.parse(text, mode="eval")
        except SyntaxError as exc:
            self.problem(where, f"rule {rule['name']!r}: the formula is not an expression: {exc.msg} at "
                         f"character {exc.offset} of {text!r}", line)
            return
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id not in fields and node.id not in FORMULA_NAMES:
                self.problem(where, f"rule {rule['name']!r}: the formula names {node.id!r}, which is no field of "
                             f"{table}{_close(node.id, fields)} (nor one of the functions {_listing(sorted(FORMULA_NAMES - {'True', 'False', 'None'}))})",
                             line)
            elif isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id in FORMULA_NAMES):
                self.problem(where, f"rule {rule['name']!r}: a formula calls only {_listing(['quote', 'bool', 'abs', 'round'])}", line)
            elif isinstance(node, (ast.Attribute, ast.Lambda, ast.NamedExpr)):
                self.problem(where, f"rule {rule['name']!r}: a formula compares a row's columns; "
                             f"{type(node).__name__.lower()} is not allowed", line)

    def addresses(self) -> None:
        from ..common import ADDRESS_PATTERNS
        for key, pattern in ADDRESS_PATTERNS.items():
            value = str(self.data.get(key) or "").strip()
            if value and not re.fullmatch(pattern, value):
                self.problem((key,), f"{value!r} is not " + (
                    "a DOI such as 10.5281/zenodo.123 (without https://doi.org/)" if key == "doi"
                    else "an http(s) address"))


def check(loaded: Loaded, path: Path) -> tuple[list[Problem], dict | None]:
    """Every problem of the loaded schema/package.yaml, and its declarations written out with lines
    (None when they cannot be)."""
    checker = Checker(loaded, path)
    if not checker.structure():
        return checker.problems, None
    checker.addresses()
    checker.declarations()
    if checker.problems:
        return checker.problems, None
    expanded = checker.expanded()
    if expanded is not None:
        checker.tables_as_written(expanded)
    return checker.problems, expanded


def lines_of(expanded: dict, loaded: Loaded) -> dict[str, int]:
    """`<table>`, `<table>.<field>` and `<table>:<rule>` -> the line that declares it (a field a
    shorthand writes: the line of its template; one a claim block writes: the block's `id`)."""
    found = {}
    for index, res in enumerate(expanded["resources"]):
        found[res["name"]] = loaded.line(("resources", index))
        at = loaded.line(("resources", index, "claim", "id")) if res.get("claim") else found[res["name"]]
        for field in res["fields"]:
            found.setdefault(f"{res['name']}.{field['name']}", field.get("__line__") or at)
        for rule in res.get("rules") or []:
            found.setdefault(f"{res['name']}:{rule['name']}", rule.get("__line__") or at)
    return found


def spec(path: Path) -> dict:
    """The declarations of `path` (schema/package.yaml), checked and written out; raises InputErrors
    listing every problem. The line of each table, field and rule is kept under `_lines`."""
    loaded = load(path, with_lines=True)
    problems, expanded = check(loaded, path)
    if problems:
        raise InputErrors(problems)
    raw = strip_lines(loaded.data)
    computed = {res["name"]: [f["name"] for f in res["fields"] if not f.get("input") and not f.get("computed")]
                for res in raw["resources"] if res.get("claim") is not None}
    out = fact_kinds.expand(raw)
    out["_lines"] = lines_of(expanded, loaded)
    out["_computed"] = {table: names for table, names in computed.items() if names}
    return out


def line(spec: dict, table: str, field: str | None = None, rule: str | None = None) -> int | None:
    """The line of schema/package.yaml that declares `table` (or its `field`, or its `rule`)."""
    lines = spec.get("_lines") or {}
    key = table if field is None and rule is None else f"{table}.{field}" if field is not None else f"{table}:{rule}"
    return lines.get(key) or lines.get(table)


def place(spec: dict, table: str, field: str | None = None) -> str:
    """`schema/package.yaml:<line>` of a table or field (the path as errors show it)."""
    from ..common import ROOT
    path = Path(spec.get("_path") or ROOT / "schema" / "package.yaml")
    try:
        path = path.relative_to(ROOT)
    except ValueError:
        pass
    number = line(spec, table, field)
    return f"{path}:{number}" if number else str(path)
