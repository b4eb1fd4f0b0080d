"""The contract of the hand-written inputs: one pydantic model per file kind.

- metadata.yaml of a bulletin: `Metadata`;
- the reference scale (data/reference/uk-threat-levels.yaml): `Reference`;
- annotations.yaml of a bulletin: `Annotations`, one model per section (the
  section models are listed in `SECTIONS`, in the order the build reads them).

Types are strict (YAML text is never turned into a number or a flag, `true`/`false`
only for flags), every key is either allowed or an error, and the allowed values of
coded fields (an organisation's kind, an event's type, a measure's status...) are
read from the descriptor source, schema/package.yaml, never typed here: the
models name the table and field whose `enum` applies. The same holds for the ID
pattern (`patterns.id`) and the SHA-256 pattern.

`check(kind, loaded, path, spec)` validates one loaded file and returns every
problem as `file:line: key.path: expected ..., got ...`. The JSON Schemas for
editors (schema/*.schema.json) are exported from these models by
scripts/build_input_schemas.py.
"""

from __future__ import annotations

import contextvars
import difflib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError, core_schema

from .common import ROOT
from .yaml_input import Loaded, Problem, key_path, strip_lines

# The spec (schema/package.yaml) that JSON Schema export reads enums from.
_EXPORT_SPEC: contextvars.ContextVar[dict | None] = contextvars.ContextVar("export_spec", default=None)


def _spec(context) -> dict:
    if isinstance(context, dict) and context.get("spec") is not None:
        return context["spec"]
    spec = _EXPORT_SPEC.get()
    if spec is None:
        from .common import package_spec
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


# Characters a curator cannot see: they make two equal-looking texts differ.
_INVISIBLE = re.compile(r"[\u00a0\u1680\u2000-\u200f\u2028-\u202f\u205f-\u2064\u3000\ufeff\t]")


def _scripts(word: str) -> set[str]:
    return {unicodedata.name(c, "?").split()[0] for c in word if c.isalpha()}


def plain_text(value: str) -> str:
    """One line of the curator's own words: no surrounding spaces, no line breaks or
    invisible characters, no word mixing alphabets (a Cyrillic 'а' in an English word)."""
    if value != value.strip():
        raise PydanticCustomError("plain_text", "starts or ends with a space: {got}", {"got": repr(value)})
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise PydanticCustomError("plain_text", "contains a line break or control character: {got}", {"got": repr(value)})
    found = _INVISIBLE.search(value)
    if found:
        raise PydanticCustomError("plain_text", "contains an invisible or unusual space ({code}); type a "
                                  "plain space: {got}", {"code": f"U+{ord(found.group()):04X}", "got": repr(value)})
    for word in re.findall(r"\w+", value):
        if len(_scripts(word)) > 1:
            raise PydanticCustomError("plain_text", "the word {word} mixes alphabets ({scripts}); retype it",
                                      {"word": repr(word), "scripts": ", ".join(sorted(_scripts(word)))})
    return value


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
Text = Annotated[str, _Checked(plain_text, {"type": "string", "minLength": 1, "pattern": r"^\S(.*\S)?$"})]
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
LanguageTag = Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", description="BCP 47 language tag, e.g. en-GB.")]
Url = Annotated[str, Field(pattern=r"^https?://\S+$", description="An http(s) address.")]
Prose = Annotated[str, Field(min_length=1, pattern=r"\S", description="Free text (may span lines).")]


class Metadata(Strict):
    """data/raw/<bulletin>/metadata.yaml: what the archived text is and where it came from."""

    source_id: Id
    publisher: Text
    title: Text
    category: Text
    published: IsoTime
    language: LanguageTag
    sha256: Annotated[str, Matching(table="sources", field="sha256", what="the SHA-256 of source.txt, 64 hex digits")]
    url: Url | None = None
    archived_as: Text | None = None
    rights: Prose


class Reference(Strict):
    """data/reference/uk-threat-levels.yaml: the threat-level scale, lowest first."""

    source_id: Id
    publisher: Text
    title: Text
    url: Url
    rights: Prose
    levels: Annotated[list[Annotated[str, OneOf("threat_levels", "level_id")]], Field(min_length=1)]


# ---------------------------------------------------------------- annotations.yaml, one model per section


class Source(Strict):
    """The bulletin's own title and dateline, as printed."""

    title: Quote
    dateline: Quote


class Organisation(Strict):
    id: Id
    quote: Quote
    name: Text | None = None
    kind: Annotated[str, OneOf("organisations", "kind")]


class Person(Strict):
    id: Id
    quote: Quote
    organisation: Id | None = None


class Mention(Strict):
    """A further place the text names a person or an organisation (exactly one of the two)."""

    quote: Quote
    person: Id | None = None
    organisation: Id | None = None


class Event(Strict):
    id: Id
    sequence: Annotated[int, Field(ge=1, le=10_000)]
    event_type: Annotated[str, OneOf("events", "event_type")]
    description: Text
    quote: Quote
    date: Literal["dateline", "day_phrase", "days_into", "not_stated"]
    latest: Id | None = None
    anchor: Id | None = None


class ThreatAssessment(Strict):
    id: Id
    quote: Quote
    assessed_by: Id
    event: Id
    meaning_quote: Quote


class Personnel(Strict):
    id: Id
    quote: Quote
    force: Annotated[str, OneOf("personnel", "force")]
    role: Text
    status: Annotated[str, OneOf("personnel", "status")]
    purpose: Text
    organisation: Id
    event: Id


class Contact(Strict):
    id: Id
    quote: Quote
    purpose: Text
    confidential: bool
    organisation: Id | None = None


class Statement(Strict):
    id: Id
    speaker: Id
    attribution_quote: Quote
    quote: Quote


class Measure(Strict):
    id: Id
    quote: Quote
    measure_type: Annotated[str, OneOf("measures", "measure_type")]
    actor: Id
    status: Annotated[str, OneOf("measures", "status")]
    places: Annotated[list[Text], Field(min_length=1)]


# Section name -> the model of one entry, in the order the build reads them. Every
# section is required (an empty list, `contacts: []`, says the bulletin has none), so
# a deleted section is an error rather than a package quietly missing its rows.
SECTIONS: dict[str, type[Strict]] = {
    "source": Source,
    "organisations": Organisation,
    "people": Person,
    "mentions": Mention,
    "events": Event,
    "threat_assessments": ThreatAssessment,
    "personnel": Personnel,
    "contacts": Contact,
    "statements": Statement,
    "measures": Measure,
}
SINGLE = {"source"}  # sections that are one mapping, not a list


def _annotations_model() -> type[BaseModel]:
    from pydantic import create_model
    fields = {name: ((model if name in SINGLE else list[model]), ...) for name, model in SECTIONS.items()}
    return create_model("Annotations", __base__=Strict, __doc__="data/raw/<bulletin>/annotations.yaml: "
                        "the curator's coding of the bulletin, section by section.", **fields)


Annotations = _annotations_model()

# What the draft tool and the error messages need: the keys each section allows and requires.
SECTION_KEYS = {name: set(model.model_fields) for name, model in SECTIONS.items()}
REQUIRED_KEYS = {name: {k for k, f in model.model_fields.items() if f.is_required()} for name, model in SECTIONS.items()}

MODELS = {"annotations": Annotations, "metadata": Metadata, "reference": Reference}


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
        if model is Annotations and len(loc) == 1:
            return f"required section missing (write `{loc[0]}: []` if there is none)"
        return "required key missing"
    if kind == "extra_forbidden":
        parent = _unwrap(_annotation_at(model, loc[:-1]))
        allowed = sorted(parent.model_fields) if isinstance(parent, type) and issubclass(parent, BaseModel) else []
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        return ("unknown key" + (f" (did you mean {close[0]!r}?)" if close else "")
                + (f"; allowed: {', '.join(allowed)}" if allowed else ""))
    if kind in ("descriptor_enum", "descriptor_pattern", "plain_text", "quote", "iso_time"):
        return error["msg"]
    if kind == "literal_error":
        return f"expected one of {ctx.get('expected', '')}, got {_shown(got)}"
    if kind in ("string_type", "int_type", "bool_type", "list_type", "model_type", "model_attributes_type",
                "dict_type", "int_from_float", "float_type"):
        return f"expected {_describe(_annotation_at(model, loc))}, got {_shown(got)}"
    if kind in ("too_short", "string_too_short"):
        return f"must not be empty, got {_shown(got)}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bound = {"greater_than_equal": ">=", "less_than_equal": "<=", "greater_than": ">", "less_than": "<"}[kind]
        limit = next(iter(ctx.values()), "")
        return f"expected a whole number {bound} {limit}, got {_shown(got)}"
    if kind == "string_pattern_mismatch":
        return f"expected text matching {ctx.get('pattern')}, got {_shown(got)}"
    return f"{error['msg']}, got {_shown(got)}"


def check(kind: str, loaded: Loaded, path: Path, spec: dict | None = None) -> list[Problem]:
    """Every problem of one loaded input file (`kind`: annotations, metadata or reference)."""
    model = MODELS[kind]
    data = strip_lines(loaded.data)
    if data is None:
        return [Problem(Path(path), None, "", "the file is empty")]
    try:
        model.model_validate(data, context={"spec": spec})
    except ValidationError as exc:
        return [Problem(Path(path), loaded.line(e["loc"]), key_path(e["loc"]), _message(model, e))
                for e in exc.errors(include_url=False)]
    return []


def json_schema(kind: str, spec: dict) -> dict:
    """The JSON Schema (draft 2020-12) of one input kind, with the descriptor's enums."""
    token = _EXPORT_SPEC.set(spec)
    try:
        schema = MODELS[kind].model_json_schema()
    finally:
        _EXPORT_SPEC.reset(token)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


# ---------------------------------------------------------------- rules across entries of one file

# Keys that name an entry of another section of the same file: (section, key) -> target section.
REFERENCES = {
    ("people", "organisation"): "organisations",
    ("mentions", "person"): "people",
    ("mentions", "organisation"): "organisations",
    ("events", "latest"): "events",
    ("events", "anchor"): "events",
    ("threat_assessments", "assessed_by"): "organisations",
    ("threat_assessments", "event"): "events",
    ("personnel", "organisation"): "organisations",
    ("personnel", "event"): "events",
    ("contacts", "organisation"): "organisations",
    ("statements", "speaker"): "people",
    ("measures", "actor"): "organisations",
}


def cross_check(loaded: Loaded, path: Path) -> list[Problem]:
    """Rules between entries of a schema-valid annotations file: IDs unique in their
    section, references to entries of this file, one timeline order, date anchors."""
    data, path, problems = loaded.data, Path(path), []

    def problem(loc, what):
        problems.append(Problem(path, loaded.line(loc), key_path(loc), what))

    ids: dict[str, dict[str, int]] = {}
    for section in SECTIONS:
        if section in SINGLE:
            continue
        seen = ids.setdefault(section, {})
        for index, entry in enumerate(data[section]):
            if "id" not in entry:
                continue
            if entry["id"] in seen:
                first = seen[entry["id"]]
                problem((section, index, "id"), f"ID {entry['id']!r} is already used by {section}[{first}] "
                        f"(line {loaded.line((section, first, 'id'))}); an ID names one entry")
            else:
                seen[entry["id"]] = index
    for (section, key), target in REFERENCES.items():
        for index, entry in enumerate(data[section]):
            value = entry.get(key)
            if value is not None and value not in ids[target]:
                known = ", ".join(ids[target]) or "none"
                problem((section, index, key), f"{value!r} is not an ID in this file's {target} section "
                        f"(its IDs: {known})")
    for index, entry in enumerate(data["mentions"]):
        if (entry.get("person") is None) == (entry.get("organisation") is None):
            problem(("mentions", index), "a mention names exactly one of person and organisation")
    sequences = sorted(entry["sequence"] for entry in data["events"])
    if sequences != list(range(1, len(sequences) + 1)):
        for index, entry in enumerate(data["events"]):
            if entry["sequence"] > len(sequences) or sequences.count(entry["sequence"]) > 1:
                problem(("events", index, "sequence"), f"the events' sequences must be 1 to {len(sequences)}, "
                        f"each once (the timeline order); got {entry['sequence']}")
    for index, entry in enumerate(data["events"]):
        if (entry["date"] == "days_into") != (entry.get("anchor") is not None):
            problem(("events", index, "anchor" if entry.get("anchor") is not None else "date"),
                    "an anchor is given with `date: days_into`, and only then")
    return problems
