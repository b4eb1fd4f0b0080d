"""Step 2 of the flow: schema/package.yaml + data/*.csv -> datapackage.json.

The schemas, package metadata and version come from schema/package.yaml; what
can be measured (bytes, SHA-256, the bulletins under `sources`) is measured
here. Writes the descriptor atomically.

    python -m scripts.outputs.build_descriptor [--root DIR]
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from ..inputs import fact_kinds
from ..common import ROOT, BuildError, addresses, atomic_write_bytes, fail, json_bytes, package_spec, read_csv_rows

PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
TABLE_SCHEMA = "https://datapackage.org/profiles/2.0/tableschema.json"
# Field properties beyond Table Schema's, kept in the descriptor: `unit`, and `printed`, which
# names the evidence column whose quote the value must stand in (a value "as printed"; checked by
# the build, scripts/claims/extract.py, and by the validation gate, scripts/checks/validate.py).
EXTRA_FIELD_KEYS = ("unit", "printed")
CONSTRAINTS = ("required", "unique", "minimum", "maximum", "enum", "pattern", "minLength", "maxLength")
SOURCE_TERMS = "https://www.met.police.uk/terms-and-conditions"
# Every table resource names the v1 tabular profile as well: frictionless-r (1.2.1, the R client)
# reads only resources with it; the v2 profiles allow the property (v2 says `$schema`, which is
# optional), and frictionless-py reads it.
TABLE_PROFILE = "tabular-data-resource"


def field_descriptor(field: dict, patterns: dict, categories: dict | None = None) -> dict:
    """A Table Schema field: the constraints gathered under `constraints`, named patterns resolved,
    allowed values also written as v2 `categories` (with their labels when the `categories:`
    block of schema/package.yaml gives them, ordered when it says so)."""
    named = field.get("categories")
    field = fact_kinds.schema_field({k: v for k, v in field.items() if k != "categories"})
    unknown = set(field) - {"name", "type", "description", *CONSTRAINTS, *EXTRA_FIELD_KEYS}
    missing = {"name", "type", "description"} - set(field)
    if unknown or missing or not isinstance(field.get("description"), str):
        # An unquoted comma in a YAML flow mapping silently turns the rest of a description into a key.
        raise BuildError("schema/package.yaml", f"field {field.get('name')!r}: unknown key(s) {sorted(map(str, unknown))}"
                         f", missing {sorted(missing)} (quote a description that contains a comma)")
    out = {"name": field["name"], "type": field["type"], "description": field["description"]}
    if field["type"] == "date":
        out["format"] = "default"
    constraints = {}
    for key in CONSTRAINTS:
        if key in field:
            value = field[key]
            constraints[key] = patterns.get(value, value) if key == "pattern" else value
    if constraints:
        out["constraints"] = constraints
    if "enum" in constraints:
        labels = (categories or {}).get(named, {}) if named else {}
        values = labels.get("values", {})
        out["categories"] = [{"value": v, "label": values[v]} if v in values else v for v in constraints["enum"]]
        if labels.get("ordered"):
            out["categoriesOrdered"] = True
    for key in EXTRA_FIELD_KEYS:
        if key in field:
            out[key] = field[key]
    return out


def file_facts(path: Path) -> dict:
    data = path.read_bytes()
    return {"bytes": len(data), "hash": "sha256:" + hashlib.sha256(data).hexdigest()}


def descriptor(spec: dict, root: Path) -> dict:
    patterns = spec.get("patterns", {})
    resources = []
    for res in spec["resources"]:
        path = root / "data" / f"{res['name']}.csv"
        if not path.exists():
            raise BuildError(path, "table not built (run `make data`)")
        schema = {"$schema": TABLE_SCHEMA,
                  "fields": [field_descriptor(f, patterns, spec.get("categories")) for f in res["fields"]],
                  "primaryKey": res["primaryKey"], "missingValues": [""]}
        if res.get("foreignKeys"):
            schema["foreignKeys"] = res["foreignKeys"]
        resource = {"name": res["name"], "type": "table", "profile": TABLE_PROFILE, "title": res["title"],
                    "description": res["description"], "path": f"data/{res['name']}.csv",
                    "scheme": "file", "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
                    **file_facts(path), "schema": schema}
        if res.get("rules"):
            # Row rules (formulas over one row, as frictionless's row-constraint check takes them),
            # checked by the validation gate (scripts/inputs/rules.py); not part of Table Schema.
            resource["rules"] = [{"name": r["name"], "formula": " ".join(r["formula"].split()),
                                  "message": r["message"]} for r in res["rules"]]
        resources.append(resource)
    sources = read_csv_rows(root / "data" / "sources.csv")
    package_sources = []
    for src in sources:
        if src["source_kind"] == "bulletin":
            text = root / src["path"]
            resources.append({
                "name": f"bulletin-{src['source_id']}",  # not a table: v2 allows no other `type`
                "title": f"Archived bulletin: {src['title']}",
                "description": f"{src['publisher']}, {src['published'] or src['published_date']}. The bulletin byte for byte as received; "
                               "evidence offsets point into this text decoded as UTF-8.",
                "path": src["path"], "scheme": "file", "format": "txt", "mediatype": "text/plain",
                "encoding": "utf-8", **file_facts(text),
                "licenses": [{"title": src["rights"], "path": SOURCE_TERMS}]})
            # Where the bulletin was published, when its address is known; else the archived copy.
            package_sources.append({"title": f"{src['publisher']}: {src['title']} ({src['published'] or src['published_date']})",
                                    "path": src["url"] or src["path"]})
        else:
            package_sources.append({"title": f"{src['publisher']}: {src['title']}", "path": src["url"]})
    home = addresses(spec)  # each left out until it is set
    return {
        "$schema": PROFILE,
        **({"id": home["doi_url"]} if "doi_url" in home else {}),
        "name": spec["name"], "title": spec["title"], "description": " ".join(spec["description"].split()),
        "version": spec["version"], "created": f"{spec['released']}T00:00:00Z",
        **({"homepage": home["homepage"]} if "homepage" in home else {}),
        "keywords": spec["keywords"], "licenses": spec["licenses"], "contributors": spec["contributors"],
        "sources": package_sources, "resources": resources,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="package folder (holds data/)")
    args = parser.parse_args(argv)
    try:
        data = json_bytes(descriptor(package_spec(args.root), args.root))
    except BuildError as error:
        fail(error)
    atomic_write_bytes(args.root / "datapackage.json", data)
    print(f"build_descriptor: wrote {args.root / 'datapackage.json'}")


if __name__ == "__main__":
    main()
