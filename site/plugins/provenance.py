"""The site's provenance pages, built with Datasette 0.65's plugin hooks.

- `/<database>/-/bulletin/<source_id>`: the archived text as printed, every evidence span marked
  (`<mark>`), each mark linking to the fact row that uses it (or to its evidence row when several
  rows use it), a legend, and the sentences with words the package excused from coding, with the
  reason (when the `sentences` table has `words_excused` and `reason` columns).
- Row pages: each evidence column's quote marked inside the sentences around it, the rows that use
  an evidence row, and every foreign-key value as a link with its label (`render_cell`).
- The annotated bulletins are listed in the sitemap (`sitemap_extra_paths`, site/plugins/publishing.py).
- A URL may name the database by its hashed route (`<name>-<hash>`, datasette-hashed-urls): the
  site's own pages accept it as Datasette's do.
- A row URL naming an ID that a later version retired (`retired_ids` table) answers with a page that
  links to its replacements instead of a bare 404.
- The home page (served here) and the database page list the annotated bulletin, the headline
  tables and the canned queries first, and every table in reading order (from the metadata's
  plugin settings).
- A table's CSV export writes booleans as `true`/`false` and LF line ends, as the package's CSV files do, so a
  whole-table export validates against datapackage.json; `_search` on a table without full-text
  search is answered with a clear message instead of being ignored.

Everything read from the database is escaped (markupsafe); offsets are read from the database,
never recomputed. The database is immutable, so what a page needs is read once and kept.
"""

from __future__ import annotations

import csv
import io
import json
import re
from urllib.parse import parse_qs

from datasette import hookimpl
from datasette.utils import tilde_decode, tilde_encode, urlsafe_components
from datasette.utils.asgi import NotFound, Response
from markupsafe import Markup, escape

import datasette.handle_exception as datasette_errors

# Datasette's own error handler prints every error's traceback with its local variables (with
# `rich`, installed here) before answering, 404s included: 0.3 to 0.8 s per mistyped URL, a cost
# anyone can trigger. A client error is not a fault of the site: without `rich` the handler
# answers the same page and still prints a plain traceback for a server error (500).
datasette_errors.rich = None

PLUGIN = "provenance"
EVIDENCE = "evidence"
TEXTS = "source_texts"
SENTENCES = "sentences"
RETIRED = "retired_ids"
SOURCES = "sources"
# The look of a kind of mark (the table that uses a span): a pattern and a colour, so that tables are
# told apart by more than colour. The patterns are taken in turn; the tables that share a pattern get
# colours spread evenly round the colour wheel, so any number of tables all look different.
PATTERNS = [
    "repeating-linear-gradient(45deg, rgba(0,0,0,.55) 0 2px, transparent 2px 6px)",
    "repeating-linear-gradient(-45deg, rgba(0,0,0,.55) 0 2px, transparent 2px 6px)",
    "repeating-linear-gradient(90deg, rgba(0,0,0,.55) 0 2px, transparent 2px 6px)",
    "repeating-linear-gradient(0deg, rgba(0,0,0,.55) 0 2px, transparent 2px 5px)",
    "repeating-linear-gradient(45deg, rgba(0,0,0,.55) 0 1px, transparent 1px 4px), "
    "repeating-linear-gradient(-45deg, rgba(0,0,0,.55) 0 1px, transparent 1px 4px)",
    "repeating-linear-gradient(0deg, rgba(0,0,0,.55) 0 1px, transparent 1px 4px), "
    "repeating-linear-gradient(90deg, rgba(0,0,0,.55) 0 1px, transparent 1px 4px)",
    "repeating-radial-gradient(circle at 0 0, rgba(0,0,0,.55) 0 1.5px, transparent 1.5px 4px)",
    "repeating-linear-gradient(90deg, rgba(0,0,0,.55) 0 5px, transparent 5px 9px)",
]
UNUSED_LOOK = {"colour": "#e0e0e0", "pattern": "none"}


# ---------------------------------------------------------------------------------------------
# What a database holds, read once (the site is immutable)

async def site(datasette, database: str) -> dict:
    """The evidence, texts, sentences, fact rows and keys of `database`, read once and kept."""
    cache = datasette.__dict__.setdefault("_provenance_cache", {})
    if database not in cache:
        cache[database] = await _read_site(datasette, database)
    return cache[database]


async def _rows(db, sql: str, params=None) -> list[dict]:
    return [dict(row) for row in (await db.execute(sql, params or [])).rows]


# Columns that mark a table as an index of other tables' rows (claims: claim_type; retired_ids: table_name).
INDEX_COLUMNS = {"table_name", "claim_type"}


async def _read_site(datasette, database: str) -> dict:
    db = datasette.get_database(database)
    names = await db.table_names()
    tables = {}
    for name in names:
        if await db.execute_fn(lambda conn, n=name: _is_shadow(conn, n)):
            continue
        columns = await db.table_columns(name)
        pks = await db.primary_keys(name)
        outgoing = {fk["column"]: fk["other_table"] for fk in await db.foreign_keys_for_table(name)}
        tables[name] = {"columns": columns, "pks": pks, "fks": outgoing,
                        "label": await db.label_column_for_table(name),
                        "fts": await db.fts_table(name)}
    info = {"database": database, "tables": tables, "evidence": {}, "uses": {}, "texts": {}, "sentences": {},
            "labels": {}, "retired": {}, "retired_columns": None, "ids": {}}
    for name, spec in tables.items():
        if len(spec["pks"]) != 1:
            continue
        pk, label = spec["pks"][0], spec["label"]
        select = f"select [{pk}] as id" + (f", [{label}] as label" if label else "") + f" from [{name}]"
        # A table with a table_name or claim_type column indexes other tables' rows (claims) or rows gone
        # (retired_ids): an ID's own table is the one that holds its row.
        index = bool(INDEX_COLUMNS & set(spec["columns"]))
        for row in await _rows(db, select):
            info["labels"][(name, row["id"])] = row.get("label")
            if not index:
                info["ids"].setdefault(str(row["id"]), name)
    if EVIDENCE in tables and {"evidence_id", "source_id", "start", "end", "quote"} <= set(tables[EVIDENCE]["columns"]):
        for row in await _rows(db, "select evidence_id, source_id, start, [end], quote from evidence "
                                   "order by source_id, start, [end] desc"):
            info["evidence"][row["evidence_id"]] = row
        for name, spec in tables.items():
            if INDEX_COLUMNS & set(spec["columns"]):
                continue  # an index of other tables' rows (claims) uses no words of its own
            for column, other in spec["fks"].items():
                if other != EVIDENCE or len(spec["pks"]) != 1:
                    continue
                pk = spec["pks"][0]
                for row in await _rows(db, f"select [{pk}] as id, [{column}] as ev from [{name}] "
                                           f"where [{column}] is not null order by [{pk}]"):
                    info["uses"].setdefault(row["ev"], []).append(
                        {"table": name, "column": column, "id": row["id"], "label": info["labels"].get((name, row["id"]))})
    rank = {t: i for i, t in enumerate(settings(datasette, database).get("table_order", []))}
    for uses in info["uses"].values():  # a span's kind is the first table, in reading order, that uses it
        uses.sort(key=lambda u: (rank.get(u["table"], len(rank)), u["table"], str(u["id"])))
    if TEXTS in tables:
        for row in await _rows(db, "select source_id, text from source_texts"):
            info["texts"][row["source_id"]] = row["text"]
    if SENTENCES in tables:
        columns = tables[SENTENCES]["columns"]
        extra = ", words_excused, reason" if {"words_excused", "reason"} <= set(columns) else ""
        for row in await _rows(db, f"select sentence_id, source_id, number, start, [end]{extra} from sentences "
                                   "order by source_id, start"):
            info["sentences"].setdefault(row["source_id"], []).append(row)
        info["sentences_excused"] = bool(extra)
    if RETIRED in tables:
        info["retired_columns"] = retired_columns(tables[RETIRED]["columns"], tables[RETIRED]["pks"])
        old = info["retired_columns"]["old"]
        for row in await _rows(db, f"select * from [{RETIRED}]"):
            info["retired"][str(row[old])] = row
    if SOURCES in tables and "title" in tables[SOURCES]["columns"]:
        for row in await _rows(db, "select source_id, title from sources"):
            info["labels"][(SOURCES, row["source_id"])] = row["title"]
    return info


def _is_shadow(conn, name: str) -> bool:
    """FTS index tables (and their shadow tables) are not tables a reader browses."""
    row = conn.execute("select sql from sqlite_master where name = ?", [name]).fetchone()
    sql = (row[0] or "") if row else ""
    return "VIRTUAL TABLE" in sql.upper() or bool(re.search(r"_fts(_\w+)?$", name))


def retired_columns(columns: list[str], pks: list[str]) -> dict:
    """The retired-ID table's columns by role: the old ID, the version that retired it, its replacements
    and the reason, found by name (`*replac*`, `*version*`, `*reason*`; the old ID is the primary key)."""
    def find(word):
        return next((c for c in columns if word in c.lower()), None)
    old = pks[0] if len(pks) == 1 else next((c for c in columns if c.lower() in ("old_id", "retired_id", "id")),
                                            columns[0])
    return {"old": old, "version": find("version"), "replacements": find("replac"), "reason": find("reason")}


# ---------------------------------------------------------------------------------------------
# URLs

def database_name(datasette, route: str) -> str | None:
    """The name of the database a URL names by its route: the name itself, or `<name>-<hash>` when
    datasette-hashed-urls serves it (the site's links carry that route); None when there is none."""
    try:
        return datasette.get_database(route=route).name
    except KeyError:
        return None


def row_url(datasette, database: str, table: str, pk) -> str:
    return datasette.urls.table(database, table) + "/" + tilde_encode(str(pk))


def bulletin_url(datasette, database: str, source_id: str) -> str:
    return datasette.urls.database(database) + "/-/bulletin/" + tilde_encode(source_id)


def span_target(datasette, info: dict, evidence_id: str) -> str:
    """Where a mark leads: the one fact row that uses the span, else the evidence row (which lists them)."""
    uses = info["uses"].get(evidence_id, [])
    rows = {(u["table"], u["id"]) for u in uses}
    if len(rows) == 1:
        table, pk = next(iter(rows))
        return row_url(datasette, info["database"], table, pk)
    return row_url(datasette, info["database"], EVIDENCE, evidence_id)


def kind(info: dict, evidence_id: str) -> str:
    """The kind of a mark: the first table (in reading order of the tables) that uses the span."""
    uses = info["uses"].get(evidence_id, [])
    return uses[0]["table"] if uses else "unused"


def kind_looks(info: dict, order: list[str]) -> dict[str, dict]:
    """Table -> {"colour", "pattern"} for every table that uses a span, in the tables' reading order:
    no two alike, for any number of tables (see PATTERNS)."""
    used = {u["table"] for uses in info["uses"].values() for u in uses}
    ranked = [t for t in order if t in used] + sorted(used - set(order))
    looks = {}
    for i, table in enumerate(ranked):
        pattern, turn = i % len(PATTERNS), i // len(PATTERNS)
        sharing = len(range(pattern, len(ranked), len(PATTERNS)))  # tables with this pattern
        hue = (turn * 360 / sharing + pattern * 135) % 360
        looks[table] = {"colour": f"hsl({hue:.0f}, 75%, 72%)", "pattern": PATTERNS[pattern]}
    return looks


# ---------------------------------------------------------------------------------------------
# The annotated text

def annotate(text: str, layers: list[dict]) -> Markup:
    """`text` with every layer (a dict: start, end, open, close) wrapped around its characters.

    Layers nest by (start, -end): a layer that overlaps another without nesting is closed and
    reopened around the other (its pieces carry the same attributes), so the HTML stays well formed
    and every character keeps all the layers covering it. Each run of text inside a layer with a
    `href` is a link to the innermost such layer's target. Only the text's own characters are
    written between the tags: the page read as text is the text."""
    order = sorted(range(len(layers)), key=lambda i: (layers[i]["start"], -layers[i]["end"], i))
    cuts = sorted({0, len(text)} | {layers[i]["start"] for i in order} | {layers[i]["end"] for i in order})
    out, stack, opened = [], [], set()
    for a, b in zip(cuts, cuts[1:]):
        if a == b:
            continue
        covering = [i for i in order if layers[i]["start"] <= a and layers[i]["end"] >= b]
        keep = 0
        while keep < len(stack) and keep < len(covering) and stack[keep] == covering[keep]:
            keep += 1
        for i in reversed(stack[keep:]):
            out.append(layers[i]["close"])
        for i in covering[keep:]:
            out.append(layers[i]["open"](first=i not in opened))
            opened.add(i)
        stack = covering
        piece = escape(text[a:b])
        href = next((layers[i]["href"] for i in reversed(covering) if layers[i].get("href")), None)
        # A run of spaces alone is no link: a link without words names nothing to a screen reader.
        out.append(Markup('<a href="{}">{}</a>').format(href, piece) if href and piece.strip() else piece)
    for i in reversed(stack):
        out.append(layers[i]["close"])
    return Markup("").join(out)


def _mark_layer(datasette, info: dict, ev: dict, looks: dict) -> dict:
    evidence_id = ev["evidence_id"]
    uses = info["uses"].get(evidence_id, [])
    used_by = "; ".join(f"{u['table']} {u['id']}" for u in uses) or "no row"
    table = kind(info, evidence_id)

    def open_tag(first: bool) -> Markup:
        look = looks.get(table, UNUSED_LOOK)
        return Markup('<mark{} class="span k-{}{}" data-evidence="{}" data-table="{}" style="--k: {}; --p: {}" '
                      'title="{}: {}">').format(
            Markup(' id="ev-{}"').format(evidence_id) if first else "", table, "" if first else " cont",
            evidence_id, table, look["colour"], look["pattern"], evidence_id, used_by)

    return {"start": ev["start"], "end": ev["end"], "open": open_tag, "close": Markup("</mark>"),
            "href": span_target(datasette, info, evidence_id)}


def _uncoded_layer(sentence: dict) -> dict:
    def open_tag(first: bool) -> Markup:
        return Markup('<span{} class="uncoded" data-sentence="{}" title="Not coded: {}">').format(
            Markup(' id="sentence-{}"').format(sentence["number"]) if first else "",
            sentence["sentence_id"], sentence["reason"] or "no reason recorded")

    return {"start": sentence["start"], "end": sentence["end"], "open": open_tag, "close": Markup("</span>")}


def uncoded(info: dict, source_id: str) -> list[dict]:
    if not info.get("sentences_excused"):
        return []
    return [s for s in info["sentences"].get(source_id, []) if s["words_excused"]]


async def bulletin_page(datasette, request) -> Response:
    database = database_name(datasette, tilde_decode(request.url_vars["database"]))
    source_id = tilde_decode(request.url_vars["source_id"])
    if database is None:
        raise NotFound("Database not found")
    info = await site(datasette, database)
    if source_id not in info["texts"]:
        raise NotFound(f"No archived text for source {source_id}")
    key = ("bulletin", source_id)
    if key not in info:
        info[key] = bulletin_context(datasette, info, source_id, settings(datasette, database))
    context = {**info[key], "database": database}
    return Response.html(await datasette.render_template("bulletin.html", context, request=request,
                                                         view_name="bulletin"))


def bulletin_context(datasette, info: dict, source_id: str, config: dict) -> dict:
    database = info["database"]
    text = info["texts"][source_id]
    spans = [ev for ev in info["evidence"].values() if ev["source_id"] == source_id]
    looks = kind_looks(info, config.get("table_order", []))  # the package's: a table looks alike in every bulletin
    layers = [_mark_layer(datasette, info, ev, looks) for ev in spans]
    left = uncoded(info, source_id)
    layers += [_uncoded_layer(s) for s in left]
    spans_list = [{
        "evidence_id": ev["evidence_id"], "quote": ev["quote"], "start": ev["start"], "end": ev["end"],
        "url": row_url(datasette, database, EVIDENCE, ev["evidence_id"]), "kind": kind(info, ev["evidence_id"]),
        "rows": [{**u, "url": row_url(datasette, database, u["table"], u["id"])}
                 for u in info["uses"].get(ev["evidence_id"], [])],
    } for ev in spans]
    return {
        "source_id": source_id,
        "title": info["labels"].get((SOURCES, source_id)) or source_id,
        "source_url": row_url(datasette, database, SOURCES, source_id) if (SOURCES, source_id) in info["labels"]
        else None,
        "annotated": annotate(text, layers),
        # The tables whose spans this text holds (another bulletin's tables are not this one's legend).
        "legend": [{"table": t, "colour": look["colour"], "pattern": look["pattern"],
                    "url": datasette.urls.table(database, t), "count": count}
                   for t, look in looks.items() if (count := sum(1 for s in spans_list if s["kind"] == t))],
        "spans": spans_list,
        "coded_recorded": bool(info.get("sentences_excused")),
        "uncoded": [{"number": s["number"], "sentence_id": s["sentence_id"], "reason": s["reason"],
                     "text": text[s["start"]:s["end"]],
                     "url": row_url(datasette, database, SENTENCES, s["sentence_id"])} for s in left],
        "characters": len(text),
    }


# ---------------------------------------------------------------------------------------------
# Rows in context

def context_window(info: dict, source_id: str, start: int, end: int) -> tuple[int, int]:
    """From the start of the sentence before the span to the end of the sentence after it
    (sentence offsets read from the database); the whole text when there are no sentences."""
    sentences = info["sentences"].get(source_id, [])
    inside = [i for i, s in enumerate(sentences) if s["start"] < end and s["end"] > start]
    if not inside:
        return 0, len(info["texts"].get(source_id, ""))
    first, last = max(inside[0] - 1, 0), min(inside[-1] + 1, len(sentences) - 1)
    return sentences[first]["start"], sentences[last]["end"]


def in_context(info: dict, evidence_id: str) -> Markup | None:
    ev = info["evidence"].get(evidence_id)
    text = info["texts"].get(ev["source_id"]) if ev else None
    if text is None:
        return None
    a, b = context_window(info, ev["source_id"], ev["start"], ev["end"])
    return Markup("{}<mark>{}</mark>{}").format(text[a:ev["start"]], text[ev["start"]:ev["end"]], text[ev["end"]:b])


async def row_context(datasette, request, database: str, table: str) -> dict:
    info = await site(datasette, database)
    spec = info["tables"].get(table)
    if not spec or len(spec["pks"]) != 1:
        return {}
    pk_values = urlsafe_components(request.url_vars["pks"])
    if len(pk_values) != 1:
        return {}
    pk = pk_values[0]
    db = datasette.get_database(database)
    columns = [c for c, other in spec["fks"].items() if other == EVIDENCE]
    out = {"evidence_in_context": [], "used_by": [], "bulletin_links": []}
    if columns:
        # The row's evidence IDs, read once per row (the database is immutable; at most one entry per row).
        kept = info.setdefault("row_evidence", {})
        row = kept.get((table, pk))
        if row is None:
            found = (await db.execute(f"select {', '.join(f'[{c}]' for c in columns)} from [{table}] "
                                      f"where [{spec['pks'][0]}] = ?", [pk])).first()
            row = dict(zip(columns, found)) if found else None
            if row is not None:  # only rows that exist: a URL cannot add entries
                kept[(table, pk)] = row
        for column in columns:
            evidence_id = row[column] if row else None
            ev = info["evidence"].get(evidence_id)
            if not ev:
                continue
            out["evidence_in_context"].append({
                "column": column, "evidence_id": evidence_id, "quote": ev["quote"],
                "start": ev["start"], "end": ev["end"],
                "url": row_url(datasette, database, EVIDENCE, evidence_id),
                "context": in_context(info, evidence_id),
                "bulletin_url": bulletin_url(datasette, database, ev["source_id"]) + f"#ev-{evidence_id}"
                if ev["source_id"] in info["texts"] else None})
    if table == EVIDENCE:
        ev = info["evidence"].get(pk)
        out["used_by"] = [{**u, "url": row_url(datasette, database, u["table"], u["id"])}
                          for u in info["uses"].get(pk, [])]
        if ev:
            out["evidence_in_context"].append({
                "column": "evidence_id", "evidence_id": pk, "quote": ev["quote"], "start": ev["start"],
                "end": ev["end"], "url": None, "context": in_context(info, pk),
                "bulletin_url": bulletin_url(datasette, database, ev["source_id"]) + f"#ev-{pk}"
                if ev["source_id"] in info["texts"] else None})
    if table in (SOURCES, TEXTS) and pk in info["texts"]:
        out["bulletin_links"].append({"title": info["labels"].get((SOURCES, pk)) or pk,
                                      "url": bulletin_url(datasette, database, pk)})
    return out


# ---------------------------------------------------------------------------------------------
# Settings written by scripts/outputs/build_datasette_metadata.py

def settings(datasette, database: str, table: str | None = None) -> dict:
    return datasette.plugin_config(PLUGIN, database=database, table=table) or {}


async def home_context(datasette, database: str) -> dict:
    """What the home and database pages lead with: the annotated texts, the headline tables, the
    canned queries, then every table in reading order (kept: the database is immutable)."""
    info = await site(datasette, database)
    if "home" not in info:
        info["home"] = _home_context(datasette, database, info)
    return info["home"]


async def home_page(datasette, request) -> Response:
    """The home page, from what is read once: Datasette 0.65's own index view re-reads the metadata
    of every table (FTS index tables included) on each request, several times slower than a table page."""
    await datasette.ensure_permissions(request.actor, ["view-instance"])
    databases = []
    for name, db in datasette.databases.items():
        if name == "_internal":
            continue
        info = await site(datasette, name)
        databases.append({"name": name, "tables_count": len(info["tables"]), "home": await home_context(datasette, name)})
    context = {"metadata": datasette.metadata() or {}, "databases": databases,
               "provenance_home": [d["home"] for d in databases]}
    return Response.html(await datasette.render_template("index.html", context, request=request, view_name="index"))


def _home_context(datasette, database: str, info: dict) -> dict:
    config = settings(datasette, database)
    meta = datasette.metadata(database=database) or {}
    tables_meta = meta.get("tables", {})
    names = list(info["tables"])
    order = [t for t in config.get("table_order", []) if t in info["tables"]] + \
        sorted(set(names) - set(config.get("table_order", [])))
    headline = set(config.get("headline_tables", []))

    def entry(t):
        return {"name": t, "title": tables_meta.get(t, {}).get("title") or t,
                "description": tables_meta.get(t, {}).get("description", ""),
                "url": datasette.urls.table(database, t), "searchable": bool(info["tables"][t]["fts"])}
    return {
        "database": database,
        "url": datasette.urls.database(database),
        "bulletins": [{"title": info["labels"].get((SOURCES, sid)) or sid, "url": bulletin_url(datasette, database, sid)}
                      for sid in info["texts"]],
        "headline": [entry(t) for t in config.get("headline_tables", []) if t in info["tables"]],
        "tables": [entry(t) for t in order if t not in headline],
        "queries": [{"name": name, "title": q.get("title") or name, "description": q.get("description", ""),
                     "url": datasette.urls.query(database, name)}
                    for name, q in (meta.get("queries") or {}).items()],
    }


# ---------------------------------------------------------------------------------------------
# Hooks

@hookimpl
def register_routes(datasette):
    return [(r"^/$", home_page), (r"^/(?P<database>[^/]+)/-/bulletin/(?P<source_id>[^/]+)$", bulletin_page)]


@hookimpl
def sitemap_extra_paths(datasette, request):
    """The annotated bulletins, for /sitemap.xml (site/plugins/publishing.py)."""
    async def inner():
        paths = []
        for name, db in datasette.databases.items():
            if name != "_internal" and not db.is_mutable:
                paths += [bulletin_url(datasette, name, sid) for sid in (await site(datasette, name))["texts"]]
        return paths
    return inner


@hookimpl
def render_cell(value, column, table, database, datasette):
    """A foreign-key value shown as a link to its row, with the row's label (Datasette 0.65 does
    this on table pages only; an already expanded value is left to Datasette)."""
    if table is None or value is None or isinstance(value, (dict, bytes)):
        return None

    async def inner():
        info = await site(datasette, database)
        other = info["tables"].get(table, {}).get("fks", {}).get(column)
        if other is None or (other, value) not in info["labels"]:
            return None
        label = info["labels"][(other, value)]
        url = row_url(datasette, database, other, value)
        if label is None or str(label) == str(value):
            return Markup('<a href="{}">{}</a>').format(url, value)
        return Markup('<a href="{}">{}</a>&nbsp;<em>{}</em>').format(url, value, label)
    return inner


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    async def inner():
        out = {}
        if database is None or request is None:
            return out
        try:
            datasette.get_database(database)
        except KeyError:
            return out
        if view_name == "row" and table:
            out["provenance_row"] = await row_context(datasette, request, database, table)
        elif view_name == "table" and table:
            info = await site(datasette, database)
            spec = info["tables"].get(table)
            config = settings(datasette, database)
            if spec is not None:
                out["canonical_file"] = config.get("canonical_files", {}).get(table)
                if request.args.get("_search") and not spec["fts"]:
                    out["search_unavailable"] = search_message(datasette, info, database, table)
        elif view_name == "database":
            out["provenance_home"] = [await home_context(datasette, database)]
        return out
    return inner


def search_message(datasette, info: dict, database: str, table: str) -> dict:
    searchable = [t for t, spec in info["tables"].items() if spec["fts"]]
    return {"text": f"The table {table} has no full-text search: the _search parameter is not applied here.",
            "tables": [{"name": t, "url": datasette.urls.table(database, t)} for t in searchable]}


@hookimpl
def handle_exception(datasette, request, exception):
    """A row URL naming a retired ID answers with where the row went, also when its table is one a
    release had and this version retired (the query then fails on the missing table)."""
    if request is None:
        return None
    url_vars = request.scope.get("url_route", {}).get("kwargs", {})
    if not {"database", "table", "pks"} <= set(url_vars):
        return None

    async def inner():
        database = database_name(datasette, tilde_decode(url_vars["database"]))
        table = tilde_decode(url_vars["table"])
        if database is None:
            return None
        info = await site(datasette, database)
        if not isinstance(exception, NotFound) and table in info["tables"]:
            return None
        pk_values = urlsafe_components(url_vars["pks"])
        retired = info["retired"].get(str(pk_values[0])) if len(pk_values) == 1 else None
        if retired is None:
            return None
        roles = info["retired_columns"]
        raw = retired.get(roles["replacements"]) if roles["replacements"] else None
        replacements = []
        for new_id in [r for r in re.split(r"[\s,;|]+", str(raw or "")) if r]:
            where = table if (table, new_id) in info["labels"] else info["ids"].get(new_id)
            if where is None and new_id in info["retired"]:  # retired in turn: its own page says where it went
                where = info["retired"][new_id].get("table_name")
            replacements.append({"id": new_id, "table": where,
                                 "label": info["labels"].get((where, new_id)) if where else None,
                                 "url": row_url(datasette, database, where, new_id) if where else None})
        context = {"database": database, "table": table, "old_id": pk_values[0],
                   "version": retired.get(roles["version"]) if roles["version"] else None,
                   "reason": retired.get(roles["reason"]) if roles["reason"] else None,
                   "replacements": replacements,
                   "retired_url": row_url(datasette, database, RETIRED, pk_values[0])
                   if (RETIRED, pk_values[0]) in info["labels"] else None}
        if url_vars.get("format") == "json":
            return Response.json({"ok": False, "status": 410, "error": f"{pk_values[0]} was retired",
                                  **{k: context[k] for k in ("table", "old_id", "version", "reason")},
                                  "replacements": [{k: r[k] for k in ("id", "table", "url")} for r in replacements]},
                                 status=410)
        html = await datasette.render_template("retired.html", context, request=request, view_name="retired")
        return Response.html(html, status=410)
    return inner


@hookimpl
def asgi_wrapper(datasette):
    """CSV exports of a table write booleans as the package does (true/false); `_search` on a table
    without full-text search is answered 400 with a message for JSON and CSV (HTML pages say so)."""
    def wrap(app):
        async def wrapped(scope, receive, send):
            if scope["type"] != "http" or scope.get("method") != "GET":
                return await app(scope, receive, send)
            match = re.match(r"^/([^/]+)/([^/]+)\.(csv|json)$", scope["path"])
            if not match:
                return await app(scope, receive, send)
            database, table, fmt = (database_name(datasette, tilde_decode(match[1])), tilde_decode(match[2]), match[3])
            if database is None:
                return await app(scope, receive, send)
            info = await site(datasette, database)
            spec = info["tables"].get(table)
            if spec is None:
                return await app(scope, receive, send)
            args = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            if args.get("_search") and not spec["fts"]:
                message = search_message(datasette, info, database, table)
                body = json.dumps({"ok": False, "error": message["text"] + " Tables with search: "
                                   + ", ".join(t["name"] for t in message["tables"]), "status": 400}).encode()
                return await _send(send, 400, "application/json; charset=utf-8", body)
            booleans = settings(datasette, database, table).get("boolean_columns")
            if fmt != "csv" or booleans is None:  # not a table of the package
                return await app(scope, receive, send)
            return await _csv_as_published(app, scope, receive, send, set(booleans))
        return wrapped
    return wrap


async def _send(send, status: int, content_type: str, body: bytes, headers=None):
    headers = [(k, v) for k, v in (headers or []) if k.lower() not in (b"content-length", b"content-type",
                                                                        b"transfer-encoding")]
    await send({"type": "http.response.start", "status": status,
                "headers": headers + [(b"content-type", content_type.encode()),
                                      (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _csv_as_published(app, scope, receive, send, booleans: set[str]):
    """Datasette's CSV export of a package table, written as the package writes its CSV files:
    booleans true/false (Datasette writes the stored 1/0) and LF line ends."""
    start, chunks = {}, []

    async def collect(message):
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
    await app(scope, receive, collect)
    body = b"".join(chunks)
    if start.get("status") != 200:
        await send(start)
        await send({"type": "http.response.body", "body": body})
        return
    content_type = dict(start.get("headers", [])).get(b"content-type", b"text/plain; charset=utf-8").decode()
    rows = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
    if rows:
        wanted = [i for i, name in enumerate(rows[0]) if name in booleans]
        for row in rows[1:]:
            for i in wanted:
                if i < len(row):
                    row[i] = {"1": "true", "0": "false"}.get(row[i], row[i])
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(rows)
    await _send(send, 200, content_type, out.getvalue().encode("utf-8"), start.get("headers"))
