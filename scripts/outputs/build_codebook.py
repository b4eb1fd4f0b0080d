"""The codebook, in the manner of the ACLED and UCDP codebooks: datapackage.json + the coding
rules of schema/package.yaml + the tables + CHANGELOG.md -> codebook.html.

It gives the unit of analysis, the coding rules with worked examples drawn from the data, the
coverage figure, every table and field, every allowed value with what it means (the descriptor's
v2 categories), every row rule, how to read the files without damaging a value, and what changed
between versions, after a contents list. Nothing in it is typed
twice: the tables, values, rules and examples are read from the package; the prose of the rules
is here, once. The HTML carries print styles (a browser prints it as the printable codebook).
The site serves it at /-/codebook and the release ships it.

    python -m scripts.outputs.build_codebook [--root DIR]
"""

from __future__ import annotations

import argparse
import html
import re
from pathlib import Path

from markdown_it import MarkdownIt

from . import build_dictionary
from .build_dictionary import cell, code, read_rows, tables
from ..common import ROOT, BuildError, atomic_write_bytes, fail, load_descriptor, load_yaml, package_spec

OUTPUT = "codebook.html"


def rows_of(descriptor: dict, root: Path, name: str) -> list[dict]:
    return read_rows(root, next(r for r in tables(descriptor) if r["name"] == name))


def example(rows: list[dict], key: str, value: str) -> dict:
    found = [r for r in rows if r.get(key) == value]
    if not found:
        raise BuildError(OUTPUT, f"no row has {key} = {value!r} to serve as the codebook's worked example")
    return found[0]


def quote_of(evidence: dict, row: dict, column: str = "evidence_id") -> str:
    return evidence[row[column]]["quote"].replace("\n", " ")


def categories(descriptor: dict) -> str:
    """Every field with allowed values: each value with its label (v2 categories)."""
    lines = []
    for res in tables(descriptor):
        for field in res["schema"]["fields"]:
            cats = field.get("categories")
            if not cats:
                continue
            order = " (ordered)" if field.get("categoriesOrdered") else ""
            lines.append(f"- {code(res['name'] + '.' + field['name'])}{order}: " + "; ".join(
                f"{code(c['value'])}: {cell(c['label'])}" if isinstance(c, dict) else code(c) for c in cats))
    return "\n".join(lines)


def looks_numeric(text: str) -> bool:
    try:
        float(text.replace(" ", ""))
    except ValueError:
        return False
    return True


def reading_the_files(descriptor: dict, root: Path) -> str:
    """What a plain CSV read would damage, field by field (found in the data: text that reads as a
    number, integers with empty cells, dates and times), and how to read the files whole."""
    text_numbers, gappy, dated = [], [], []
    for res in tables(descriptor):
        rows = read_rows(root, res)
        for field in res["schema"]["fields"]:
            name, values = f"{res['name']}.{field['name']}", [r[field["name"]] for r in rows if r[field["name"]]]
            if field["type"] == "string" and "categories" not in field and any(map(looks_numeric, values)):
                example = next(v for v in values if looks_numeric(v))
                text_numbers.append(f"{code(name)} (e.g. {code(example)})")
            elif field["type"] == "integer" and len(values) < len(rows):
                gappy.append(code(name))
            elif field["type"] in ("date", "datetime", "time"):
                dated.append(f"{code(name)} ({field['type']})")
    lines = [
        "Each table is released twice: `data/<table>.csv`, which `datapackage.json` describes and "
        "validates, and `parquet/<table>.parquet`, which carries the types (described by "
        "`datapackage.parquet.json`). A reader that guesses types from the CSV damages some values:",
    ]
    if text_numbers:
        lines.append("- **Text that looks like a number** (read it as text, or a phone number loses its `+` and a "
                     "list of numbers becomes one number): " + ", ".join(text_numbers) + ".")
    if gappy:
        lines.append("- **Integers with empty cells** (a plain read makes them floats, 3800 becomes 3800.0): "
                     + ", ".join(gappy) + ".")
    if dated:
        lines.append("- **Dates and times** (a plain read leaves them text; a datetime keeps its UTC offset only "
                     "when read with it): " + ", ".join(dated) + ".")
    lines += [
        "",
        "Read them whole in one of these ways:",
        "",
        "- Parquet: `pandas.read_parquet(\"parquet/claims.parquet\")`, `polars.read_parquet(...)`, DuckDB's "
        "`read_parquet(...)` or R's `arrow::read_parquet(...)` give every column its type: dates, datetimes "
        "at their offset, nullable integers, categories (ordered where the scale is).",
        "- CSV with the descriptor: `temperer_data.load_tables(\"<release folder>\")` (the loader in the "
        "release), `frictionless` (Python) or `frictionless::read_resource()` (R; every table resource "
        "names the `tabular-data-resource` profile it needs, and each coded field gives its values as "
        "`constraints.enum`, from which R makes factors).",
        "- CSV by hand: read every column as text with empty cells kept as empty strings "
        "(`pandas.read_csv(path, dtype=str, keep_default_na=False)`), then convert the columns the "
        "descriptor types.",
    ]
    return "\n".join(lines)


def row_rules(descriptor: dict) -> str:
    lines = []
    for res in tables(descriptor):
        for rule in res.get("rules", []):
            lines.append(f"- {code(res['name'])} `{rule['name']}`: {cell(rule['message'])}; "
                         f"formula `{rule['formula']}`")
    return "\n".join(lines)


def worked_count(claim_rows: list[dict]) -> str:
    """Claims by speaker (rows) and modality (columns), counted from table claims."""
    speakers = sorted({r["speaker_person_id"] or "(the bulletin's own text)" for r in claim_rows})
    modalities = sorted({r["modality"] for r in claim_rows})
    counts: dict[tuple[str, str], int] = {}
    for r in claim_rows:
        who = r["speaker_person_id"] or "(the bulletin's own text)"
        counts[who, r["modality"]] = counts.get((who, r["modality"]), 0) + 1
    lines = ["| speaker | " + " | ".join(code(m) for m in modalities) + " | all |",
             "|---|" + "--:|" * (len(modalities) + 1)]
    for who in speakers:
        row = [counts.get((who, m), 0) for m in modalities]
        lines.append(f"| {code(who) if not who.startswith('(') else who} | " + " | ".join(map(str, row))
                     + f" | {sum(row)} |")
    totals = [sum(counts.get((w, m), 0) for w in speakers) for m in modalities]
    lines.append("| all | " + " | ".join(map(str, totals)) + f" | {sum(totals)} |")
    return "\n".join(lines)


def unit_of_analysis(descriptor: dict, spec: dict, root: Path) -> str:
    claim_rows = rows_of(descriptor, root, "claims")
    units = [r["name"] for r in spec["resources"] if r.get("claim") and r["claim"].get("role", "claim") == "claim"]
    others = {role: [r["name"] for r in spec["resources"] if r.get("claim") and r["claim"].get("role") == role]
              for role in ("attribute", "link", "entity")}
    passages = len({r["evidence_id"] for r in claim_rows})
    facets = sum(len((r["facets"] or "").split()) for r in claim_rows)
    return "\n\n".join([
        "The unit is the **claim**: one predicate a bulletin states, in its own words (a clause, not a "
        "sentence), with its actor, its modality, its time and its speaker. Each claim is one row of "
        "`claims` (like ACLED's one row per event) and one row of the table of its kind (" +
        ", ".join(code(k) for k in units) + "), keyed by `claim_id`.",
        "- **Facets.** When the same words tell a second kind of fact (an event's clause that also gives a "
        "figure), the second row is a *facet* of the claim (its `claim_id` is the claim's), never a second "
        "claim: the build stops on two claims with the same words.",
        "- **Attributes** are not claims: " + ", ".join(code(k) for k in others["attribute"]) + " give the aim, "
        "qualifier, effect or framing of one claim (`claim_id`), in words found inside that claim's words.",
        "- **Items** are not claims: the places, ways, activities and kinds of check a claim lists are rows of "
        "`claim_items`, children of the claim.",
        "- **Links** (" + ", ".join(code(k) for k in others["link"]) + ") join two claims; **entities** (" +
        ", ".join(code(k) for k in others["entity"]) + ", organisations, people) are what claims name.",
        f"**A worked count.** This version has {len(claim_rows)} claims from {passages} distinct passages "
        f"(their words); {facets} facet row(s) add detail to claims without being counted. Claims by speaker "
        "and modality (from table `claims`):",
        worked_count(claim_rows),
    ])


def coding_rules(descriptor: dict, spec: dict, root: Path) -> str:
    """The rules, each with a worked example drawn from the published rows."""
    evidence = {r["evidence_id"]: r for r in rows_of(descriptor, root, "evidence")}
    advice = rows_of(descriptor, root, "advice")
    measures = rows_of(descriptor, root, "measures")
    personnel = rows_of(descriptor, root, "personnel")
    partnerships = rows_of(descriptor, root, "partnerships")
    events = rows_of(descriptor, root, "events")
    claim_rows = rows_of(descriptor, root, "claims")
    stated = example(measures, "actor_basis", "stated")
    first = next(r for r in advice if (r["actor_words"] or "").lower() in ("us", "we", "our"))
    given = next(r for r in claim_rows if r["claim_type"] == "advice" and not r["statement_id"]
                 and r["actor_basis"] == "inferred") if any(r["claim_type"] == "advice" and not r["statement_id"]
                                                            for r in claim_rows) else None
    inferred = next(r for r in personnel if r["organisation_basis"] == "inferred")
    none = example(partnerships, "actor_basis", "not_stated")
    dated = example(events, "date_basis", "inferred")
    bounded = next(r for r in events if r["date_latest"])
    undated = next(r for r in claim_rows if r["date_basis"] == "not_stated" and "inference" in (r["date_rule"] or ""))
    labels = {c["value"]: c["label"] for res in tables(descriptor) if res["name"] == "claims"
              for f in res["schema"]["fields"] if f["name"] == "modality" for c in f["categories"]}
    modal = {m: next(r for r in claim_rows if r["modality"] == m)
             for m in labels if any(r["modality"] == m for r in claim_rows)}
    in_statement = sum(1 for r in claim_rows if r["statement_id"])
    rules = [
        "**Words and coding.** A field the dictionary marks as the bulletin's words stands in the quote of "
        "its evidence (the build and the validation gate both check it); a field marked *Coding* is the "
        f"curator's. Example: advice {code(first['advice_id'])} has the action “{first['action']}” in the "
        f"words “{quote_of(evidence, first)}”, and `action_type` {code(first['action_type'])} as coding.",
        "**Basis, coded like a date.** Every party of a claim and every inferred link has a basis. "
        f"*stated*: the words name it (measure {code(stated['measure_id'])}: “{stated['actor_words']}” is a "
        f"mention of {code(stated['actor_organisation_id'])}). *inferred*: a rule derives it (figure "
        f"{code(inferred['personnel_id'])}: “{inferred['organisation_words']}”, rule: "
        f"{inferred['organisation_rule']}). *not_stated*: the words give none (partnership "
        f"{code(none['partnership_id'])}: “{none['actor_words']}”, {none['actor_rule']}).",
        "**Time in claims.** Every claim has a date with its precision and basis (`claims.date`, "
        "`date_precision`, `date_basis`, `date_rule`). A claim is dated only by its own words (an event's "
        f"date: {code(dated['event_id'])}, {dated['date']}, {dated['date_rule']}) or by a link to an event "
        "whose basis is stated; a link the curator inferred gives no date (claim "
        f"{code(undated['claim_id'])}: {undated['date_rule']}). An event the bulletin only orders before "
        f"another has a bound (event {code(bounded['event_id'])}: on or before {bounded['date_latest']}).",
        f"**The first person.** One rule, written once: {' '.join(spec['first_person_rule'].split())}. "
        f"Example: advice {code(first['advice_id'])} (“{first['actor_words']}”) is given by "
        f"{code(first['actor_organisation_id'])}. Every first-person word of a bulletin lies in a party's words "
        "or is excused under `first_person:` with the reason; the build stops on any other.",
        f"**Who gives a request.** One rule, written once: {' '.join(spec['request_rule'].split())}."
        + (f" Example: claim {code(given['claim_id'])} (“{given['words']}”) is given by "
           f"{code(given['actor_organisation_id'])}." if given else "")
        + " A giver typed per row is an error.",
        "**Statements.** A statement is quoted or reported; "
        f"{' '.join(spec['speech']['kind_rule'].split())}. Its speaker is found by one rule, written once: "
        f"{' '.join(spec['speech']['speaker_rule'].split())}. A claim whose words lie inside a statement names it "
        f"(`statement_id`, computed from the offsets): {in_statement} of the {len(claim_rows)} claims do. "
        "`speaker_organisation_id` says who says each claim: the speaker's organisation in a statement, the "
        "publisher elsewhere.",
        f"**Roles.** One rule, written once: {' '.join(spec['speech']['role_rule'].split())}. A corrected rank or "
        "role is listed in `mentions.corrected`.",
        "**Several parties.** Words that name several parties code each party; no organisation is made "
        "of a phrase, and the same party words get the same coding in every row.",
        "**Modality, one scale.** What the words say of a claim, one value per claim on one scale for every "
        "kind (a figure's status and an advice's wording map onto it, by maps declared with the kind): " + "; ".join(
            f"{code(m)}, {labels[m]} (claim {code(r['claim_id'])}: “{r['words']}”)" for m, r in modal.items())
        + ".",
        "**One corpus.** A contact is one row per number across bulletins, keyed by the normalised number "
        "(E.164, or a short number's digits) however it is printed; it is coded where first printed, and every "
        f"printing is a row of `mentions` ({sum(1 for r in rows_of(descriptor, root, 'mentions') if r.get('contact_id'))} here). "
        "An organisation may be part of another (`part_of_organisation_id`, with its words, basis and rule; "
        "never a cycle). A change of threat level records the level it moves from (`from_level_id`): read from "
        "words such as 'from critical to severe' (stated), else by one rule, written once: "
        f"{' '.join(spec['previous_level_rule'].split())} (inferred); a raise moves up the scale and a "
        "lowering down. The events of every bulletin stand in one order (`events.timeline`), which keeps each "
        "bulletin's sequence and every link to an earlier event (`date_earliest_event_id`) or a later one "
        "(`date_latest_event_id`), across bulletins too; an undated event told as done is bounded by one rule: "
        f"{' '.join(spec['reported_rule'].split())}.",
        "**Page furniture** (a follow link, a photo caption) is excused from coding and never defines an "
        "entity: an organisation or a person is defined by its first mention in the body; a publisher the body "
        "never names is defined by the source's metadata (`organisations.defined_by`).",
        "**Coverage.** Every word of a bulletin lies in the words of a claim or of one of its attributes, "
        "items or links, or is excused with a kind and a reason (page furniture, the headline, a statement's "
        "attribution, a few connecting words). "
        + " ".join(f"{line}." for line in build_dictionary.coverage_by_source(descriptor, root)),
    ]
    return "\n\n".join(rules)


def date_rules(root: Path) -> str:
    """How words give dates: the rules of schema/dates.yaml (checked by the build before the codebook is
    written), as the build applies them to every bulletin."""
    rules = load_yaml(root / "schema" / "dates.yaml")
    zones = ", ".join(f"{name} (UTC{offset})" for name, offset in sorted(rules["time_zones"].items()))
    days = "; ".join(f"“{r['words']}”: " + ("the publication day" if r["days"] == 0 else
                                            f"{abs(r['days'])} day(s) {'after' if r['days'] > 0 else 'before'} it")
                     + (f", {r['part_of_day']}" if r.get("part_of_day") else "")
                     for r in rules.get("relative_days", []))
    periods = "; ".join(f"“{p['words']}”: " + (p["from"].replace("_", " ") if isinstance(p["from"], str) else
                                               f"from {p['from']} day(s) after publication"
                                               + (f" to {p['to']}" if p.get("to") is not None else ", open"))
                        for p in rules.get("periods", []))
    return "\n\n".join([
        "Dates are read from the words by rules declared once in `schema/dates.yaml`, for every bulletin "
        "(an event's `date:` says which applies; the rule applied is in each row's `date_rule`).",
        "**The dateline** dates the bulletin: a category before one of "
        + ", ".join(f"“{sep}”" for sep in rules["dateline_separators"]) + " when there is one, then a date in any "
        f"order (numeric dates day first: {'yes' if rules['dayfirst'] else 'no'}), a clock time and a zone when "
        "printed. "
        "A dateline that prints no time gives a publication known to the day (`sources.published_precision` "
        "day, `published` empty): no time is invented.",
        f"**Printed dates and times** (`date: printed`) are stated; a printed weekday must agree with the date, "
        f"a date printed without its year takes the publication's (inferred). Zones: {zones}; a clock time "
        f"printed with no zone has the offset of {rules['local_zone']} on its date.",
        "**A weekday phrase** (`date: day_phrase`, “Tuesday night”) is the last such day on or before the "
        "publication day (inferred); it never reads words that print their own date.",
        f"**Relative words** (`date: relative`), counted from the publication day (inferred): {days}.",
        f"**Periods** (`date: relative`, precision period, the last day in `events.date_end`): {periods}."
        + (f" Bank holidays from python-holidays ({rules['bank_holidays']['country']})."
           if rules.get("bank_holidays") else ""),
        "**Checks.** An event told as done (modality in_effect or under_way) is never dated after the bulletin "
        "that reports it; a planned or possible one may carry a later date. A later event in `sequence` is "
        "never dated before an earlier one.",
    ])


def markdown(descriptor: dict, spec: dict, root: Path) -> str:
    changelog = (root / "CHANGELOG.md").read_text(encoding="utf-8").split("\n", 1)[1]
    parts = [
        f"# Codebook: {descriptor['title']}",
        f"Version {descriptor['version']}, released {descriptor['created'][:10]}. Generated from "
        "`datapackage.json`, the coding rules of `schema/package.yaml`, the tables and `CHANGELOG.md` "
        "(`scripts/outputs/build_codebook.py`).",
        "## Unit of analysis",
        unit_of_analysis(descriptor, spec, root),
        "## Coding rules",
        coding_rules(descriptor, spec, root),
        "## How dates are read",
        date_rules(root),
        "## Allowed values",
        categories(descriptor),
        "## Row rules",
        "Each rule is stated once in `schema/package.yaml` and checked on the curator's input (with the "
        "annotation's file and line) and on the published table.",
        row_rules(descriptor),
        "## Reading the files",
        reading_the_files(descriptor, root),
        "## Tables and fields",
        build_dictionary.at_a_glance(descriptor, root),
        build_dictionary.dictionary(descriptor, root),
        "## What changed between versions",
        changelog.replace("\n## ", "\n### "),
    ]
    return "\n\n".join(parts) + "\n"


STYLE = """body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
table { border-collapse: collapse; width: 100%; font-size: 13px; } th, td { border: 1px solid #ccc;
padding: .2rem .4rem; vertical-align: top; text-align: left; } code { font-size: 90%; }
@media print { body { max-width: none; margin: 0; font-size: 11px; } h2 { page-break-before: always; }
a { color: inherit; text-decoration: none; } }"""


HEADING = re.compile(r"<(h[23])>(.*?)</h[23]>")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", html.unescape(re.sub(r"<[^>]+>", "", text)).lower()).strip("-")


def with_contents(body: str) -> str:
    """`body` with an id on every section (h2) and subsection (h3) heading and, after the opening
    paragraph, a contents list of them: each section, with its subsections (the tables, the versions)."""
    entries, seen = [], set()

    def anchor(match):
        tag, inner = match.groups()
        name = slug(inner) or tag
        while name in seen:
            name += "-"
        seen.add(name)
        entries.append((tag, name, inner))
        return f'<{tag} id="{name}">{inner}</{tag}>'
    body = HEADING.sub(anchor, body)
    items, sub = [], []
    for tag, name, inner in entries:
        link = f'<a href="#{name}">{inner}</a>'
        if tag == "h2":
            if sub and items:
                items[-1] += "\n<ol>\n" + "\n".join(sub) + "\n</ol>"
            sub = []
            items.append(f"<li>{link}")
        else:
            sub.append(f"<li>{link}</li>")
    if sub and items:
        items[-1] += "\n<ol>\n" + "\n".join(sub) + "\n</ol>"
    contents = ('<nav class="contents" aria-labelledby="contents">\n<h2 id="contents">Contents</h2>\n<ol>\n'
                + "\n".join(item + "</li>" for item in items) + "\n</ol>\n</nav>\n")
    first = body.index("</p>\n") + len("</p>\n")
    return body[:first] + contents + body[first:]


def codebook_html(descriptor: dict, spec: dict, root: Path) -> str:
    body = with_contents(MarkdownIt("commonmark", {"html": False}).enable("table").render(
        markdown(descriptor, spec, root)))
    title = html.escape(f"Codebook: {descriptor['title']} (version {descriptor['version']})")
    return (f"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n"
            f"<style>\n{STYLE}\n</style>\n</head>\n<body>\n{body}</body>\n</html>\n")


def body_of(page: str) -> str:
    """The codebook's body, for the site's page (which has its own head)."""
    return page[page.index("<body>\n") + len("<body>\n"):page.index("</body>")]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="package folder (holds datapackage.json)")
    args = parser.parse_args(argv)
    try:
        page = codebook_html(load_descriptor(args.root), package_spec(args.root), args.root)
    except BuildError as error:
        fail(error)
    atomic_write_bytes(args.root / OUTPUT, page.encode("utf-8"))
    print(f"build_codebook: wrote {args.root / OUTPUT}")


if __name__ == "__main__":
    main()
