"""The release for download: the archive `make dist` writes (dist/<name>-<version>.zip) and every file
in it, byte for byte as released, at addresses that do not change with the site's hashed routes.

Routes:
    /-/download                   the list: the archive (size, SHA-256), the descriptors, the codebook,
                                  each table as CSV and as Parquet, every other file of the release
    /-/download/<name>.zip        the archive itself
    /-/download/<path>            a file of the release, by its path inside the archive's folder
                                  (datapackage.json, data/<table>.csv, parquet/<table>.parquet,
                                  codebook.html, ...)

The archive is the metadata's plugin setting `downloads.archive`, which
scripts/outputs/build_datasette_metadata.py writes as `{"$env": "RELEASE_ARCHIVE"}`: scripts/site/serve.py sets it
to the release `make serve` builds, the bundle's `start` to the copy the bundle carries. Unset, the
site has no downloads (its pages say how to get the release); set to a file that is not a release of
this site's package, the site does not start.

Template variables:
    release_download   on the home and database pages: the archive, the descriptor, the codebook, the
                       list's address and the number of tables
    table_downloads    on a table page: that table's CSV and Parquet files and the descriptor, when the
                       release has the table
With a public address, site/plugins/citation.py gives the JSON-LD's `distribution` from
`release_distribution(datasette)` (kept on the Datasette instance at start-up): a DataDownload for the
archive, the descriptors, the codebook and each table's CSV and Parquet file.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import zipfile

from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response

PLUGIN = "downloads"
ROUTE = "/-/download"
PARQUET_DESCRIPTOR = "datapackage.parquet.json"
CODEBOOK = "codebook.html"
MEDIA_TYPES = {".zip": "application/zip", ".json": "application/json", ".csv": "text/csv; charset=utf-8",
               ".parquet": "application/vnd.apache.parquet", ".html": "text/html; charset=utf-8",
               ".md": "text/markdown; charset=utf-8", ".txt": "text/plain; charset=utf-8",
               ".yaml": "text/plain; charset=utf-8", ".py": "text/plain; charset=utf-8",
               ".toml": "text/plain; charset=utf-8", ".cff": "text/plain; charset=utf-8",
               ".bib": "application/x-bibtex; charset=utf-8", ".ris": "application/x-research-info-systems",
               ".jsonld": "application/ld+json", ".png": "image/png"}
# Files a browser should save rather than show.
ATTACHMENTS = (".zip", ".parquet")


class ReleaseError(Exception):
    pass


class Release:
    """A release archive, read once: `path` on disk, its file `name`, `sha256` and `size`, the folder
    inside it (`prefix`, <name>-<version>/), its `members` (path inside the folder -> ZipInfo) and its
    two descriptors. (A plain class: Datasette loads a plugins folder's files outside sys.modules,
    where dataclasses cannot look a class up.)"""

    def __init__(self, path, name, sha256, size, prefix, members, descriptor, parquet):
        self.path, self.name, self.sha256, self.size = path, name, sha256, size
        self.prefix, self.members, self.descriptor, self.parquet = prefix, members, descriptor, parquet

    def read(self, member: str) -> bytes:
        with zipfile.ZipFile(self.path) as archive:
            return archive.read(self.members[member])


def open_release(path: str) -> Release:
    """The release archive at `path`, checked to be one (a folder holding datapackage.json)."""
    if not os.path.isfile(path):
        raise ReleaseError(f"{path}: no such release archive (run `make dist`, or unset RELEASE_ARCHIVE)")
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        with zipfile.ZipFile(path) as archive:
            infos = [i for i in archive.infolist() if not i.is_dir()]
            folders = {i.filename.split("/", 1)[0] for i in infos}
            if len(folders) != 1:
                raise ReleaseError(f"{path}: a release holds one folder, this holds {sorted(folders)}")
            prefix = folders.pop() + "/"
            members = {i.filename[len(prefix):]: i for i in infos}
            if "datapackage.json" not in members:
                raise ReleaseError(f"{path}: no {prefix}datapackage.json inside: not a release of a data package")
            descriptor = json.loads(archive.read(members["datapackage.json"]))
            parquet = json.loads(archive.read(members[PARQUET_DESCRIPTOR])) if PARQUET_DESCRIPTOR in members else {}
    except (zipfile.BadZipFile, ValueError) as error:
        raise ReleaseError(f"{path}: not a readable release archive ({error})") from None
    return Release(path=path, name=os.path.basename(path), sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                   prefix=prefix, members=members, descriptor=descriptor, parquet=parquet)


def release(datasette) -> Release | None:
    """The site's release, read once (at start-up); None when the site has none."""
    if "_release" not in datasette.__dict__:
        path = (datasette.plugin_config(PLUGIN) or {}).get("archive")
        datasette.__dict__["_release"] = open_release(path) if path else None
    return datasette.__dict__["_release"]


def media_type(name: str) -> str:
    return MEDIA_TYPES.get(posixpath.splitext(name)[1].lower(), "application/octet-stream")


def size_text(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:,} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1000


def file_entry(datasette, rel: Release, member: str, description: str = "") -> dict:
    info = rel.members[member]
    return {"path": member, "url": datasette.urls.path(f"{ROUTE}/{member}"), "bytes": info.file_size,
            "size": size_text(info.file_size), "media_type": media_type(member).split(";")[0],
            "description": description}


def tables(datasette, rel: Release) -> list[dict]:
    """Each table of the release's descriptor, with its CSV and (when released) Parquet file."""
    parquet = {r["name"]: r["path"] for r in rel.parquet.get("resources", [])}
    out = []
    for res in rel.descriptor.get("resources", []):
        if res.get("type") != "table" or res.get("path") not in rel.members:
            continue
        out.append({"name": res["name"], "title": res.get("title", ""),
                    "csv": file_entry(datasette, rel, res["path"]),
                    "parquet": file_entry(datasette, rel, parquet[res["name"]]) if parquet.get(res["name"]) in
                    rel.members else None})
    return out


def leading_files(datasette, rel: Release) -> list[dict]:
    """What the list leads with besides the archive: the descriptors and the codebook."""
    described = [("datapackage.json", "The Frictionless descriptor: every table's schema, the CSV files' sizes and "
                                      "SHA-256"),
                 (PARQUET_DESCRIPTOR, "The same tables as Parquet files, typed"),
                 (CODEBOOK, "The codebook: the unit of analysis, the coding rules, every table, field and value")]
    return [file_entry(datasette, rel, member, text) for member, text in described if member in rel.members]


def archive_entry(datasette, rel: Release) -> dict:
    return {"path": rel.name, "url": datasette.urls.path(f"{ROUTE}/{rel.name}"), "bytes": rel.size,
            "size": size_text(rel.size), "sha256": rel.sha256, "media_type": "application/zip",
            "version": rel.descriptor.get("version"), "folder": rel.prefix.rstrip("/")}


def release_distribution(datasette) -> list[dict] | None:
    """schema.org DataDownloads (contentUrl a path of this site) for the archive, the descriptors, the
    codebook and every table's CSV and Parquet file; None when the site has no release."""
    rel = release(datasette)
    if rel is None:
        return None
    archive = archive_entry(datasette, rel)
    entries = [{**archive, "description": "The release archive: descriptor, tables (CSV and Parquet), archived "
                                          "bulletin, codebook, documentation"}, *leading_files(datasette, rel)]
    for table in tables(datasette, rel):
        entries += [{**f, "description": f"{table['title']} ({kind})"}
                    for kind, f in (("CSV", table["csv"]), ("Parquet", table["parquet"])) if f]
    return [{"@type": "DataDownload", "name": e["path"], "description": e["description"],
             "encodingFormat": e["media_type"], "contentSize": f"{e['bytes']} B", "contentUrl": e["url"],
             **({"sha256": e["sha256"]} if "sha256" in e else {})} for e in entries]


async def download_page(datasette, request) -> Response:
    rel = release(datasette)
    context = {"release": None}
    if rel is not None:
        listed = {f["path"] for f in leading_files(datasette, rel)}
        table_files = tables(datasette, rel)
        for table in table_files:
            listed |= {f["path"] for f in (table["csv"], table["parquet"]) if f}
        context = {"release": archive_entry(datasette, rel), "leading": leading_files(datasette, rel),
                   "tables": table_files,
                   "other": [file_entry(datasette, rel, m) for m in sorted(rel.members) if m not in listed]}
    return Response.html(await datasette.render_template("download.html", context, request=request))


async def download_file(datasette, request) -> Response:
    rel = release(datasette)
    path = request.url_vars["path"]
    if rel is None:
        raise NotFound("This site serves no release (run `make serve`, which builds one)")
    if path == rel.name:
        with open(rel.path, "rb") as handle:
            data = handle.read()
    elif path in rel.members:
        data = rel.read(path)
    else:
        raise NotFound(f"No file {path!r} in release {rel.name}")
    name = posixpath.basename(path)
    headers = {"etag": f'"sha256-{hashlib.sha256(data).hexdigest()}"'}
    if name.endswith(ATTACHMENTS):
        headers["content-disposition"] = f'attachment; filename="{name}"'
    return Response(data, content_type=media_type(name), headers=headers)


@hookimpl
def startup(datasette):
    """Read the release at start-up, so a wrong RELEASE_ARCHIVE stops the site with its reason, and
    check it is a release of the package this site serves."""
    rel = release(datasette)
    # For site/plugins/citation.py's JSON-LD (a plugin file is not a module the other can import).
    datasette.__dict__["_release_distribution"] = release_distribution(datasette)
    if rel is None:
        return
    name = rel.descriptor.get("name")
    if name not in datasette.databases:
        raise ReleaseError(f"{rel.path}: a release of {name!r}, not of this site's database "
                           f"({', '.join(n for n in datasette.databases if n != '_internal')})")


@hookimpl
def register_routes():
    return [(rf"^{ROUTE}$", download_page), (rf"^{ROUTE}/(?P<path>[^?#]+)$", download_file)]


@hookimpl
def extra_template_vars(view_name, table, datasette):
    rel = release(datasette)
    if rel is None:
        return {"release_download": {"page": datasette.urls.path(ROUTE), "archive": None}} \
            if view_name in ("index", "database") else {}
    if view_name in ("index", "database"):
        leading = {f["path"]: f for f in leading_files(datasette, rel)}
        return {"release_download": {"page": datasette.urls.path(ROUTE), "archive": archive_entry(datasette, rel),
                                     "descriptor": leading.get("datapackage.json"), "codebook": leading.get(CODEBOOK),
                                     "parquet": leading.get(PARQUET_DESCRIPTOR),
                                     "tables": len(tables(datasette, rel))}}
    if view_name == "table" and table:
        found = next((t for t in tables(datasette, rel) if t["name"] == table), None)
        if found is None:
            return {}
        return {"table_downloads": {**found, "descriptor": file_entry(datasette, rel, "datapackage.json")}}
    return {}


@hookimpl
def sitemap_extra_paths(datasette, request):
    """The download list, for /sitemap.xml (site/plugins/publishing.py)."""
    return [ROUTE] if release(datasette) is not None else []
