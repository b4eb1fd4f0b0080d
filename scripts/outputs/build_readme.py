"""The generated parts of the README and the docs pages: datapackage.json + data/*.csv + the
citation -> README.md, docs/*.md.

The pages are written by hand except between marker comments such as

    <!-- BEGIN GENERATED citation (scripts/outputs/build_readme.py; do not edit) -->
    ...
    <!-- END GENERATED citation -->

whose contents this script replaces (PAGES says which page holds which block):
`citation` in README.md (how to cite the dataset, a version and a row, from the
same functions that write CITATION.cff), `glance` in docs/tables.md (the tables
with their row counts, scripts/outputs/build_dictionary.py) and `addresses` in
docs/versions.md (where the dataset lives, from schema/package.yaml). The data
dictionary itself is the codebook's alone (scripts/outputs/build_codebook.py). A page
that lacks its block, or has one twice, is an error, not a silent skip.

    python -m scripts.outputs.build_readme [--root DIR] [--check]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from . import build_citation, build_dictionary
from ..common import ROOT, BuildError, addresses, atomic_write_bytes, fail, load_descriptor

# Each page (a path under the package folder) and the generated blocks it holds, in order.
PAGES = {"README.md": ("citation",), "docs/tables.md": ("glance",), "docs/versions.md": ("addresses",)}
BEGIN = "<!-- BEGIN GENERATED {name} (scripts/outputs/build_readme.py; do not edit) -->"
END = "<!-- END GENERATED {name} -->"
# The row the README uses to show how a single row is cited.
EXAMPLE_TABLE, EXAMPLE_ROW = "personnel", "met-2017-05-24-military-mobilisable"


def example_row(descriptor: dict, root: Path) -> tuple[dict, dict, dict]:
    """The example row, its evidence row and its source row, read from the tables."""
    def table(name):
        resource = next((r for r in build_dictionary.tables(descriptor) if r["name"] == name), None)
        if resource is None:
            raise BuildError(Path(root) / "datapackage.json", f"no table {name!r}")
        return resource, build_dictionary.read_rows(root, resource)

    resource, rows = table(EXAMPLE_TABLE)
    key = resource["schema"]["primaryKey"][0]
    row = next((r for r in rows if r[key] == EXAMPLE_ROW), None)
    if row is None:
        raise BuildError(Path(root) / resource["path"], f"the README's example row {EXAMPLE_ROW!r} is gone")
    evidence = next(r for r in table("evidence")[1] if r["evidence_id"] == row["evidence_id"])
    source = next(r for r in table("sources")[1] if r["source_id"] == evidence["source_id"])
    return row, evidence, source


def where_it_lives(spec: dict) -> str:
    """Where the home, the site and the DOI are set, and which of them are (each empty until real)."""
    home = addresses(spec)
    named = {"homepage": "the repository's address", "site_url": "the public site", "doi": "the DOI"}
    state = (f"Set today: {', '.join(f'`{key}` ({home[key]})' for key in named if key in home)}."
             if home else "None is set yet, so no format gives an address.")
    return ("**Where the dataset lives.** Its home, its public site and its DOI are one setting each, at the "
            "top of `schema/package.yaml`: `homepage` (" + named["homepage"] + "), `site_url` (" + named["site_url"]
            + ") and `doi` (without `https://doi.org/`). Each stays empty until it is real, and every format "
            "leaves out what is empty. When the package is published, set them there and run `make docs`: "
            "every citation format, `datapackage.json` and the README follow. " + state)


def citation_block(spec: dict, sources: list[dict], descriptor: dict, root: Path) -> str:
    row, evidence, source = example_row(descriptor, root)
    preferred = build_citation.render_apa(build_citation.csl_dataset(spec), "markdown")
    originals = [build_citation.render_apa(build_citation.csl_bulletin(s), "markdown")
                 for s in build_citation.bulletins(sources)]
    files = build_citation.FILES
    dataset_bibtex = build_citation.bibtex(spec, []).removeprefix(build_citation.BIBTEX_HEADER).strip()
    return "\n".join([
        "**The dataset.** The preferred citation (APA style):", "",
        f"> {preferred}", "",
        "**The bulletin.** When you quote the bulletin or rely on its words, cite it too "
        "(its text and quotes are © Metropolitan Police Service, not covered by the dataset's licence):", "",
        *[f"> {line}\n" for line in originals],
        "BibTeX:", "", "```bibtex", dataset_bibtex, "```", "",
        "The same citation, generated from `schema/package.yaml` by `scripts/outputs/build_citation.py` "
        "(the APA lines above are rendered from the CSL-JSON by citeproc-py):", "",
        f"- [`{files['bibtex']}`]({files['bibtex']}) (BibTeX), [`{files['ris']}`]({files['ris']}) (RIS) and "
        f"[`{files['csl']}`]({files['csl']}) (CSL-JSON), for reference managers: the dataset, then the "
        f"bulletin it is coded from, each under one key in all three (`{build_citation.citation_key(spec)}` "
        "for the dataset);",
        f"- [`{files['cff']}`]({files['cff']}) (Citation File Format, with the bulletin under `references` "
        "as the original source) and [`.zenodo.json`](.zenodo.json) (Zenodo files a release as a data set, "
        "derived from the bulletin);",
        f"- [`{files['jsonld']}`]({files['jsonld']}) (schema.org `Dataset`, with every field of every table "
        "as `variableMeasured`, for search engines; the site puts it in every page's `<head>`, and serves "
        "every format under `/-/citation/`).", "",
        "Where the dataset lives (its home, site and DOI) is set in `schema/package.yaml`: see "
        "[Versions and releases](docs/versions.md#where-the-dataset-lives).", "",
        f"**A specific version.** This README describes version **{spec['version']}**, released "
        f"**{spec['released']}** ([CHANGELOG.md](CHANGELOG.md) lists every version). The version is "
        f"part of the citation above; cite the one you used. `make dist` packs a version into "
        f"`dist/{spec['name']}-{spec['version']}.zip` and writes its SHA-256 to `dist/SHA256SUMS`, "
        f"so a reader can check that they hold the same bytes.", "",
        "**A single row.** Cite the dataset, then the table, the row's stable ID and its evidence "
        "span (character offsets into the archived bulletin, end-exclusive). IDs are stable strings, "
        "not row numbers, so they survive a rebuild. Every row page of the site shows this citation "
        "ready to copy (\"Cite this row\"). For example:", "",
        f"> {preferred.rstrip('.')}, table `{EXAMPLE_TABLE}`, row `{EXAMPLE_ROW}`; evidence "
        f"`{evidence['evidence_id']}`: characters {evidence['start']}–{evidence['end']} of "
        f"“{source['title']}” ({source['publisher']}, {source['published_date']}): "
        f"“{evidence['quote']}”",
    ])


def render(root: Path) -> dict[str, dict[str, str]]:
    """{page: {block: content}} for every page of PAGES."""
    root = Path(root)
    spec, sources = build_citation.facts(root)
    descriptor = load_descriptor(root)
    blocks = {"glance": build_dictionary.at_a_glance(descriptor, root),
              "addresses": where_it_lives(spec),
              "citation": citation_block(spec, sources, descriptor, root)}
    return {page: {name: blocks[name] for name in names} for page, names in PAGES.items()}


def block_pattern(name: str) -> re.Pattern:
    return re.compile(re.escape(BEGIN.format(name=name)) + r"\n.*?\n" + re.escape(END.format(name=name)),
                      re.DOTALL)


def fill(text: str, blocks: dict[str, str], path: Path) -> str:
    for name, content in blocks.items():
        pattern = block_pattern(name)
        found = len(pattern.findall(text))
        if found != 1:
            raise BuildError(path, f"needs exactly one generated block {name!r} "
                                   f"({BEGIN.format(name=name)} ... {END.format(name=name)}), found {found}")
        replacement = f"{BEGIN.format(name=name)}\n{content}\n{END.format(name=name)}"
        text = pattern.sub(lambda _: replacement, text)
    return text


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="package folder (holds README.md and docs/)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a page is stale; write nothing")
    args = parser.parse_args(argv)
    path = args.root / "README.md"
    pages = {}
    try:
        for page, blocks in render(args.root).items():
            path = args.root / page
            old = path.read_text(encoding="utf-8")
            pages[path] = old, fill(old, blocks, path)
    except FileNotFoundError:
        fail(BuildError(path, "file not found"))
    except BuildError as error:
        fail(error)
    if args.check:
        stale = [path for path, (old, new) in pages.items() if new != old]
        for path in stale:
            print(f"error: {path}: generated blocks are stale (run `make docs`)", file=sys.stderr)
        sys.exit(1 if stale else 0)
    for path, (old, new) in pages.items():  # only once every page is filled: none is left half-done
        atomic_write_bytes(path, new.encode("utf-8"))  # even unchanged: make compares times
        print(f"build_readme: {'updated' if new != old else 'checked, unchanged:'} {path}")


if __name__ == "__main__":
    main()
