"""The data dictionary: datapackage.json + data/*.csv -> Markdown.

Every table and every field, with type, constraints and description, and the
tables at a glance with their row counts, rendered from the descriptor (never
typed a second time). scripts/outputs/build_codebook.py puts both into the codebook (the data
dictionary lives there alone), and scripts/outputs/build_readme.py the tables at a glance into
docs/tables.md; run this module alone to print the dictionary.

    python -m scripts.outputs.build_dictionary [--root DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..common import ROOT, BuildError, fail, load_descriptor, read_csv_rows
from ..common import table_resources as tables
from ..common import text_resources as texts


def read_rows(root: Path, resource: dict) -> list[dict]:
    return read_csv_rows(Path(root) / resource["path"])


def row_count(root: Path, resource: dict) -> int:
    return len(read_rows(root, resource))


def cell(text) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def code(text) -> str:
    return f"`{text}`"


def constraints(field: dict) -> str:
    c = field.get("constraints", {})
    parts = []
    if c.get("required"):
        parts.append("required")
    if c.get("unique"):
        parts.append("unique")
    if "enum" in c:
        parts.append("one of " + ", ".join(code(v) for v in c["enum"]))
    if "minimum" in c:
        parts.append(f"≥ {c['minimum']}")
    if "maximum" in c:
        parts.append(f"≤ {c['maximum']}")
    if "minLength" in c:
        parts.append(f"length ≥ {c['minLength']}")
    if "maxLength" in c:
        parts.append(f"length ≤ {c['maxLength']}")
    if "pattern" in c:
        parts.append("pattern " + code(c["pattern"]))
    return "; ".join(parts)


def field_type(field: dict) -> str:
    kind = field["type"]
    if "unit" in field:
        kind += f" ({field['unit']})"
    return kind


def foreign_keys(schema: dict) -> str:
    keys = []
    for fk in schema.get("foreignKeys", []):
        ref = fk["reference"]
        keys.append(f"{', '.join(code(f) for f in fk['fields'])} → "
                    f"{code(ref['resource'] + '.' + ', '.join(ref['fields']))}")
    return "; ".join(keys)


def sentence_coverage(descriptor: dict, root: Path, source_id: str | None = None) -> str:
    """"N of M words (P%) lie in a claim's words; K excused (page furniture F, ...)", from the
    sentences table (of one source, when given): coverage by clause, not by sentence."""
    resource = next(r for r in tables(descriptor) if r["name"] == "sentences")
    rows = [row for row in read_rows(root, resource) if source_id is None or row["source_id"] == source_id]
    words = sum(int(row["words"]) for row in rows)
    covered = sum(int(row["words_covered"]) for row in rows)
    kinds: dict[str, int] = {}
    for row in rows:
        if row["excused_kind"]:
            kinds[row["excused_kind"]] = kinds.get(row["excused_kind"], 0) + int(row["words_excused"])
    excused = ", ".join(f"{kind.replace('_', ' ')} {n}" for kind, n in sorted(kinds.items()))
    share = f"{100 * covered / words:.1f}" if words else "100.0"
    return (f"{covered} of {words} words ({share}%) lie in the words of a coded claim; "
            f"{words - covered} excused ({excused or 'none'}; reasons in sentences.csv)")


def coverage_by_source(descriptor: dict, root: Path) -> list[str]:
    """One coverage line per bulletin, then the package's ("<source>: N of M words ...")."""
    resource = next(r for r in tables(descriptor) if r["name"] == "sentences")
    sources = sorted({row["source_id"] for row in read_rows(root, resource)})
    return [f"{sid}: {sentence_coverage(descriptor, root, sid)}" for sid in sources] + \
        ([f"all {len(sources)} bulletins: {sentence_coverage(descriptor, root)}"] if len(sources) > 1 else [])


def at_a_glance(descriptor: dict, root: Path) -> str:
    """The sentence coverage, the tables with their row counts, then the archived texts."""
    lines = [f"**Coverage:** {sentence_coverage(descriptor, root)}. Coverage is counted by word: every "
             "word of every bulletin lies in the words of some claim (a row of a fact kind) or is excused, a "
             "few words at a time, with a kind and the curator's reason; the build stops on any other. "
             "Table `sentences` gives each sentence's covered share.", "",
             "| table | rows | what it holds |", "|---|--:|---|"]
    for res in tables(descriptor):
        lines.append(f"| {code(res['name'])} | {row_count(root, res)} | {cell(res['description'])} |")
    for res in texts(descriptor):
        lines += ["", f"The archived source text: {code(res['path'])} ({res['bytes']:,} bytes, "
                      f"{res['hash'].replace(':', ' ', 1)}). {cell(res['description'])}"]
    return "\n".join(lines)


def table_entry(res: dict, root: Path) -> str:
    schema = res["schema"]
    facts = [f"{row_count(root, res)} rows", f"file {code(res['path'])}",
             "primary key " + ", ".join(code(k) for k in schema["primaryKey"])]
    if schema.get("foreignKeys"):
        facts.append("foreign keys " + foreign_keys(schema))
    lines = [f"### {code(res['name'])}: {res['title']}", "", cell(res["description"]), "",
             "*" + " · ".join(facts) + "*", "",
             "| field | type | constraints | description |", "|---|---|---|---|"]
    for field in schema["fields"]:
        about = field["description"]
        if field.get("printed"):
            about += f" (The bulletin's words: the build checks that it stands in the quote of `{field['printed']}`.)"
        lines.append(f"| {code(field['name'])} | {field_type(field)} | {cell(constraints(field))} | "
                     f"{cell(about)} |")
    return "\n".join(lines)


def missing_values(descriptor: dict) -> set[str]:
    return {mv for res in tables(descriptor) for mv in res["schema"].get("missingValues", [""])}


def dictionary(descriptor: dict, root: Path) -> str:
    shown = " or ".join("an empty cell" if mv == "" else code(mv) for mv in sorted(missing_values(descriptor)))
    intro = (f"Every table is a UTF-8 CSV file with a header row and LF line ends. A missing value is "
             f"{shown}; no other value means missing. Dates are ISO 8601, booleans `true`/`false`, and "
             f"constraints are checked by `make validate` (Frictionless) on every build.")
    return "\n\n".join([intro] + [table_entry(res, root) for res in tables(descriptor)])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="package folder (holds datapackage.json)")
    args = parser.parse_args(argv)
    try:
        print(dictionary(load_descriptor(args.root), args.root))
    except BuildError as error:
        fail(error)


if __name__ == "__main__":
    main()
