"""Step 5 of the flow: datapackage.json -> build/metadata.json, Datasette's metadata.

Everything comes from the descriptor: title, description, licence, source,
version and citation; per table its title and description; per column its
description (with its unit, when the field has one); and, by rule rather than
by list, each table's label column, sortable columns and default facets.
The canned queries researchers ask for are written here, once, as SQL.

    python -m scripts.build_datasette_metadata [--root DIR] [--out FILE]
"""

from __future__ import annotations

import html
from pathlib import Path

from datasette.views.base import ureg  # Datasette's unit registry (Pint)

from .build_db import EXTRA_TABLES, FULL_TEXT, site_step
from . import build_citation, build_dictionary
from .common import BuildError, atomic_write_bytes, fail, json_bytes, read_csv_rows

SORTABLE_TYPES = {"integer", "number", "boolean", "date", "time", "datetime", "year"}
FACET_MAX_WORDS = 3  # a free-text column is a facet when its values repeat and are this short

QUERIES = {
    "timeline": {
        "title": "Timeline, in date order",
        "description": "Every event with its date (or the latest date it can have), how precise the date is, "
                       "how it was obtained, and the words of the bulletin that state it.",
        "sql": """
select e.event_id, e.date, e.time, e.utc_offset, e.date_precision, e.part_of_day, e.date_basis,
       e.date_rule, e.date_latest, e.event_type, e.description, e.evidence_id, ev.quote
from events e join evidence ev on ev.evidence_id = e.evidence_id
order by coalesce(e.date, e.date_latest) nulls last, e.time nulls first, e.sequence""",
    },
    "personnel_figures": {
        "title": "Officer and troop figures, with their quotes",
        "description": "Every figure of police officers or military personnel: its bounds, qualifier, status and "
                       "mobilisation window, the organisation, and the quote that states it.",
        "sql": """
select p.personnel_id, p.force, p.role, p.qualifier, p.count_min, p.count_max, p.status, p.purpose,
       p.window_min_hours, p.window_max_hours, o.name as organisation, ev.quote, p.evidence_id,
       ev.start, ev.end
from personnel p
join evidence ev on ev.evidence_id = p.evidence_id
left join organisations o on o.organisation_id = p.organisation_id
order by p.force desc, p.count_max desc""",
    },
    "contact_numbers": {
        "title": "Contact numbers",
        "description": "The numbers the public is given, as printed and in E.164, with the quote that gives them.",
        "sql": """
select c.contact_id, c.number_as_printed, c.e164, c.number_type, c.emergency, c.confidential, c.purpose,
       o.name as organisation, ev.quote, c.evidence_id
from contacts c
join evidence ev on ev.evidence_id = c.evidence_id
left join organisations o on o.organisation_id = c.organisation_id
order by c.emergency, c.contact_id""",
    },
    "threat_level_assessments": {
        "title": "Threat level assessments on the UK scale",
        "description": "The five levels of the UK threat scale in order, each with the assessments the bulletin "
                       "reports at that level: who set it, when, what it means, and the quotes.",
        "sql": """
select l.rank, l.level_id, a.assessment_id, o.name as assessed_by, e.date, e.date_latest,
       ev.quote, a.meaning, a.evidence_id, a.meaning_evidence_id
from threat_levels l
left join threat_assessments a on a.level_id = l.level_id
left join organisations o on o.organisation_id = a.assessed_by
left join events e on e.event_id = a.event_id
left join evidence ev on ev.evidence_id = a.evidence_id
order by l.rank, a.assessment_id""",
    },
    "evidence_for_row": {
        "title": "The evidence for any row",
        "description": "Give the evidence_id of any row: the quote, its offsets in the archived text, and the "
                       "sentence(s) of the source around it (context == source text[context_start:context_end]).",
        "sql": """
select ev.evidence_id, ev.source_id, ev.start, ev.end, ev.quote,
       min(s.start) as context_start, max(s.end) as context_end,
       substr(t.text, min(s.start) + 1, max(s.end) - min(s.start)) as context
from evidence ev
join source_texts t on t.source_id = ev.source_id
join sentences s on s.source_id = ev.source_id and s.start < ev.end and s.end > ev.start
where ev.evidence_id = :evidence_id
group by ev.evidence_id""",
    },
}


def label_column(fields: list[dict], pk: list[str]) -> str | None:
    """A `name` or `title` field, else the first required free-text field (no pattern, no enum)."""
    names = [f["name"] for f in fields]
    for preferred in ("name", "title"):
        if preferred in names and preferred not in pk:
            return preferred
    for field in fields:
        rules = field.get("constraints", {})
        if (field["type"] == "string" and field["name"] not in pk and rules.get("required")
                and "pattern" not in rules and "enum" not in rules):
            return field["name"]
    return None


def facets(fields: list[dict], pk: list[str], rows: list[dict]) -> list[str]:
    """Coded columns: enums and booleans, and short free-text values that repeat across rows."""
    out = []
    for field in fields:
        if field["name"] in pk:
            continue
        rules = field.get("constraints", {})
        values = [row[field["name"]] for row in rows if row[field["name"]] != ""]
        if "enum" in rules or field["type"] == "boolean":
            out.append(field["name"])
        elif (field["type"] == "string" and "pattern" not in rules and len(set(values)) < len(values)
              and all(len(v.split()) <= FACET_MAX_WORDS for v in values)):
            out.append(field["name"])
    return out


def column_description(field: dict) -> str:
    text = field["description"]
    if field.get("printed"):
        text += f" (The bulletin's words: checked to stand in the quote of {field['printed']}.)"
    return f"{text} Unit: {field['unit']}." if field.get("unit") else text


ORDER_FIELDS = ("sequence", "rank", "start")


def table_metadata(resource: dict, rows: list[dict]) -> dict:
    schema = resource["schema"]
    fields, pk = schema["fields"], schema["primaryKey"]
    meta = {
        "title": resource["title"],
        "description": resource["description"],
        "columns": {f["name"]: column_description(f) for f in fields},
        "sortable_columns": [f["name"] for f in fields
                             if f["type"] in SORTABLE_TYPES or f["name"] in pk
                             or "enum" in f.get("constraints", {})],
        "facets": facets(fields, pk, rows),
    }
    # Datasette shows values with units through Pint, which knows physical units (hours) but would
    # turn a head count into "3.8 kpeople": units it does not know stay in the column description only.
    units = {f["name"]: f["unit"] for f in fields if f.get("unit") and f["unit"] in ureg}
    if units:
        meta["units"] = units
    label = label_column(fields, pk)
    if label:
        meta["label_column"] = label
    # Rows in the order a reader expects (the timeline's sequence, the scale's rank, the text's
    # offsets) rather than by the string ID.
    order = next((f["name"] for f in fields if f["name"] in ORDER_FIELDS and f["type"] == "integer"), None)
    if order:
        meta["sort"] = order
    return meta


def extra_table_metadata(spec: dict) -> dict:
    columns = spec["columns"]
    return {"title": spec["title"], "description": spec["description"],
            "columns": {name: text for name, (_, text) in columns.items()},
            "sortable_columns": [name for name, (kind, _) in columns.items() if kind is int or name == spec["pk"]]}


def citation(root: Path) -> str:
    """The preferred citation, the same line as in CITATION.cff and the README (without Markdown)."""
    return build_citation.apa(build_citation.build(root)).replace("*", "")


def metadata(package: dict, root: Path) -> dict:
    name = package["name"]
    tables = [r for r in package["resources"] if r.get("type") == "table"]
    texts = [r for r in package["resources"] if r.get("type") == "text"]
    if not texts:
        raise BuildError(root / "datapackage.json", "no archived source text (a resource of type text)")
    rights = texts[0]["licenses"][0]
    data_licence = package["licenses"][0]
    rows = {r["name"]: read_csv_rows(root / r["path"]) for r in tables}
    archived = [row["source_id"] for row in rows["sources"] if row["path"]]
    source = "; ".join(s["title"] for s in package["sources"] if not s["path"].startswith(("http:", "https:")))
    # The bulletin has no stable web address: the source link opens its archived text in this site.
    source_url = f"/{name}/source_texts/{archived[0]}" if len(archived) == 1 else f"/{name}/source_texts"
    cite = citation(root)
    other_licences = "; ".join(f"{lic['title']}: {lic['path']}" for lic in package["licenses"][1:])
    description_html = "".join([
        f"<p>{html.escape(package['description'])}</p>",
        f"<p><strong>Version {html.escape(package['version'])}</strong> "
        f"(released {html.escape(package['created'][:10])}).</p>",
        f"<p><strong>Coverage:</strong> {html.escape(build_dictionary.sentence_coverage(package, root))}.</p>",
        f"<p><strong>How to cite:</strong> {html.escape(cite)}</p>",
        f"<p><strong>Licence:</strong> {html.escape(data_licence['title'])}. {html.escape(other_licences)}. "
        f"The archived bulletin and the quotes: {html.escape(rights['title'])}</p>",
    ])
    tables_meta = {r["name"]: table_metadata(r, rows[r["name"]]) for r in tables}
    tables_meta.update({n: extra_table_metadata(spec) for n, spec in EXTRA_TABLES.items()})
    for table in FULL_TEXT:  # the tables holding the source's own words carry its rights, not the data licence
        tables_meta[table].update({"license": rights["title"].split(". ")[0] + ". Quoted for research and verification",
                                   "license_url": rights["path"]})
    return {
        "title": package["title"],
        "description": package["description"],
        "description_html": description_html,
        "license": data_licence["name"],
        "license_url": data_licence["path"],
        "source": source,
        "source_url": source_url,
        "about": f"Version {package['version']}. How to cite: {cite}",
        "about_url": package["homepage"],
        "databases": {name: {
            "title": package["title"],
            "description_html": description_html,
            "tables": tables_meta,
            "queries": {key: {**query, "sql": query["sql"].strip()} for key, query in QUERIES.items()},
        }},
    }


def main(argv=None) -> None:
    args, package = site_step(__doc__, "metadata file (default: ROOT/build/metadata.json)", argv)
    try:
        data = json_bytes(metadata(package, args.root))
    except FileNotFoundError as error:
        fail(BuildError(error.filename, "not found (run `make data`)"))
    except BuildError as error:
        fail(error)
    out = args.out or args.root / "build" / "metadata.json"
    atomic_write_bytes(out, data)
    print(f"build_datasette_metadata: wrote {out}")


if __name__ == "__main__":
    main()
