"""The fact kinds as declared in schema/package.yaml, expanded into full table schemas.

schema/package.yaml declares each fact kind once. A resource with a `claim:` block is a fact
kind whose rows are claims of a bulletin; the block names what every claim shares and this
module writes it out:

- `id`: the primary key column (`<section>-<curator's id>` prefixed by the source ID);
- every claim gets `source_id`, `evidence_id` (the words that state it: the curator's `quote`)
  and `statement_id` (the quoted statement the words lie in, computed by the build);
- `parties: {<party>: <who it is>}`: each party expands by the `party` shorthand (the words that
  name or refer to it, their evidence, the organisation, the basis and the rule);
- `links: {<link>: {to: <table>, what: ..., basis: true}}`: a link to another row of the same
  bulletin, expanded by the `link` shorthand (with a basis and a rule when it may be inferred);
  `across: true` lets it name a row of another bulletin by its full ID (checked once every bulletin
  is read: the events of one timeline);
- `role:`: `claim` (the default; every row is a claim of table claims, or a facet of one, and gets
  `claim_id` and `modality` by the `unit` shorthand; `modality: {from, map}` computes the modality
  from a code of the kind's own), `attribute` (of one claim, `of: <what>`, by the `attribute`
  shorthand: aims, qualifiers, effects, framing), `entity` (contacts) or `link` (between claims);
- `items: {<key>: <item_type>}`: the lists inside a claim the curator writes under `<key>`; each item
  is a row of table claim_items (a child of the claim), never a copy of the claim;
- `giver: <party>`: the party the request rule (`request_rule`) codes when the words do not name it.

A field takes its allowed values by `categories: <name>` from the `categories:` block, where
each list of values is written once with what every value means. A row rule (`rules:` of a
resource or a shorthand) is a formula over one row's columns, evaluated with simpleeval (as
frictionless's `row-constraint` check does) on the rows the build makes from the curator's input
and again on the published table (scripts/inputs/rules.py).

Each field may say what the curator writes for it (`input:`): `words` (copied from the quote),
`code` (one of its categories), `own` (the curator's own words), `flag` (true/false), `ref`
(the `id` of an entry of another section of the same file) or nothing (computed by the build);
`key` names the curator's key when it is not the field's name, `optional` makes it optional,
`list` takes a list of them, and `ordinal` (an integer) numbers the section's entries 1..n.
scripts/inputs/input_models.py builds the curator's models from these, scripts/claims/extract.py the rows.
"""

from __future__ import annotations

import copy

# Keys of a field declaration that are about the curator's input, not the published schema.
INPUT_KEYS = ("input", "key", "optional", "ref", "list", "ordinal", "computed", "words", "words_from", "across")


def _fill(value, names: dict):
    """`value` with `{name}` placeholders replaced, in every string inside it."""
    if isinstance(value, str):
        for name, text in names.items():
            value = value.replace("{" + name + "}", text)
        return value
    if isinstance(value, list):
        return [_fill(v, names) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    return value


def _keys(mapping) -> list:
    """The keys of a declaration's mapping (without the `__line__` bookkeeping of a file read with lines)."""
    return [k for k in (mapping or {}) if not str(k).startswith("__")]


def _items(mapping) -> list:
    return [(k, mapping[k]) for k in _keys(mapping)]


def organisation_column(party: str) -> str:
    """The organisation column of a party: `<party>_organisation_id` (`organisation_id` for the
    party named `organisation`)."""
    return "organisation_id" if party == "organisation" else f"{party}_organisation_id"


def _shorthand(spec: dict, name: str, names: dict) -> dict:
    block = spec.get("shorthands", {}).get(name)
    if block is None:
        raise KeyError(f"schema/package.yaml: no shorthand {name!r} under `shorthands:`")
    return _fill(copy.deepcopy(block), names)


def expand(spec: dict) -> dict:
    """The spec with every `claim:` block written out and every `categories:` reference resolved
    (the field gets the values as `enum`; the name stays under `categories`). Idempotent."""
    if spec.get("_expanded"):
        return spec
    categories = spec.get("categories", {})
    for res in spec.get("resources", []):
        claim = res.get("claim")
        if claim is not None:
            _expand_claim(spec, res, claim)
        for field in res["fields"]:
            name = field.get("categories")
            if name is not None:
                if name not in categories:
                    raise KeyError(f"schema/package.yaml: field {res['name']}.{field['name']}: no categories "
                                   f"{name!r} under `categories:`")
                field["enum"] = _keys(categories[name]["values"])
    spec["_expanded"] = True
    return spec


ROLES = ("claim", "attribute", "entity", "link")


def role(res: dict) -> str:
    """What a fact kind's rows are (`role:` of its claim block): `claim` (the default: each row is a
    claim of table claims, or a facet of one), `attribute` (of one claim, not counted among claims:
    aims, qualifiers, effects, framing), `entity` (a thing the bulletin names, as a number the public
    is given) or `link` (between two claims)."""
    value = (res.get("claim") or {}).get("role", "claim")
    if value not in ROLES:
        raise KeyError(f"schema/package.yaml: resource {res['name']!r}: role {value!r} is none of {', '.join(ROLES)}")
    return value


def _expand_claim(spec: dict, res: dict, claim: dict) -> None:
    key = claim["id"]
    head = [
        {"name": key, "type": "string", "pattern": "id", "required": True, "unique": True,
         "description": f"Stable ID of the {claim['row']}."},
        {"name": "source_id", "type": "string", "pattern": "id", "required": True,
         "description": "Source that states it."},
        {"name": "evidence_id", "type": "string", "pattern": "id", "required": True, "input": "quote",
         "description": "The words that state it (every printed column stands in them)."},
    ]
    tail, keys, rules = [], [
        {"fields": ["source_id"], "reference": {"resource": "sources", "fields": ["source_id"]}},
        {"fields": ["evidence_id"], "reference": {"resource": "evidence", "fields": ["evidence_id"]}},
    ], []

    def take(block: dict, where: list) -> None:
        where += block["fields"]
        keys.extend(block.get("foreignKeys", []))
        rules.extend(block.get("rules", []))

    kind = role(res)
    if kind == "claim":
        block = _shorthand(spec, "unit", {})
        mapped = claim.get("modality")
        if mapped:  # a kind-specific code maps onto the one scale: computed, not written
            for field in block["fields"]:
                if field["name"] == "modality":
                    field.pop("input")
                    field["description"] += f" Computed from {mapped['from']} by the kind's map."
        take(block, head)
    elif kind == "attribute":
        take(_shorthand(spec, "attribute", {"what": claim.get("of", "the claim")}), head)
    for link, declared in _items(claim.get("links")):
        block = _shorthand(spec, "link", {"link": link, "to": declared["to"], "what": declared["what"],
                                          "key": declared.get("key", link),
                                          "to_key": _primary_key(spec, declared["to"])})
        for field in block["fields"]:
            if field["name"] == f"{link}_id" and declared.get("optional"):
                field.pop("required", None)
                field["optional"] = True
            if field["name"] == f"{link}_id" and declared.get("across"):
                field["across"] = True  # may name a row of another bulletin by its full ID
        take(block, tail)
    take(_shorthand(spec, "statement", {}), tail)
    for party, who in _items(claim.get("parties")):
        take(_shorthand(spec, "party", {"party": party, "who": who, "org": organisation_column(party)}), tail)
    declared = res["fields"]
    for field in declared:
        if field.get("ref"):
            keys.append({"fields": [field["name"]], "reference": {"resource": field["ref"],
                                                                  "fields": [_primary_key(spec, field["ref"])]}})
    res["fields"] = head + declared + tail
    for field in res["fields"]:  # words the curator copies stand in the row's quote
        if field.get("input") == "words" and "printed" not in field:
            field["printed"] = "evidence_id"
    res["primaryKey"] = [key]
    res["foreignKeys"] = keys + [k for k in res.get("foreignKeys", []) if k not in keys]
    res["rules"] = rules + list(res.get("rules", []))


def _primary_key(spec: dict, table: str) -> str:
    for res in spec["resources"]:
        if res["name"] == table:
            return res["claim"]["id"] if res.get("claim") else res["primaryKey"][0]
    raise KeyError(f"schema/package.yaml: a field refers to table {table!r}, which is not declared")


def claim_tables(spec: dict) -> list[dict]:
    """The resources that are fact kinds (declared with `claim:`), in declaration order."""
    return [res for res in spec["resources"] if res.get("claim") is not None]


def unit_tables(spec: dict) -> list[dict]:
    """The fact kinds whose rows are claims (or facets of claims): role `claim`."""
    return [res for res in claim_tables(spec) if role(res) == "claim"]


def items(res: dict) -> dict:
    """A kind's lists of items: the curator's key -> the item_type of table claim_items."""
    return dict(_items((res.get("claim") or {}).get("items")))


def parties(res: dict) -> list[str]:
    return _keys((res.get("claim") or {}).get("parties"))


def links(res: dict) -> dict:
    return dict(_items((res.get("claim") or {}).get("links")))


def schema_field(field: dict) -> dict:
    """A field declaration without the keys about the curator's input."""
    return {k: v for k, v in field.items() if k not in INPUT_KEYS}
