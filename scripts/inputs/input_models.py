"""The contract of the hand-written inputs: one pydantic model per file kind.

- metadata.yaml of a bulletin: `Metadata`;
- the reference scale (data/reference/uk-threat-levels.yaml): `Reference`;
- the retired row IDs (data/releases/retired-ids.yaml): `RetiredIds`;
- annotations.yaml of a bulletin: one model per section (an entry of the section),
  each registered with the function that builds its rows (scripts/claims/extract.py,
  `@section(name, Model)`); `annotations_model` puts them together.

Types are strict (YAML text is never turned into a number or a flag, `true`/`false`
only for flags), every key is either allowed or an error, and the allowed values of
coded fields (an organisation's kind, an event's type, a measure's status...) are
read from the descriptor source, schema/package.yaml, never typed here: the
models name the table and field whose `enum` applies. The same holds for the ID
pattern (`patterns.id`), the SHA-256 pattern and the table names. The curator's own
words (descriptions, purposes, rules, rights) are plain letters and ASCII punctuation;
words copied from the bulletin (`Quote`, `Printed`) are kept exactly as printed.

`check(model, loaded, path, spec)` validates one loaded file and returns every
problem as `file:line: key.path: expected ..., got ...`. The JSON Schemas for
editors (schema/*.schema.json) are exported from these models by
scripts/outputs/build_input_schemas.py.
"""

from __future__ import annotations

import contextvars
import difflib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError
from pydantic_core import PydanticCustomError, core_schema

from ..common import ROOT
from .yaml_input import Loaded, Problem, key_path, strip_lines

# The spec (schema/package.yaml) that JSON Schema export reads enums from.
_EXPORT_SPEC: contextvars.ContextVar[dict | None] = contextvars.ContextVar("export_spec", default=None)


def _spec(context) -> dict:
    if isinstance(context, dict) and context.get("spec") is not None:
        return context["spec"]
    spec = _EXPORT_SPEC.get()
    if spec is None:
        from ..common import package_spec
        spec = package_spec(ROOT)
    return spec


def descriptor_field(spec: dict, table: str, field: str) -> dict:
    resource = next(r for r in spec["resources"] if r["name"] == table)
    return next(f for f in resource["fields"] if f["name"] == field)


def _resolve_pattern(spec: dict, pattern: str) -> str:
    return spec.get("patterns", {}).get(pattern, pattern)


@dataclass(frozen=True)
class OneOf:
    """A value of the `enum` of `table.field` in the descriptor."""

    table: str
    field: str

    def allowed(self, spec) -> list[str]:
        return list(descriptor_field(spec, self.table, self.field)["enum"])

    def __get_pydantic_core_schema__(self, source, handler):
        def check(value, info):
            allowed = self.allowed(_spec(info.context))
            if value not in allowed:
                raise PydanticCustomError("descriptor_enum", "expected one of {allowed} ({where} in "
                                          "schema/package.yaml), got {got}",
                                          {"allowed": ", ".join(allowed), "where": f"{self.table}.{self.field}",
                                           "got": repr(value)})
            return value
        return core_schema.with_info_after_validator_function(check, core_schema.str_schema(strict=True))

    def __get_pydantic_json_schema__(self, schema, handler):
        return {"type": "string", "enum": self.allowed(_spec(None)),
                "description": f"One of the values of {self.table}.{self.field} in schema/package.yaml."}


@dataclass(frozen=True)
class Matching:
    """Text matching a pattern of the descriptor: a named one (`patterns.<name>`) or a field's."""

    pattern: str | None = None  # name under `patterns:`
    table: str | None = None
    field: str | None = None
    what: str = "text"

    def regex(self, spec) -> str:
        if self.pattern:
            return _resolve_pattern(spec, self.pattern)
        return _resolve_pattern(spec, descriptor_field(spec, self.table, self.field)["pattern"])

    def __get_pydantic_core_schema__(self, source, handler):
        def check(value, info):
            regex = self.regex(_spec(info.context))
            if not re.fullmatch(regex, value):
                raise PydanticCustomError("descriptor_pattern", "expected {what} (matching {regex}), got {got}",
                                          {"what": self.what, "regex": regex, "got": repr(value)})
            return value
        return core_schema.with_info_after_validator_function(check, core_schema.str_schema(strict=True))

    def __get_pydantic_json_schema__(self, schema, handler):
        return {"type": "string", "pattern": self.regex(_spec(None)), "description": f"{self.what[0].upper()}{self.what[1:]}."}


@dataclass(frozen=True)
class RefTo:
    """Marks a key whose value is the `id` of an entry of another section of the same file (`across`: or
    the full ID of a row of another bulletin, which the build checks once every bulletin is read)."""

    section: str
    across: bool = False


@dataclass(frozen=True)
class Ordinal:
    """Marks a key whose values number the section's entries 1..n, each once (an order)."""


def _own_words(value: str, lines: bool) -> str:
    """The curator's own words: plain letters (Latin, accents allowed) and ASCII punctuation.
    A look-alike character (a Cyrillic 'а', a no-break or zero-width space, a curly quote or a
    typographic dash) makes two equal-looking texts differ, so it belongs only in quotes copied
    from the source."""
    if value != value.strip():
        raise PydanticCustomError("plain_text", "starts or ends with a space: {got}", {"got": repr(value)})
    for ch in value:
        if ch == "\n" and lines:
            continue
        if ch.isascii() and ch.isprintable():
            continue
        if ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN "):
            continue
        raise PydanticCustomError(
            "plain_text", "contains {char} (U+{code} {name}); type plain letters, spaces and ASCII punctuation "
            "in your own words (typographic characters belong only in quotes copied from the source): {got}",
            {"char": repr(ch), "code": f"{ord(ch):04X}", "name": unicodedata.name(ch, "control character"),
             "got": repr(value)})
    return value


def plain_text(value: str) -> str:
    """One line of the curator's own words."""
    return _own_words(value, lines=False)


def prose(value: str) -> str:
    """The curator's own words, possibly on several lines."""
    return _own_words(value, lines=True)


def exact_quote(value: str) -> str:
    """Words copied from the source: found there by the build, so only trimmed here."""
    if value != value.strip(" \t\r\n\u00a0"):
        raise PydanticCustomError("quote", "a quote starts or ends with a space; quote the words only: {got}",
                                  {"got": repr(value)})
    return value


def _after(func):
    return core_schema.no_info_after_validator_function(func, core_schema.str_schema(strict=True, min_length=1))


@dataclass(frozen=True, eq=False)
class _Checked:
    func: Any
    json: dict

    def __get_pydantic_core_schema__(self, source, handler):
        return _after(self.func)

    def __get_pydantic_json_schema__(self, schema, handler):
        return dict(self.json)


Id = Annotated[str, Matching(pattern="id", what="an ID (lower-case letters and digits, words joined by hyphens)")]
# The same rule for editors, as a JSON Schema pattern: printable ASCII and Latin letters with accents
# (the Latin-1 letters and Latin Extended-A and -B), no surrounding space.
_OWN = r"!-~\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u024F"
Text = Annotated[str, _Checked(plain_text, {
    "type": "string", "minLength": 1, "pattern": rf"^[{_OWN}](?:[ {_OWN}]*[{_OWN}])?$",
    "description": "Your own words: plain letters, spaces and ASCII punctuation, one line."})]
Quote = Annotated[str, _Checked(exact_quote, {"type": "string", "minLength": 1,
                                              "description": "Words of source.txt, exactly as printed, found there once."})]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


# ---------------------------------------------------------------- metadata.yaml and the reference


def iso_time_with_offset(value: str) -> str:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})", value):
        raise PydanticCustomError("iso_time", "expected an ISO 8601 time with its UTC offset "
                                  "(e.g. 2017-05-24T20:15:00+01:00), got {got}", {"got": repr(value)})
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("iso_time", "not a real date and time: {got}", {"got": repr(value)}) from None
    return value


IsoTime = Annotated[str, _Checked(iso_time_with_offset, {
    "type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})$",
    "description": "ISO 8601 time with its UTC offset, quoted (e.g. \"2017-05-24T20:15:00+01:00\")."})]


def iso_day_or_time(value: str) -> str:
    """A publication known to the minute (ISO 8601 time with offset) or only to the day (a date)."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            date.fromisoformat(value)
        except ValueError:
            raise PydanticCustomError("iso_time", "not a real date: {got}", {"got": repr(value)}) from None
        return value
    try:
        return iso_time_with_offset(value)
    except PydanticCustomError:
        raise PydanticCustomError("iso_time", "expected an ISO 8601 time with its UTC offset (e.g. "
                                  "2017-05-24T20:15:00+01:00), or a date alone when the dateline prints no time "
                                  "(e.g. 2017-05-27), got {got}", {"got": repr(value)}) from None


IsoDayOrTime = Annotated[str, _Checked(iso_day_or_time, {
    "type": "string",
    "pattern": r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2}))?$",
    "description": "When the bulletin was published, as its dateline says: an ISO 8601 time with its UTC offset, "
                   "quoted (e.g. \"2017-05-24T20:15:00+01:00\"), or a date alone (\"2017-05-27\") when the "
                   "dateline prints no time."})]
LanguageTag = Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", description="BCP 47 language tag, e.g. en-GB.")]
Url = Annotated[str, Field(pattern=r"^https?://[!-~]+$", description="An http(s) address.")]
Prose = Annotated[str, _Checked(prose, {
    "type": "string", "minLength": 1, "pattern": rf"^[{_OWN}](?:[ \n{_OWN}]*[{_OWN}])?$",
    "description": "Your own words: plain letters, spaces and ASCII punctuation (may span lines)."})]


class Metadata(Strict):
    """data/raw/<bulletin>/metadata.yaml: what the archived text is and where it came from."""

    source_id: Id
    publisher: Text
    title: Text
    category: Text = None  # as the dateline prints it; a dateline that is a date alone has none
    published: IsoDayOrTime
    language: LanguageTag
    sha256: Annotated[str, Matching(table="sources", field="sha256", what="the SHA-256 of source.txt, 64 hex digits")]
    url: Url = None
    archived_as: Text = None
    rights: Prose


class Reference(Strict):
    """data/reference/uk-threat-levels.yaml: the threat-level scale, lowest first."""

    source_id: Id
    publisher: Text
    title: Text
    url: Url
    rights: Prose
    levels: Annotated[list[Annotated[str, OneOf("threat_levels", "level_id")]], Field(min_length=1)]


# ---------------------------------------------------------------- schema/dates.yaml: how words give dates

Offset = Annotated[str, Field(pattern=r"^[+-][0-9]{2}:[0-9]{2}$", description="An offset from UTC, e.g. +01:00.")]
Words = Annotated[str, Field(pattern=r"^[a-z]+( [a-z]+)*$", description="Lower-case words, one space between.")]
PartOfDay = Literal["morning", "afternoon", "evening", "night"]
DayCount = Annotated[int, Field(ge=-366, le=366)]


class RelativeDay(Strict):
    """Words that name a day counted from the publication day (`days` after it; before it when negative)."""

    words: Words
    days: DayCount
    part_of_day: PartOfDay = None


class Period(Strict):
    """Words that name a period: its first and last day, each a number of days after the publication day,
    `weekend` or `bank_holiday_weekend`; with no `to`, the period is open (its last day is not given)."""

    words: Words
    from_: Annotated[DayCount | Literal["weekend", "bank_holiday_weekend"], Field(alias="from")]
    to: DayCount | Literal["weekend", "bank_holiday_weekend"] = None


class BankHolidays(Strict):
    """The calendar of bank holidays (python-holidays: a country code and a subdivision)."""

    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    subdivision: Annotated[str, Field(pattern=r"^[A-Z0-9]{1,4}$")] = None


class DateRules(Strict):
    """schema/dates.yaml: how a bulletin's words give dates and times, declared once for every bulletin."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)
    dayfirst: bool
    time_zones: Annotated[dict[Annotated[str, Field(pattern=r"^[A-Z]{2,5}$")], Offset], Field(min_length=1)]
    local_zone: Annotated[str, Field(pattern=r"^[A-Za-z_]+(/[A-Za-z_+-]+)*$",
                                     description="An IANA time zone, e.g. Europe/London.")]
    dateline_separators: Annotated[list[Annotated[str, Field(min_length=1, max_length=3)]], Field(min_length=1)]
    relative_days: list[RelativeDay] = []
    bank_holidays: BankHolidays = None
    periods: list[Period] = []


@dataclass(frozen=True)
class TableName:
    """The name of a table of the descriptor, or of a table a release had that this version retired
    (`retired_tables:` of schema/package.yaml)."""

    def __get_pydantic_core_schema__(self, source, handler):
        def check(value, info):
            spec = _spec(info.context)
            names = [r["name"] for r in spec["resources"]] + list(spec.get("retired_tables") or {})
            if value not in names:
                raise PydanticCustomError("descriptor_enum", "expected one of {allowed} (the tables of "
                                          "schema/package.yaml), got {got}", {"allowed": ", ".join(names),
                                                                               "got": repr(value)})
            return value
        return core_schema.with_info_after_validator_function(check, core_schema.str_schema(strict=True))

    def __get_pydantic_json_schema__(self, schema, handler):
        spec = _spec(None)
        return {"type": "string", "enum": [r["name"] for r in spec["resources"]] + list(spec.get("retired_tables") or {})}


class RetiredId(Strict):
    """A row ID a release published that a later version no longer has, and where it went."""

    id: Id
    table: Annotated[str, TableName()]
    retired_in: Annotated[str, Field(pattern=r"^[0-9]+\.[0-9]+\.[0-9]+$", description="The version that retired it.")]
    replaced_by: list[Id]
    reason: Prose


class RetiredIds(RootModel[list[RetiredId]]):
    """data/releases/retired-ids.yaml: the retired row IDs, a list."""

    model_config = ConfigDict(strict=True)


# ---------------------------------------------------------------- annotations.yaml, one model per section


def ref(section: str, optional: bool = False, across: bool = False):
    """The type of a key naming an entry (by its `id`) of `section` in the same file (`across`: or a row of
    another bulletin by its full ID)."""
    what = f"an ID of an entry of {section}" + (" (or of another bulletin's, by its full ID)" if across else "")
    kind = Annotated[str, Matching(pattern="id", what=what), RefTo(section, across)]
    return kind  # optional or not, a key given must hold an ID (an empty value is a slip)


class Source(Strict):
    """The bulletin's own title and dateline, as printed, and the organisation that publishes it
    (the bulletin's own first person, we, us and our, refers to it)."""

    one_entry: ClassVar[bool] = True  # a mapping, not a list of entries
    title: Quote
    dateline: Quote
    publisher: ref("organisations")


Printed = Annotated[str, _Checked(exact_quote, {
    "type": "string", "minLength": 1,
    "description": "Words as the bulletin prints them (checked against the entry's quote by the build)."})]


class Organisation(Strict):
    """An organisation the bulletin names: its name (and other spellings) to look for; every place
    the text prints one is a mention, found by code."""

    id: Id
    name: Printed
    aliases: Annotated[list[Printed], Field(min_length=1)] = None
    kind: Annotated[str, OneOf("organisations", "kind")] = None  # required where first named (checked by the build)
    # The organisation it is part of (an organisation of the package, no cycle: checked by the build once
    # every bulletin is read), the words that state it or from which the rule infers it, and the rule.
    part_of: Id = None
    part_of_words: Printed = None
    part_of_rule: Text = None


class Correction(Strict):
    """A curator's correction of one mention of a person: `quote` (words printed once that hold the
    mention's name) places it; `rank` and `role` replace what the words' rule read, and must be printed
    in the mention's sentence (checked by the build)."""

    quote: Quote
    rank: Printed = None
    role: Printed = None


class Person(Strict):
    """A person the bulletin names (rank and role are read from the words around each mention, by
    speech.role_rule; `corrections` corrects one mention's rank or role, checked against its words)."""

    id: Id
    name: Printed
    aliases: Annotated[list[Printed], Field(min_length=1)] = None
    corrections: Annotated[list[Correction], Field(min_length=1)] = None


# ---------------------------------------------------------------- the fact kinds, from their declarations

# What the curator writes for a field, by its declared `input` (schema/package.yaml).
def _input_type(spec: dict, table: str, field: dict):
    kind = field["input"]
    if kind == "quote":
        return Quote
    if kind == "words":
        return Printed
    if kind == "own":
        return Text
    if kind == "flag":
        return bool
    if kind == "ref":
        target = field["ref"]
        if target in _SECTIONS_IN_FILE:
            return ref(target, across=bool(field.get("across")))
        return Annotated[str, Matching(pattern="id", what=f"the ID of a row of {target} (without the source ID)")]
    if kind == "code":
        if field.get("type") == "integer":
            marks = [Field(ge=field.get("minimum", 0), le=10_000)]
            if field.get("ordinal"):
                marks.append(Ordinal())
            return Annotated[int, *marks]
        return Annotated[str, OneOf(table, field["name"])]
    raise KeyError(f"schema/package.yaml: {table}.{field['name']}: unknown input {kind!r}")


# Sections of an annotations file that a `ref` may name (checked within the file by cross_check);
# a ref to any other table is checked by the build against the rows made: an organisation is
# package-wide (an earlier bulletin may define it), a claim is a row of a fact kind.
_SECTIONS_IN_FILE = {"people", "events", "contacts", "statements"}


def input_key(field: dict) -> str:
    """The key the curator writes a field under: its `key`, else its name (less `_id` for a ref or
    a quote)."""
    if field.get("key"):
        return field["key"]
    if field.get("input") in ("ref", "quote") and field["name"].endswith("_id"):
        return field["name"][:-len("_id")]
    return field["name"]


def claim_model(spec: dict, table: str) -> type[BaseModel]:
    """The model of one entry of a fact kind's section, from its declaration: `id`, the keys of
    every field the curator writes (`input:`), the `items:` lists and the `inputs:` of the claim
    block, and `statement`, which may be given only to agree with the words (it is computed)."""
    from pydantic import create_model
    res = next(r for r in spec["resources"] if r["name"] == table)
    claim = res["claim"]
    fields: dict[str, Any] = {"id": (Id, ...)}
    for field in res["fields"]:
        if not field.get("input"):
            continue
        kind = _input_type(spec, table, field)
        key = input_key(field)
        if field["name"] == "evidence_id":
            key = "quote"
        if field.get("list"):
            kind = Annotated[list[kind], Field(min_length=1)]
        required = field.get("required") and not field.get("optional")
        fields[key] = (kind, ...) if required else (kind, None)
    for key in claim.get("items") or {}:  # lists inside the claim: rows of claim_items
        fields[key] = (Annotated[list[Printed], Field(min_length=1)], None)
    for extra in claim.get("inputs") or []:
        if "values" in extra:
            kind = Literal[tuple(extra["values"])]
        else:
            kind = ref(extra["ref"]) if extra["ref"] in _SECTIONS_IN_FILE else Id
        fields[extra["key"]] = (kind, None) if extra.get("optional") else (kind, ...)
    fields["statement"] = (ref("statements"), None)
    model = create_model("".join(part.title() for part in table.split("_")), __base__=Strict, **fields)
    model.__doc__ = f"One entry of {table}: {res['description']}"
    model.table = table
    return model


class Statement(Strict):
    """A quoted paragraph, or a reported clause, and the words that attribute it to its speaker. Its
    kind (direct or reported), its speaker (the mention the attribution verb governs), its paragraph
    number and the organisation the speaker is introduced as heading are computed from the words."""

    id: Id
    speaker: Id = None  # found by speech.speaker_rule; given, a correction: a person or organisation the attribution names
    attribution_quote: Quote
    quote: Quote


class Uncoded(Strict):
    """Words of the narrative excused from coding (no claim of theirs to code: page furniture, or
    words that only join claims), with the kind and the reason. A few words at most. Words printed
    more than once (a connective such as "and") are placed by `occurrence`: the n-th time they are
    printed, counted from 1."""

    quote: Quote
    kind: Annotated[str, OneOf("sentences", "excused_kind")]
    reason: Text
    occurrence: Annotated[int, Field(ge=1, le=10_000)] = None


class FirstPerson(Strict):
    """A first-person word (we, us, our) no party's words hold, excused with the reason: the quote holds
    exactly one first-person word and is found once in the text."""

    quote: Quote
    reason: Text


class Computed:
    """Marks a section the build computes (mentions): it may be left out, or written `[]`."""


def one_entry(model) -> bool:
    return bool(getattr(model, "one_entry", False))


def annotations_model(sections: dict[str, type[BaseModel] | None]) -> type[BaseModel]:
    """The model of a whole annotations.yaml from the section registry (scripts/claims/extract.py):
    section name -> the model of one of its entries. Every section is required (an empty list,
    `contacts: []`, says the bulletin has none), so a deleted section is an error rather than a
    package quietly missing its rows. A section registered without a model yet is only
    required to be a list of mappings (tests/test_input_contract.py fails on it)."""
    from pydantic import create_model
    fields = {}
    for name, model in sections.items():
        if model is Computed:
            fields[name] = (Annotated[list[dict[str, Any]], Field(max_length=0)], [])
            continue
        entry = model if model is not None else dict[str, Any]
        fields[name] = ((entry if one_entry(model) else list[entry]), ...)
    annotations = create_model("Annotations", __base__=Strict, **fields)
    annotations.__doc__ = ("data/raw/<bulletin>/annotations.yaml: the curator's coding of the bulletin, "
                           "section by section.")
    annotations.sections = dict(sections)
    return annotations


def section_keys(sections) -> tuple[dict[str, set], dict[str, set]]:
    """Section -> the keys it allows, and the keys it requires (for the drafting aid)."""
    real = {name: model if isinstance(model, type) and issubclass(model, BaseModel) else None
            for name, model in sections.items()}
    allowed = {name: set(model.model_fields) if model else set() for name, model in real.items()}
    required = {name: {k for k, f in model.model_fields.items() if f.is_required()} if model else set()
                for name, model in real.items()}
    return allowed, required


MODELS = {"metadata": Metadata, "reference": Reference, "dates": DateRules, "retired-ids": RetiredIds}


# ---------------------------------------------------------------- errors as the curator reads them


def _shown(value) -> str:
    if isinstance(value, dict):
        keys = [k for k in value if not str(k).startswith("__")]
        return "a mapping" + (f" (keys {', '.join(map(str, keys[:6]))})" if keys else " with no keys")
    if isinstance(value, list):
        return f"a list of {len(value)}" if value else "an empty list"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, str):
        return repr(value if len(value) <= 70 else value[:67] + "...")
    return repr(value)


def _annotation_at(model, loc) -> Any:
    """The type annotation of the value at `loc` inside `model` (None if unknown)."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, RootModel):
            current = _unwrap(current.model_fields["root"].annotation)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part) if isinstance(part, str) else None
            if field is None:
                return None
            current = Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
        elif get_origin(current) is list and isinstance(part, int):
            current = get_args(current)[0]
        else:
            return None
    return current


def _unwrap(annotation):
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin is not None and type(None) in get_args(annotation) and origin is not list:
            annotation = next(a for a in get_args(annotation) if a is not type(None))
        else:
            return annotation


def _describe(annotation) -> str:
    raw = annotation
    annotation = _unwrap(annotation)
    if get_origin(annotation) is list:
        item = _describe(get_args(annotation)[0])
        return "a list of " + {"a string": "strings", "an ID": "IDs", "an entry (a mapping of keys)": "entries"}.get(item, item)
    if get_origin(raw) is Annotated:
        for meta in get_args(raw)[1:]:
            if isinstance(meta, Matching) and meta.pattern == "id":
                return "an ID"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "an entry (a mapping of keys)"
    return {str: "a string", int: "a whole number", bool: "true or false"}.get(annotation, "a value")


def _message(model, error: dict) -> str:
    kind, loc, got, ctx = error["type"], error["loc"], error.get("input"), error.get("ctx") or {}
    if kind == "missing":
        if hasattr(model, "sections") and len(loc) == 1:
            if one_entry(model.sections.get(loc[0])):
                return "required section missing"
            return f"required section missing (write `{loc[0]}: []` if there is none)"
        return "required key missing"
    if kind == "extra_forbidden":
        parent = _unwrap(_annotation_at(model, loc[:-1]))
        allowed = sorted(parent.model_fields) if isinstance(parent, type) and issubclass(parent, BaseModel) else []
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        return ("unknown key" + (f" (did you mean {close[0]!r}?)" if close else "")
                + (f"; allowed: {', '.join(allowed)}" if allowed else ""))
    if kind in ("descriptor_enum", "descriptor_pattern", "plain_text", "quote", "iso_time", "entry"):
        return error["msg"]
    if kind == "literal_error":
        return f"expected one of {ctx.get('expected', '')}, got {_shown(got)}"
    if not loc and kind in ("model_type", "list_type", "dict_type", "model_attributes_type"):
        expected = "a list of entries" if isinstance(model, type) and issubclass(model, RootModel) else \
            "key: value lines (a mapping)"
        return f"expected {expected} at the top of the file, got {_shown(got)}"
    if kind in ("string_type", "int_type", "bool_type", "list_type", "model_type", "model_attributes_type",
                "dict_type", "int_from_float", "float_type"):
        return f"expected {_describe(_annotation_at(model, loc))}, got {_shown(got)}"
    if kind == "too_long" and len(loc) == 1:
        return "this section is computed by the build and takes no entries; leave it out"
    if kind in ("too_short", "string_too_short"):
        return f"must not be empty, got {_shown(got)}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bound = {"greater_than_equal": ">=", "less_than_equal": "<=", "greater_than": ">", "less_than": "<"}[kind]
        limit = next(iter(ctx.values()), "")
        return f"expected a whole number {bound} {limit}, got {_shown(got)}"
    if kind == "string_pattern_mismatch":
        return f"expected text matching {ctx.get('pattern')}, got {_shown(got)}"
    return f"{error['msg']}, got {_shown(got)}"


def check(model, loaded: Loaded, path: Path, spec: dict | None = None) -> list[Problem]:
    """Every problem of one loaded input file, checked against `model` (or the name of one of MODELS)."""
    model = MODELS[model] if isinstance(model, str) else model
    data = strip_lines(loaded.data)
    if data is None:
        return [Problem(Path(path), None, "", "the file is empty")]
    try:
        model.model_validate(data, context={"spec": spec})
    except ValidationError as exc:
        return [Problem(Path(path), loaded.line(e["loc"]), key_path(e["loc"]), _message(model, e))
                for e in exc.errors(include_url=False)]
    return []


def json_schema(model, spec: dict) -> dict:
    """The JSON Schema (draft 2020-12) of one input model, with the descriptor's enums."""
    model = MODELS[model] if isinstance(model, str) else model
    token = _EXPORT_SPEC.set(spec)
    try:
        schema = model.model_json_schema()
    finally:
        _EXPORT_SPEC.reset(token)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


# ---------------------------------------------------------------- rules across entries of one file

def _markers(model, kind) -> dict[str, Any]:
    """Key -> the marker of type `kind` (RefTo, Ordinal) in the model's field annotations."""
    found = {}
    for name, field in model.model_fields.items():
        metadata = list(field.metadata)
        for arg in get_args(field.annotation):  # `X | None`: the marker is inside X
            if get_origin(arg) is Annotated:
                metadata += list(get_args(arg)[1:])
        for meta in metadata:
            if isinstance(meta, kind):
                found[name] = meta
    return found


def cross_check(annotations_model, loaded: Loaded, path: Path) -> list[Problem]:
    """Rules between entries of a schema-valid annotations file, read from the section models:
    IDs unique within their section, no entry a copy of another under a new ID, references (RefTo) naming an entry of this file, and an
    order (Ordinal) numbering the entries 1..n."""
    data, path, problems = loaded.data, Path(path), []
    sections = {name: model for name, model in annotations_model.sections.items()
                if isinstance(model, type) and issubclass(model, BaseModel) and not one_entry(model)}

    def problem(loc, what):
        problems.append(Problem(path, loaded.line(loc), key_path(loc), what))

    ids: dict[str, dict[str, int]] = {}
    for section, model in sections.items():
        seen = ids.setdefault(section, {})
        if "id" not in model.model_fields:
            continue
        facts: dict[str, int] = {}  # an entry's keys and values but its id -> its index
        for index, entry in enumerate(data[section]):
            if entry["id"] in seen:
                first = seen[entry["id"]]
                problem((section, index, "id"), f"ID {entry['id']!r} is already used by {section}[{first}] "
                        f"(line {loaded.line((section, first, 'id'))}); an ID names one entry")
            else:
                seen[entry["id"]] = index
            fact = repr(sorted((k, repr(v)) for k, v in strip_lines(entry).items() if k != "id"))
            if fact in facts:
                first = facts[fact]
                problem((section, index), f"repeats {section}[{first}] (line {loaded.line((section, first))}) in "
                        "all but its id: one fact, one entry")
            facts.setdefault(fact, index)
    for section, model in sections.items():
        for key, target in _markers(model, RefTo).items():
            for index, entry in enumerate(data[section]):
                value = entry.get(key)
                if value is not None and value not in ids.get(target.section, {}) \
                        and not (target.across and value.count("-") >= 3):  # another bulletin's, by its full ID
                    known = ", ".join(ids.get(target.section, {})) or "none"
                    problem((section, index, key), f"{value!r} is not an ID in this file's {target.section} "
                            f"section (its IDs: {known})")
        for key in _markers(model, Ordinal):
            numbers = sorted(entry[key] for entry in data[section])
            if numbers != list(range(1, len(numbers) + 1)):
                for index, entry in enumerate(data[section]):
                    if entry[key] > len(numbers) or numbers.count(entry[key]) > 1:
                        problem((section, index, key), f"the {section}' {key}s must be 1 to {len(numbers)}, "
                                f"each once; got {entry[key]}")
    return problems
