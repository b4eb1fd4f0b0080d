"""Citations on the site: the dataset's schema.org JSON-LD in the <head> of every page, a "Cite this
row" block on every row page, and the citation files served for download.

The row's permanent URL and the JSON-LD's `url` use the site's public address (the metadata's
plugin setting "publishing", from SITE_URL); without one the citation carries no URL.

Everything else comes from the metadata's plugin settings "citation", which
scripts/outputs/build_datasette_metadata.py fills from the committed citation files (written by
scripts/outputs/build_citation.py): the JSON-LD, the dataset's APA line (rendered from the CSL-JSON by
citeproc-py), the version, and the BibTeX, RIS, CSL-JSON and JSON-LD files byte for byte.

Template variables (site/templates/_dataset_jsonld.html and _cite_row.html use them):
    dataset_jsonld      the JSON-LD, safe to put inside <script type="application/ld+json">
    citation_downloads  [{"name", "label", "url"}] for the citation files
    cite_row            on row pages: {"apa", "apa_html", "table", "row_id", "url", "version", "text"};
                        "url" is None when the site has no public address (SITE_URL unset)
Routes:
    /-/citation/<file>  dataset.bib, dataset.ris, dataset.csl.json, dataset.jsonld
"""

from __future__ import annotations

import json

from datasette import hookimpl
from datasette.utils import tilde_encode, urlsafe_components
from datasette.utils.asgi import NotFound, Response
from markupsafe import Markup

ROUTE = "/-/citation/"
# Characters that could end a <script> element or confuse an HTML parser, written as JSON escapes:
# the JSON means the same, and no "</script>" or "<!--" can appear in the page.
SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def settings(datasette) -> dict:
    return datasette.plugin_config("citation") or {}


SCRIPT_TRANSLATION = str.maketrans(SCRIPT_ESCAPES)


def script_safe_json(data) -> Markup:
    """JSON for the inside of a <script> element: valid JSON, and nothing that can close the element."""
    return Markup(json.dumps(data, ensure_ascii=False, indent=2).translate(SCRIPT_TRANSLATION))


def downloads(datasette, config: dict) -> list[dict]:
    return [{"name": name, "label": file["label"], "url": datasette.urls.path(ROUTE + name)}
            for name, file in config.get("files", {}).items()]


def public_address(datasette) -> str | None:
    """The site's public address, which site/plugins/publishing.py reads at start-up."""
    return datasette.__dict__.get("_public_address")


def row_citation(datasette, request, database: str, table: str, config: dict) -> dict:
    """The dataset's APA line, then the table, the row's ID, its permanent address and the version.
    The permanent address is the row's at the public address, under the database's plain name (not
    the hashed route, which changes with every release); without a public address there is none."""
    pk_path = request.url_vars["pks"]
    row_id = ", ".join(urlsafe_components(pk_path))
    site = public_address(datasette)
    url = f"{site}/{tilde_encode(database)}/{tilde_encode(table)}/{pk_path}" if site else None
    version = config["version"]
    return {"apa": config["apa"], "apa_html": Markup(config["apa_html"]), "table": table, "row_id": row_id,
            "url": url, "version": version,
            "text": f"{config['apa'].rstrip('.')}, table {table}, row {row_id} (version {version})" + (f", {url}" if url else "")}


def dataset_jsonld(datasette, config: dict) -> Markup:
    """The dataset's JSON-LD; with a public address, its `url` is the site's home page (the committed
    file's `url`, the project's home, stays as `sameAs`) and its `distribution` the files the site
    serves for download, when it serves a release. Made once per site."""
    if "_dataset_jsonld" not in datasette.__dict__:
        data, site = config["jsonld"], public_address(datasette)
        if site:
            same = data.get("sameAs", [])
            same = [same] if isinstance(same, str) else list(same)
            data = {**data, "url": site + "/", "sameAs": list(dict.fromkeys(same + [data["url"]]))
                    if data.get("url") else same}
            # The release this site serves (site/plugins/downloads.py), at the public address.
            served = datasette.__dict__.get("_release_distribution")
            if served:
                data["distribution"] = [{**d, "contentUrl": site + d["contentUrl"]} for d in served]
        datasette.__dict__["_dataset_jsonld"] = script_safe_json(data)
    return datasette.__dict__["_dataset_jsonld"]


@hookimpl
def extra_template_vars(view_name, request, datasette, database, table):
    config = settings(datasette)
    if not config:
        return {}
    extra = {"dataset_jsonld": dataset_jsonld(datasette, config),
             "citation_downloads": downloads(datasette, config)}
    if view_name == "row" and request is not None and table and "pks" in request.url_vars:
        extra["cite_row"] = row_citation(datasette, request, database, table, config)
    return extra


async def citation_file(datasette, request):
    name = request.url_vars["name"]
    file = settings(datasette).get("files", {}).get(name)
    if file is None:
        raise NotFound(f"No citation file {name!r}")
    return Response(file["text"], content_type=f"{file['content_type']}; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{name}"'})


@hookimpl
def register_routes():
    return [(r"^/-/citation/(?P<name>[A-Za-z0-9_.-]+)$", citation_file)]
