"""Step 5 of the flow: datapackage.json -> build/metadata.json, Datasette's metadata.

Everything comes from the descriptor: title, description, licence, source,
version and citation; per table its title and description; per column its
description (with its unit, when the field has one); and, by rule rather than
by list, each table's label column, sortable columns and default facets.
The canned queries researchers ask for are written here, once, as SQL.

    python -m scripts.outputs.build_datasette_metadata [--root DIR] [--out FILE]
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from datasette.views.base import ureg  # Datasette's unit registry (Pint)

from .build_db import EXTRA_TABLES, FULL_TEXT, site_step
from . import build_citation, build_codebook, build_dictionary
from ..common import BuildError, atomic_write_bytes, fail, json_bytes, read_csv_rows, table_resources, text_resources

ROOT_DESCRIPTOR = "datapackage.json"
SORTABLE_TYPES = {"integer", "number", "boolean", "date", "time", "datetime", "year"}
FACET_MAX_WORDS = 3  # a free-text column is a facet when its values repeat and are this short

QUERIES = {
    "timeline": {
        "title": "Timeline of every bulletin, in one order",
        "description": "Every event of every bulletin in the one timeline (column timeline): its date (or the "
                       "earliest and latest dates it can have, and the events that bound them, of this bulletin or "
                       "another), how precise the date is, how it was obtained, and the words that state it.",
        "sql": """
select e.timeline, e.event_id, e.source_id, e.date, e.time, e.utc_offset, e.date_precision, e.part_of_day,
       e.date_basis, e.date_rule, e.date_earliest, e.date_earliest_event_id, e.date_latest, e.date_latest_event_id,
       e.event_type, e.description, e.evidence_id, ev.quote
from events e join evidence ev on ev.evidence_id = e.evidence_id
order by e.timeline""",
    },
    "personnel_figures": {
        "title": "Officer and troop figures, with their quotes",
        "description": "Every figure of police officers or military personnel: its bounds, qualifier, status "
                       "(and its modality on the one scale of claims), the claim it belongs to, "
                       "stated aims and mobilisation window, the organisation (and how it is known), and the "
                       "quote that states it.",
        "sql": """
select p.personnel_id, p.claim_id, p.force, p.role, p.qualifier, p.count_min, p.count_max, p.status, p.modality,
       (select group_concat(aim, '; ') from aims where aims.claim_id = p.claim_id) as aims,
       p.window_min_hours, p.window_max_hours, o.name as organisation, p.organisation_basis, ev.quote,
       p.evidence_id, ev.start, ev.end
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
        "description": "The five levels of the UK threat scale in order, each with the assessments the bulletins "
                       "report at that level: who assessed it, when the level was set, and the assessment's words.",
        "sql": """
select l.rank, l.level_id, a.assessment_id, o.name as assessor, a.assessor_basis, e.date, e.date_latest,
       ev.quote, a.evidence_id, a.level_evidence_id
from threat_levels l
left join threat_assessments a on a.level_id = l.level_id
left join organisations o on o.organisation_id = a.assessor_organisation_id
left join events e on e.event_id = a.event_id
left join evidence ev on ev.evidence_id = a.evidence_id
order by l.rank, a.assessment_id""",
    },
}

# The tables a visitor comes for, shown first on the home and database pages (then every other
# table in the descriptor's order, then the tables that exist only in the database).
HEADLINE_TABLES = ["claims", "personnel", "events", "threat_assessments", "contacts", "measures"]
# The plugin in site/plugins/ that reads the settings below from the metadata.
SITE_PLUGIN = "provenance"


def evidence_for_row(tables: list[dict]) -> dict:
    """The canned query that takes the ID of a row of any table (or an evidence ID) and returns each
    piece of evidence the row cites: which column cites it, the quote, its offsets, and the sentence
    before and after it (context == source text[context_start:context_end])."""
    cites = []
    for res in tables:
        schema = res["schema"]
        if len(schema["primaryKey"]) != 1:
            continue
        for fk in schema.get("foreignKeys", []):
            if fk["reference"].get("resource") == "evidence" and fk["reference"]["fields"] == ["evidence_id"]:
                cites.append(f"select '{res['name']}' as row_table, [{schema['primaryKey'][0]}] as row_id, "
                             f"'{fk['fields'][0]}' as cited_by, [{fk['fields'][0]}] as evidence_id "
                             f"from [{res['name']}] where [{schema['primaryKey'][0]}] = :row_id")
    cites.append("select 'evidence', evidence_id, 'evidence_id', evidence_id from evidence where evidence_id = :row_id")
    union = "\n  union all ".join(cites)
    return {
        "title": "The evidence for any row",
        "description": "Give the ID of a row of any table (or an evidence_id): each piece of evidence the row cites, "
                       "the quote, its offsets in the archived text, and the sentences around it, from the one "
                       "before to the one after (context == source text[context_start:context_end]).",
        "sql": f"""
with cited as (
  {union}
),
spans as (
  select c.row_table, c.row_id, c.cited_by, ev.evidence_id, ev.source_id, ev.start, ev.end, ev.quote,
         min(s.number) as first_number, max(s.number) as last_number
  from cited c
  join evidence ev on ev.evidence_id = c.evidence_id
  join sentences s on s.source_id = ev.source_id and s.start < ev.end and s.end > ev.start
  group by c.row_table, c.row_id, c.cited_by, ev.evidence_id
)
select sp.row_table, sp.row_id, sp.cited_by, sp.evidence_id, sp.source_id, sp.start, sp.end, sp.quote,
       min(s.start) as context_start, max(s.end) as context_end,
       substr(t.text, min(s.start) + 1, max(s.end) - min(s.start)) as context
from spans sp
join source_texts t on t.source_id = sp.source_id
join sentences s on s.source_id = sp.source_id and s.number between sp.first_number - 1 and sp.last_number + 1
group by sp.row_table, sp.row_id, sp.cited_by, sp.evidence_id
order by sp.row_table, sp.cited_by""",
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


ORDER_FIELDS = ("timeline", "sequence", "rank", "start")


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
    integers = {f["name"] for f in fields if f["type"] == "integer"}
    order = next((name for name in ORDER_FIELDS if name in integers), None)
    if order:
        meta["sort"] = order
    return meta


def extra_table_metadata(spec: dict) -> dict:
    columns = spec["columns"]
    meta = {"title": spec["title"], "description": spec["description"],
            "columns": {name: text for name, (_, text) in columns.items()},
            "sortable_columns": [name for name, (kind, _) in columns.items() if kind is int or name == spec["pk"]]}
    order = next((name for name in ORDER_FIELDS if columns.get(name, (None,))[0] is int), None)
    if order:  # sentences in reading order, not by their string ID
        meta["sort"] = order
    return meta


def site_settings(package: dict, tables: list[dict]) -> dict:
    """What site/plugins/provenance.py reads from the metadata: the headline tables, the reading order
    of the tables, and each table's canonical file (the site's CSV export matches it)."""
    names = [r["name"] for r in tables]
    missing = [t for t in HEADLINE_TABLES if t not in names]
    if missing:
        raise BuildError(ROOT_DESCRIPTOR, f"headline tables {missing} are not tables of the package")
    homepage = package.get("homepage", "").rstrip("/")  # none until the package has a real home

    def file(path):
        return {"path": path, "url": f"{homepage}/blob/main/{path}"} if homepage else {"path": path}
    return {
        "headline_tables": HEADLINE_TABLES,
        "table_order": list(dict.fromkeys(HEADLINE_TABLES + names + list(EXTRA_TABLES))),
        "canonical_files": {r["name"]: {**file(r["path"]), "descriptor_url": file("datapackage.json").get("url")}
                            for r in tables},
    }


def citation(root: Path) -> str:
    """The preferred citation: the APA line rendered from the CSL-JSON, as in the README (plain text)."""
    spec, _ = build_citation.facts(root)
    return build_citation.render_apa(build_citation.csl_dataset(spec))


def citation_plugin_config(package: dict, root: Path) -> dict:
    """What site/plugins/citation.py serves: the committed citation files (BibTeX, RIS, CSL-JSON,
    JSON-LD) byte for byte, the dataset's APA line and the version."""
    files = {}
    for kind, media_type in build_citation.MEDIA_TYPES.items():
        path = Path(root) / build_citation.FILES[kind]
        try:
            files[path.name] = {"content_type": media_type, "label": build_citation.LABELS[kind],
                                "text": path.read_text(encoding="utf-8")}
        except FileNotFoundError:
            raise BuildError(path, "not built (run `make docs`)") from None
    spec, _ = build_citation.facts(root)
    item = build_citation.csl_dataset(spec)
    jsonld_name = Path(build_citation.FILES["jsonld"]).name
    return {"version": package["version"], "apa": build_citation.render_apa(item),
            "apa_html": build_citation.render_apa(item, "html"),
            "jsonld": json.loads(files[jsonld_name]["text"]), "files": files}


def metadata(package: dict, root: Path) -> dict:
    name = package["name"]
    tables, texts = table_resources(package), text_resources(package)
    if not texts:
        raise BuildError(root / "datapackage.json", "no archived source text (a text/plain resource)")
    rights = texts[0]["licenses"][0]
    data_licence = package["licenses"][0]
    rows = {r["name"]: read_csv_rows(root / r["path"]) for r in tables}
    archived = [row["source_id"] for row in rows["sources"] if row["path"]]
    bulletins = [row for row in rows["sources"] if row["source_kind"] == "bulletin"]
    source = "; ".join(f"{row['publisher']}: {row['title']} ({row['published'] or row['published_date']})" for row in bulletins)
    # The source link opens the archived text in this site (the Met's own address may not last).
    source_url = f"/{name}/source_texts/{archived[0]}" if len(archived) == 1 else f"/{name}/source_texts"
    cite = citation(root)
    cite_config = citation_plugin_config(package, root)
    # Served by site/plugins/citation.py under /-/citation/.
    downloads = " · ".join(f'<a href="/-/citation/{html.escape(name)}" download>{html.escape(file["label"])}</a>'
                           for name, file in cite_config["files"].items())
    other_licences = "; ".join(f"{lic['title']}: {lic['path']}" for lic in package["licenses"][1:])
    description_html = "".join([
        f"<p>{html.escape(package['description'])}</p>",
        f"<p><strong>Version {html.escape(package['version'])}</strong> "
        f"(released {html.escape(package['created'][:10])}).</p>",
        f"<p><strong>Coverage:</strong> {html.escape(build_dictionary.sentence_coverage(package, root))}.</p>",
        f"<p><strong>How to cite:</strong> {html.escape(cite)}</p>",
        f"<p class=\"citation-downloads\">The citation for reference managers: {downloads}.</p>",
        f"<p><strong>Licence:</strong> {html.escape(data_licence['title'])}. {html.escape(other_licences)}. "
        f"The archived bulletin and the quotes: {html.escape(rights['title'])}</p>",
    ])
    tables_meta = {r["name"]: table_metadata(r, rows[r["name"]]) for r in tables}
    for res in tables:  # the site's CSV export of a package table writes booleans as true/false, as the package does
        tables_meta[res["name"]]["plugins"] = {SITE_PLUGIN: {"boolean_columns": [
            f["name"] for f in res["schema"]["fields"] if f["type"] == "boolean"]}}
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
        **({"about_url": package["homepage"]} if package.get("homepage") else {}),
        # The public address comes from the site's environment when it starts (site/plugins/publishing.py).
        # The release archive the site serves for download (site/plugins/downloads.py), from the site's
        # environment too (scripts/site/serve.py, the bundle's `start`).
        "plugins": {"citation": cite_config, "publishing": {"site_url": {"$env": "SITE_URL"}},
                    "downloads": {"archive": {"$env": "RELEASE_ARCHIVE"}},
                    # The codebook's body for /-/codebook (site/plugins/codebook.py), from codebook.html.
                    "codebook": {"html": build_codebook.body_of((root / build_codebook.OUTPUT).read_text(
                        encoding="utf-8"))}},
        "databases": {name: {
            "title": package["title"],
            "description_html": description_html,
            "tables": tables_meta,
            "queries": {key: {**query, "sql": query["sql"].strip()}
                        for key, query in {**QUERIES, "evidence_for_row": evidence_for_row(tables)}.items()},
            "plugins": {SITE_PLUGIN: site_settings(package, tables)},
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
