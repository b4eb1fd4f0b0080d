"""The site under hostile traffic: bounded requests refused before Datasette reads them, SQL that
cannot take the server's memory, refusals instead of errors, and the security headers of every page.
docs/site.md says what the site promises and how tests/test_hostile.py checks it.

- Before Datasette sees a request (the outermost ASGI layers): a method other than GET or HEAD
  answers 405; a path that is not Latin-1 answers 404; a URL longer than MAX_URL_BYTES answers 414;
  more than MAX_PARAMETERS query parameters, more than MAX_FACETS facets, or a `_timelimit`,
  `_through` or `<column>__in=[...]` that Datasette cannot read answers 400. Datasette 0.65
  re-parses the whole query string for every parameter it reads, on the event loop, so a long
  query string would stall every other request.
- Ad hoc SQL (`?sql=` on any page) runs at most SQL_AT_ONCE at a time, with at most SQL_WAITING
  waiting for their turn (more answer 503 at once): a slow query never takes the SQL threads that
  the table, row and bulletin pages need.
- Every SQLite connection gets limits (SQLITE_LIMITS: the length of a string or blob, 20 KB or
  twice the longest row the database holds, of a SQL statement, of a LIKE pattern, the depth of an
  expression, ...), so one function call such as `zeroblob(40000000)` or `randomblob(3e8)` is an
  error, not 40 MB to 300 MB of memory, and an
  authorizer refusing the functions no reader needs (REFUSED_FUNCTIONS: `fts3_tokenizer` returns a
  native pointer and, with two arguments, re-registers a tokenizer on the shared connection).
- An exception Datasette did not expect is answered without its text (the traceback goes to the
  server's log): 400 when the request's parameters caused it, else 500. Datasette's own messages for
  bad parameters (`_sort` by a column that is not there, ...), sent as 500, are answered 400.
- Every answer carries a Content-Security-Policy (scripts only from the site or with the hash of one
  of the templates' inline scripts; styles from the site or inline; no plugins, no framing, no
  `<base>`, forms only to the site), `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`
  and a referrer policy. A refusal made here is sent `cache-control: no-store`.
- Work Datasette repeats on every request for an immutable site is done once: the per-table
  permission rules (Datasette 0.65 deep-copies the whole metadata for each table it checks; the
  database page checks every table), each plugin's configuration (read with its `$env` values
  resolved anew on every call), and the database page itself, which costs a SQL round trip
  per table and view (about 700 here): its answer to a plain GET is kept and sent again. With an https public address, Datasette's absolute links are
  https (its `force_https_urls` setting).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import sqlite3
import sys
import traceback
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qsl

import datasette as datasette_package
from datasette import hookimpl
from datasette.handle_exception import handle_exception as datasette_handle_exception
from datasette.utils.asgi import Base400
from datasette.views.base import DatasetteError

METHODS = ("GET", "HEAD")
MAX_URL_BYTES = 8192        # path and query string; a longer URL answers 414
MAX_PARAMETERS = 64         # query parameters of one request
MAX_FACETS = 10             # _facet, _facet_array and _facet_date parameters together
FACETS = {"_facet", "_facet_array", "_facet_date"}
SQL_AT_ONCE = 1             # ad hoc SQL queries running at once (Datasette runs SQL on 3 threads)
SQL_WAITING = 4             # ad hoc SQL queries waiting for their turn; more answer 503 at once
SQL_WAIT_SECONDS = 10.0     # a query that waited this long answers 503
BUSY = "Too many SQL queries at once: try again in a few seconds"
KEPT_PAGES = 16             # database pages kept whole (one per database, host and scheme)
SQLITE_LIMITS = {
    # SQLITE_LIMIT_LENGTH, the bytes of a string, blob or row: at least this, else twice the longest
    # row the database holds (longest_row), since SQLite applies it to what it reads too.
    sqlite3.SQLITE_LIMIT_LENGTH: 20_000,
    sqlite3.SQLITE_LIMIT_SQL_LENGTH: 100_000,         # bytes of one SQL statement
    sqlite3.SQLITE_LIMIT_COLUMN: 500,                 # columns of a result, an index, ...
    sqlite3.SQLITE_LIMIT_EXPR_DEPTH: 100,             # depth of an expression tree
    sqlite3.SQLITE_LIMIT_COMPOUND_SELECT: 50,         # terms of a UNION
    sqlite3.SQLITE_LIMIT_FUNCTION_ARG: 32,            # arguments of a function
    sqlite3.SQLITE_LIMIT_ATTACHED: 0,                 # no ATTACH (read-only site, one database)
    sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH: 1_000,  # bytes of a LIKE or GLOB pattern
    sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER: 500,        # ? and :name parameters of one statement
    sqlite3.SQLITE_LIMIT_TRIGGER_DEPTH: 1,
}
# Functions no reader of the site needs (SQLITE_FUNCTION is refused for them by name).
REFUSED_FUNCTIONS = {"fts3_tokenizer", "fts5", "load_extension", "readfile", "writefile", "edit",
                     "sqlite_compileoption_get", "sqlite_compileoption_used"}
# Exceptions that a request's parameters cause when Datasette 0.65 reads them without checking.
INPUT_ERRORS = (ValueError, KeyError, TypeError, IndexError, sqlite3.ProgrammingError, sqlite3.OperationalError,
                sqlite3.InterfaceError)
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
]
# Values a template's inline script is rendered with, for the few that hold a template expression.
SCRIPT_VARIANTS = {"datasette_allow_facet": ["true", "false"]}
# Inline scripts Datasette writes from its code, not a template: the page of a query past its time limit.
CODE_SCRIPTS = ['\nlet ta = document.querySelector("textarea");\nta.style.height = ta.scrollHeight + "px";\n']


# ---------------------------------------------------------------------------------------------
# The Content-Security-Policy

INLINE_SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.DOTALL | re.IGNORECASE)
EXPRESSION = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def template_folders(datasette) -> list[Path]:
    return [Path(p) for p in (datasette.template_dir,) if p] + [Path(datasette_package.__file__).parent / "templates"]


def inline_script_hashes(folders) -> list[str]:
    """The CSP hashes of every inline script of the templates in `folders` (not data blocks such as
    JSON-LD, which browsers do not run). A script holding `{{ name }}` is hashed for each value
    SCRIPT_VARIANTS lists for `name`; one with any other template code is not hashed (the browser
    test reports it, as a CSP violation)."""
    out = {sha256_source(text) for text in CODE_SCRIPTS}
    for folder in folders:
        for path in sorted(folder.rglob("*.html")):
            for match in INLINE_SCRIPT.finditer(path.read_text(encoding="utf-8")):
                attrs, body = match["attrs"], match["body"]
                if "src=" in attrs or ("type=" in attrs and "module" not in attrs and "javascript" not in attrs):
                    continue
                names = EXPRESSION.findall(body)
                if "{%" in body or "{#" in body or any(name not in SCRIPT_VARIANTS for name in names):
                    continue
                bodies = [body]
                for name in set(names):
                    bodies = [EXPRESSION.sub(lambda m, v=value: v if m[1] == name else m[0], b)
                              for b in bodies for value in SCRIPT_VARIANTS[name]]
                out.update(sha256_source(text) for text in bodies)
    return sorted(out)


def sha256_source(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


def content_security_policy(datasette) -> bytes:
    scripts = " ".join(["'self'", *inline_script_hashes(template_folders(datasette))])
    return ("default-src 'self'; script-src " + scripts + "; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'").encode()


# ---------------------------------------------------------------------------------------------
# Requests refused before Datasette reads them

def refusal(query_string: bytes) -> tuple[int, str] | None:
    """(status, message) for a query string Datasette must not be given, else None."""
    try:
        pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, max_num_fields=MAX_PARAMETERS)
    except ValueError:  # more than max_num_fields
        return 400, f"Too many query parameters (at most {MAX_PARAMETERS})"
    if sum(1 for name, _ in pairs if name in FACETS) > MAX_FACETS:
        return 400, f"Too many facets (at most {MAX_FACETS})"
    for name, value in pairs:
        if name == "_timelimit" and not value.isdigit():
            return 400, "_timelimit must be a number of milliseconds"
        if name == "_through" and not through_is_valid(value):
            return 400, '_through must be JSON such as {"table": "...", "column": "...", "value": "..."}'
        if name.endswith("__in") and value.startswith("[") and not list_is_valid(value):
            return 400, f"{name} must be a JSON list of strings or numbers, or values separated by commas"
    return None


def through_is_valid(value: str) -> bool:
    try:
        data = json.loads(value)
    except ValueError:
        return False
    return isinstance(data, dict) and all(isinstance(data.get(key), (str, int)) for key in ("table", "column", "value"))


def list_is_valid(value: str) -> bool:
    try:
        data = json.loads(value)
    except ValueError:
        return False
    return isinstance(data, list) and all(isinstance(item, (str, int, float)) and not isinstance(item, bool)
                                          for item in data)


def is_ad_hoc_sql(query_string: bytes) -> bool:
    return bool(query_string) and any(name == "sql" for name, _ in parse_qsl(query_string.decode("latin-1")))


async def send_refusal(send, status: int, message: str, headers=()) -> None:
    body = (message + "\n").encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
                            (b"cache-control", b"no-store"), *headers]})
    await send({"type": "http.response.body", "body": body})


def database_page_key(datasette, scope) -> tuple | None:
    """For a plain request of a database's page (GET, no query string, no cookie or credentials):
    what its answer depends on (the path, and the host and scheme Datasette's absolute links use);
    else None."""
    if scope["method"] != "GET" or scope.get("query_string"):
        return None
    path = scope["path"].rstrip("/")
    if not any(path == "/" + db.route for name, db in datasette.databases.items() if name != "_internal"):
        return None
    headers = dict(scope.get("headers") or [])
    if b"cookie" in headers or b"authorization" in headers:
        return None
    return path, headers.get(b"host"), scope.get("scheme")


async def kept_answer(app, scope, receive, send, cache: dict, key) -> None:
    """The answer kept in `cache` under `key`; else `app`'s, kept when it is a 200 without a cookie (at
    most KEPT_PAGES answers: the host is the client's to choose). While one request makes it, the
    others for the same key wait for it rather than make it again (it costs a SQL round trip per
    table, and those queue behind every other request's queries)."""
    kept = cache.get(key)
    if isinstance(kept, asyncio.Future):
        await asyncio.shield(kept)
        kept = cache.get(key)
    if isinstance(kept, list):
        for message in kept:
            await send(message)
        return
    making = cache[key] = asyncio.get_running_loop().create_future()
    messages = []

    async def keep(message):
        messages.append(message)
        await send(message)
    try:
        await app(scope, receive, keep)
    finally:
        start = messages[0] if messages else {}
        if (start.get("status") == 200 and len(cache) <= KEPT_PAGES
                and not any(k.lower() == b"set-cookie" for k, _ in start.get("headers", []))):
            cache[key] = messages
        else:
            cache.pop(key, None)
        making.set_result(None)


@hookimpl(trylast=True)
def asgi_wrapper(datasette):
    policy = content_security_policy(datasette)
    headers_added = [(b"content-security-policy", policy), *SECURITY_HEADERS]
    names = {name for name, _ in headers_added}
    # Shared by every app Datasette makes (datasette.client makes its own): one SQL lane per process.
    lane = datasette.__dict__.setdefault("_guard_sql_lane", {"waiting": 0, "turn": None})
    page_cache = datasette.__dict__.setdefault("_guard_page_cache", {})

    def wrap(app):
        async def guarded(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)

            async def with_headers(message):
                if message["type"] == "http.response.start":
                    message = {**message, "headers": [(k, v) for k, v in message.get("headers", [])
                                                      if k.lower() not in names] + headers_added}
                await send(message)

            query = scope.get("query_string", b"")
            if scope.get("method") not in METHODS:
                return await send_refusal(with_headers, 405, "Method not allowed: this site only reads",
                                          [(b"allow", ", ".join(METHODS).encode())])
            try:
                scope["path"].encode("latin-1")
            except UnicodeEncodeError:
                return await send_refusal(with_headers, 404, "Not found")
            if len(scope.get("raw_path") or scope["path"].encode("latin-1")) + len(query) > MAX_URL_BYTES:
                return await send_refusal(with_headers, 414, f"URL too long (at most {MAX_URL_BYTES} bytes)")
            refused = refusal(query)
            if refused:
                return await send_refusal(with_headers, *refused)
            if not is_ad_hoc_sql(query):
                key = database_page_key(datasette, scope)
                if key is None:
                    return await app(scope, receive, with_headers)
                return await kept_answer(app, scope, receive, with_headers, page_cache, key)
            if lane["turn"] is None:
                lane["turn"] = asyncio.Semaphore(SQL_AT_ONCE)
            sql_turn = lane["turn"]
            if not sql_turn.locked():
                await sql_turn.acquire()  # free: taken at once
            elif lane["waiting"] >= SQL_WAITING:
                return await send_refusal(with_headers, 503, BUSY, [(b"retry-after", b"5")])
            else:
                lane["waiting"] += 1
                try:
                    await asyncio.wait_for(sql_turn.acquire(), SQL_WAIT_SECONDS)
                except asyncio.TimeoutError:
                    return await send_refusal(with_headers, 503, BUSY, [(b"retry-after", b"5")])
                finally:
                    lane["waiting"] -= 1
            try:
                return await app(scope, receive, with_headers)
            finally:
                sql_turn.release()
        return guarded
    return wrap


# ---------------------------------------------------------------------------------------------
# SQLite: limits and an authorizer on every connection

def authorizer(action, arg1, arg2, database, source):
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in REFUSED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def longest_row(conn) -> int:
    """An upper bound of the bytes of any row of the database on `conn`: per table, the sum of its
    columns' longest values."""
    longest = 0
    tables = [row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")]
    for table in tables:
        columns = [row[1] for row in conn.execute("select * from pragma_table_info(?)", [table])]
        if columns:
            sizes = conn.execute("select " + ", ".join(f"max(length(cast([{c}] as blob)))" for c in columns)
                                 + f" from [{table}]").fetchone()
            longest = max(longest, sum(size or 0 for size in sizes))
    return longest


@hookimpl
def prepare_connection(conn, database, datasette):
    limits = dict(SQLITE_LIMITS)
    kept = datasette.__dict__.setdefault("_guard_longest_row", {})
    if database not in kept:
        kept[database] = longest_row(conn)
    limits[sqlite3.SQLITE_LIMIT_LENGTH] = max(limits[sqlite3.SQLITE_LIMIT_LENGTH], 2 * kept[database])
    for limit, value in limits.items():
        conn.setlimit(limit, value)
    conn.set_authorizer(authorizer)


# ---------------------------------------------------------------------------------------------
# Errors answered without their text

@hookimpl(tryfirst=True)
def handle_exception(datasette, request, exception):
    """An exception that is not one of Datasette's refusals is answered without its text; the
    traceback goes to the server's log. Datasette's own messages for bad input come as 400."""
    if isinstance(exception, Base400) or (isinstance(exception, DatasetteError) and exception.status < 500):
        return None
    if isinstance(exception, DatasetteError):
        replacement = DatasetteError(exception.message, title=exception.title, status=400,
                                     message_is_html=exception.message_is_html)
    else:
        traceback.print_exception(exception, file=sys.stderr)
        if request is not None and request.query_string and isinstance(exception, INPUT_ERRORS):
            replacement = DatasetteError("A parameter of this request could not be used.", title="Bad request",
                                         status=400)
        else:
            replacement = DatasetteError("The server could not answer this request.", title="Server error")
    return datasette_handle_exception(datasette=datasette, request=request, exception=replacement)


# ---------------------------------------------------------------------------------------------
# Work done once for an immutable site

@hookimpl
def startup(datasette):
    """Datasette 0.65 deep-copies the whole metadata to find one table's permission rules, for every
    table a page lists (the database page: every table, about 400 ms here), and walks a plugin's
    whole configuration for `$env` values each time a plugin reads it (the citation files, 1.5 ms a
    row page): both are worked out once (the metadata and environment of a running site do not
    change)."""
    if "_guard_permissions_kept" not in datasette.__dict__:
        datasette._table_permission_allows = lru_cache(maxsize=4096)(datasette._table_permission_allows)
        datasette.plugin_config = lru_cache(maxsize=4096)(datasette.plugin_config)
        datasette.__dict__["_guard_permissions_kept"] = True
    site_url = ((datasette.plugin_config("publishing") or {}).get("site_url") or "")
    if site_url.startswith("https://"):
        datasette._settings["force_https_urls"] = True
