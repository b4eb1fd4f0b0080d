"""The site in public: its public address, what caches may keep, and what search engines find.

- The public address is the metadata's plugin setting `publishing.site_url`
  (scripts/outputs/build_datasette_metadata.py writes it as `{"$env": "SITE_URL"}`, so the site's
  SITE_URL environment variable sets it). With it, every page carries
  `<link rel="canonical">` at that address, in the URL form that does not change between
  releases (the database's plain name). Unset, pages say nothing about an address they do not know.
- Cache headers. datasette-hashed-urls (requirements-site.txt) serves the database under
  `/<name>-<hash>/...` with `cache-control: max-age=31536000, public`, and redirects `/<name>/...`
  there. Its hash is the database file's, but a page is also made of the metadata, the templates,
  the plugins, the public address and the versions of Datasette and its plugins: this plugin
  replaces the hash with a fingerprint of all of them at start-up, so a page's URL changes
  whenever its content can. Every other answer (the home page, the redirects, the sitemap, static
  files, an error, a URL under an old hash) is sent `cache-control: no-cache` (a refusal sent
  `no-store` keeps it), and a request that carries a cookie or credentials keeps Datasette's
  `private, no-store`.
- `/sitemap.xml` lists, at the public address (else the address the request came to), the home
  page, the database page, every table, every row page and the pages other site plugins name
  through the `sitemap_extra_paths(datasette, request)` hook (as datasette-sitemap's plugins do; the
  annotated bulletins, a codebook page) and Datasette's custom pages (templates/pages/*.html).
  Over 50,000 addresses it becomes a sitemap index of `/sitemap-<n>.xml` files.
  `/robots.txt` names it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from types import SimpleNamespace
from xml.sax.saxutils import escape as xml_escape

import pluggy
from datasette import hookimpl
from datasette.plugins import get_plugins, pm
from datasette.utils import await_me_maybe, path_from_row_pks, tilde_encode
from datasette.utils.asgi import NotFound, Response

PLUGIN = "publishing"
FAR_FUTURE = b"max-age=31536000, public"
SITEMAP_LIMIT = 50_000  # addresses in one sitemap file (sitemaps.org)
# Pages that have an address of their own (not an error, a retired ID or a redirect).
CANONICAL_VIEWS = {"index", "database", "table", "row", "query", "bulletin", "page"}


def sitemap_extra_paths(datasette, request):
    """Paths (starting with /) of pages to list in /sitemap.xml: a list, or an awaitable or a
    coroutine function giving one (the hook's name and arguments are datasette-sitemap's)."""


# Datasette runs a plugins folder's files once per Datasette instance: add the hook once.
if getattr(getattr(pm.hook, "sitemap_extra_paths", None), "spec", None) is None:
    pm.add_hookspecs(SimpleNamespace(sitemap_extra_paths=pluggy.HookspecMarker("datasette")(sitemap_extra_paths)))
del sitemap_extra_paths


def public_address(datasette) -> str | None:
    """The site's public address without a final slash, or None (read once per site)."""
    if "_public_address" not in datasette.__dict__:
        value = (datasette.plugin_config(PLUGIN) or {}).get("site_url")
        datasette.__dict__["_public_address"] = value.rstrip("/") if value else None
    return datasette.__dict__["_public_address"]


def stable_path(datasette, path: str) -> str:
    """`path` with a database's hashed route (`/<name>-<hash>`) replaced by its name: the address
    that stays the same from one release to the next."""
    first, slash, rest = path.lstrip("/").partition("/")
    route, dot, fmt = first.partition(".")
    for name, db in datasette.databases.items():
        if db.route == route and db.route != name:
            return "/" + tilde_encode(name) + dot + fmt + slash + rest
    return path


def hashed_routes(datasette) -> set[str]:
    return {db.route for name, db in datasette.databases.items() if db.route != name}


# ---------------------------------------------------------------------------------------------
# The fingerprint in the URLs

def fingerprint(datasette) -> str:
    """A hash of everything a page is made of besides the database: the metadata, the site's plugins
    and templates, the public address, and the versions of Datasette and its plugins."""
    digest = hashlib.sha256()
    digest.update(json.dumps(datasette.metadata(), sort_keys=True, default=str).encode())
    # Sorted: Datasette lists its plugins in set order, which differs from one process to the next.
    digest.update(json.dumps(sorted((p["name"], p.get("version") or "") for p in get_plugins())).encode())
    from datasette.version import __version__
    digest.update(f"\n{__version__}\n{public_address(datasette)}\n".encode())
    for folder in (datasette.plugins_dir, datasette.template_dir):
        if folder:
            for path in sorted(Path(folder).rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    digest.update(f"\n{path.relative_to(folder).as_posix()}\n".encode() + path.read_bytes())
    return digest.hexdigest()


@hookimpl(trylast=True)
def startup(datasette):
    """After datasette-hashed-urls has given each immutable database its route `<name>-<hash>`:
    the hash becomes that of the database and of the fingerprint together. Reads the public address
    first (site/plugins/citation.py finds it on the Datasette instance)."""
    public_address(datasette)
    routes = getattr(datasette, "_hashed_url_databases", None)
    if not routes:
        return
    site = fingerprint(datasette)
    for name in list(routes):
        db = datasette.get_database(name)
        short = hashlib.sha256(f"{db.hash}\n{site}".encode()).hexdigest()[:7]
        routes[name] = short
        db.route = f"{name}-{short}"


@hookimpl(trylast=True)
def asgi_wrapper(datasette):
    """The outermost layer: far-future caching only for a 200 answer under a current hashed route;
    `no-cache` for everything else; `private, no-store` for a request with a cookie or credentials."""
    def wrap(app):
        async def wrapped(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)
            request_headers = {k.lower() for k, _ in scope.get("headers", [])}
            personal = bool({b"cookie", b"authorization"} & request_headers)
            first = scope["path"].lstrip("/").split("/")[0].split(".")[0]
            hashed = first in hashed_routes(datasette)

            async def policed(message):
                if message["type"] == "http.response.start":
                    headers = [(k, v) for k, v in message.get("headers", [])]
                    given = [v for k, v in headers if k.lower() == b"cache-control"]
                    if personal or any(k.lower() == b"set-cookie" for k, _ in headers):
                        value = b"private, no-store"
                    elif hashed and message["status"] == 200 and given == [FAR_FUTURE]:
                        value = FAR_FUTURE
                    elif given == [b"no-store"]:  # a refusal (site/plugins/guard.py): kept nowhere
                        value = b"no-store"
                    else:
                        value = b"no-cache"
                    headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
                    message = {**message, "headers": headers + [(b"cache-control", value)]}
                await send(message)
            return await app(scope, receive, policed)
        return wrapped
    return wrap


# ---------------------------------------------------------------------------------------------
# Canonical links

@hookimpl
def extra_template_vars(request, view_name, datasette):
    site = public_address(datasette)
    out = {"public_address": site}
    if site and request is not None and view_name in CANONICAL_VIEWS:
        query = request.query_string
        out["canonical_url"] = site + stable_path(datasette, request.path) + (f"?{query}" if query else "")
    return out


# ---------------------------------------------------------------------------------------------
# Sitemap and robots.txt

async def sitemap_paths(datasette, request) -> list[str]:
    """Every path the sitemap lists, read once (the databases are immutable)."""
    if "_sitemap_paths" in datasette.__dict__:
        return datasette.__dict__["_sitemap_paths"]
    paths = ["/"]
    for name, db in datasette.databases.items():
        if name == "_internal" or db.is_mutable:
            continue
        base = "/" + tilde_encode(name)
        paths.append(base)
        hidden = set(await db.hidden_table_names())
        for table in [t for t in await db.table_names() if t not in hidden]:
            paths.append(f"{base}/{tilde_encode(table)}")
            pks = await db.primary_keys(table)
            columns = ", ".join(f"[{pk}]" for pk in pks) or "rowid"
            for row in (await db.execute(f"select {columns} from [{table}]")).rows:
                paths.append(f"{base}/{tilde_encode(table)}/{path_from_row_pks(row, pks, not pks)}")
    for more in pm.hook.sitemap_extra_paths(datasette=datasette, request=request):
        more = await await_me_maybe(more)
        paths.extend(stable_path(datasette, p) for p in more or [])
    pages = Path(datasette.template_dir or "") / "pages"  # Datasette's custom pages, without URL variables
    if datasette.template_dir and pages.is_dir():
        paths.extend("/" + p.relative_to(pages).with_suffix("").as_posix() for p in sorted(pages.rglob("*.html"))
                     if "{" not in p.name)
    datasette.__dict__["_sitemap_paths"] = list(dict.fromkeys(paths))
    return datasette.__dict__["_sitemap_paths"]


def absolute(datasette, request, path: str) -> str:
    site = public_address(datasette)
    return site + path if site else datasette.absolute_url(request, path)


def urlset(locations) -> str:
    return "\n".join(['<?xml version="1.0" encoding="UTF-8"?>',
                      '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
                      *(f"<url><loc>{xml_escape(loc)}</loc></url>" for loc in locations), "</urlset>", ""])


async def sitemap(datasette, request) -> Response:
    paths = await sitemap_paths(datasette, request)
    parts = [paths[i:i + SITEMAP_LIMIT] for i in range(0, len(paths), SITEMAP_LIMIT)]
    part = request.url_vars.get("part")
    if part is not None:
        if not (part.isdigit() and 1 <= int(part) <= len(parts)) or len(parts) == 1:
            raise NotFound("No such sitemap")
        body = urlset(absolute(datasette, request, p) for p in parts[int(part) - 1])
    elif len(parts) == 1:
        body = urlset(absolute(datasette, request, p) for p in paths)
    else:
        body = "\n".join(['<?xml version="1.0" encoding="UTF-8"?>',
                          '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
                          *(f"<sitemap><loc>{xml_escape(absolute(datasette, request, f'/sitemap-{n}.xml'))}</loc>"
                            "</sitemap>" for n in range(1, len(parts) + 1)), "</sitemapindex>", ""])
    return Response(body, content_type="application/xml; charset=utf-8")


async def robots(datasette, request) -> Response:
    # Crawlers may read every page but need not run ad hoc SQL (each such page is a query).
    return Response.text("User-agent: *\nDisallow: /*?sql=\nDisallow: /*&sql=\n\n"
                         f"Sitemap: {absolute(datasette, request, '/sitemap.xml')}\n")


@hookimpl
def register_routes():
    return [(r"^/sitemap(?:-(?P<part>[0-9]+))?\.xml$", sitemap), (r"^/robots\.txt$", robots)]
