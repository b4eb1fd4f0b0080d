"""The site's provenance pages (site/plugins/, site/templates/), in process with Datasette's own
client: the annotated bulletin, every row in its context, the home page, the retired-ID page, and
escaping. A small fixture database covers what the package does not hold (yet): hostile quotes,
overlapping spans, uncoded sentences with their reason, retired IDs."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import weakref
from html.parser import HTMLParser
from urllib.parse import quote as urlquote, urlsplit

import pytest
import sqlite_utils
from conftest import BULLETIN as ARCHIVED, ROOT, datasette_for, read_table

PACKAGE = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
DB = PACKAGE["name"]
TABLES = {r["name"]: r for r in PACKAGE["resources"] if r.get("type") == "table"}
# Every source with an archived text has its annotated bulletin: the package's, whichever and however
# many it holds. SOURCE_ID is the archived bulletin's, whose rows some tests name.
TEXTS = {row["source_id"]: (ROOT / row["path"]).read_text(encoding="utf-8")
         for row in read_table("sources") if row["path"]}
SOURCE_ID = next(row["source_id"] for row in read_table("sources") if row["path"] and ARCHIVED in row["path"])
BULLETIN = f"/{DB}/-/bulletin/{SOURCE_ID}"


def bulletin_path(source_id: str) -> str:
    return f"/{DB}/-/bulletin/{source_id}"


ANSWERS = weakref.WeakKeyDictionary()  # an in-process site -> {path: its answer}


def get(ds, path):
    """GET `path` from an in-process site. Each site here is immutable (a read-only database,
    fixed metadata, no writes allowed), so a GET has one answer: a page a test has already
    fetched is reused by the next test rather than rendered again."""
    answers = ANSWERS.setdefault(ds, {})
    if path not in answers:
        answers[path] = asyncio.run(ds.client.get(path))
    return answers[path]


def page(ds, path) -> str:
    response = get(ds, path)
    assert response.status_code == 200, f"{path}: {response.status_code} {response.text[:300]}"
    return response.text


class Page(HTMLParser):
    """What a test reads from a page: the links, the text inside an element with a given id, and
    every <mark> (its attributes and the text inside it, nested marks included)."""

    def __init__(self, html: str, text_id: str | None = None):
        super().__init__(convert_charrefs=True)
        self.text_id, self.depth, self.text = text_id, 0, []
        self.links, self.marks, self.open_marks, self.ids = [], [], [], set()
        self.feed(html)
        self.text = "".join(self.text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if self.depth:
            self.depth += tag not in ("br", "img", "input", "meta", "link")
        elif self.text_id and attrs.get("id") == self.text_id:
            self.depth = 1
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "mark":
            mark = {**attrs, "text": []}
            self.marks.append(mark)
            self.open_marks.append(mark)

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1
        if tag == "mark":
            self.open_marks.pop()

    def handle_data(self, data):
        if self.depth:
            self.text.append(data)
        for mark in self.open_marks:
            mark["text"].append(data)


def internal(links) -> set[str]:
    return {urlsplit(link)._replace(fragment="").geturl() for link in links
            if link.startswith("/") and not link.startswith("//")}


def check_links(ds, links, seen: set):
    for link in sorted(internal(links) - seen):
        seen.add(link)
        assert get(ds, link).status_code == 200, f"link {link} does not answer 200"


@pytest.fixture(scope="session")
def checked_links():
    return set()


@pytest.fixture(scope="session")
def bulletin(ds) -> Page:
    return Page(page(ds, BULLETIN), text_id="bulletin-text")


@pytest.fixture(scope="session")
def bulletins(ds) -> dict[str, Page]:
    """Every annotated bulletin, by its source_id."""
    return {source_id: Page(page(ds, bulletin_path(source_id)), text_id="bulletin-text") for source_id in TEXTS}


def spans_of(evidence: dict, source_id: str) -> dict[str, dict]:
    """The evidence rows that quote the text of `source_id`."""
    return {evidence_id: row for evidence_id, row in evidence.items() if row["source_id"] == source_id}


# ---------------------------------------------------------------------------------------------
# The annotated bulletin

@pytest.mark.parametrize("source_id", TEXTS)
def test_bulletin_read_as_text_is_the_archived_text(bulletins, source_id):
    assert bulletins[source_id].text == TEXTS[source_id]


@pytest.mark.parametrize("source_id", TEXTS)
def test_every_evidence_span_is_marked_and_every_mark_equals_its_quote(bulletins, evidence, source_id):
    """Each bulletin marks every span of its own text, and no other bulletin's."""
    bulletin, spans = bulletins[source_id], spans_of(evidence, source_id)
    assert spans, f"no evidence quotes {source_id}"
    pieces: dict[str, str] = {}
    for mark in bulletin.marks:
        pieces[mark["data-evidence"]] = pieces.get(mark["data-evidence"], "") + "".join(mark["text"])
    assert set(pieces) == set(spans)
    for evidence_id, text in pieces.items():
        assert text == spans[evidence_id]["quote"], evidence_id
        assert f"ev-{evidence_id}" in bulletin.ids, f"no anchor for {evidence_id}"


def mark_end(html: str, start: int) -> int:
    """Where the <mark> that opens at `start` closes, past the marks of the words inside it."""
    depth, at = 0, start
    for tag in re.finditer(r"<mark\b|</mark>", html[start:]):
        depth += 1 if tag.group() == "<mark" else -1
        at = start + tag.end()
        if depth < 0:
            return at
    return at


@pytest.mark.parametrize("source_id", TEXTS)
def test_each_mark_leads_to_the_rows_that_use_it(ds, tables, evidence, source_id):
    spans = spans_of(evidence, source_id)
    uses: dict[str, set] = {}
    for name, resource in TABLES.items():
        if name == "claims":
            continue  # the index of the fact kinds' rows: the words lead to the typed row
        pk = resource["schema"]["primaryKey"][0]
        for fk in resource["schema"].get("foreignKeys", []):
            if fk["reference"].get("resource") == "evidence":
                for row in tables[name]:
                    if row[fk["fields"][0]] in spans:
                        uses.setdefault(row[fk["fields"][0]], set()).add(f"/{DB}/{name}/{row[pk]}")
    assert uses, f"no row uses the words of {source_id}"
    html = page(ds, bulletin_path(source_id))
    for evidence_id, rows in uses.items():
        # The words link to the one row that uses them, or to the evidence row that lists them all.
        target = next(iter(rows)) if len(rows) == 1 else f"/{DB}/evidence/{evidence_id}"
        assert f'data-evidence="{evidence_id}"' in html
        start = html.index(f'id="ev-{evidence_id}"')
        assert f'<a href="{target}">' in html[start:mark_end(html, start)], evidence_id
        side = html[html.index(f'id="list-{evidence_id}"'):]
        side = side[:side.index("</li>")]
        assert all(f'href="{row}"' in side for row in rows), f"the side list misses rows of {evidence_id}"


def test_the_3800_figure_leads_to_its_personnel_row(bulletin):
    (figure,) = [m for m in bulletin.marks if "3,800" in "".join(m["text"]) and "k-personnel" in m["class"]]
    assert figure["data-evidence"] == "met-2017-05-24-804-1005"
    assert f"/{DB}/personnel/met-2017-05-24-military-mobilisable" in bulletin.links


@pytest.mark.parametrize("source_id", TEXTS)
def test_legend_names_each_table_that_uses_a_span(ds, bulletins, source_id):
    """The legend names the tables whose spans this bulletin marks, each with its number of spans, and
    no other table (one that uses only other bulletins' words)."""
    html = page(ds, bulletin_path(source_id))
    legend = html[html.index('<div class="legend">'):html.index('<div class="bulletin-layout">')]
    spans = {}  # a span's kind, from its first piece (the one with the anchor)
    for mark in bulletins[source_id].marks:
        if "id" in mark:
            (kind,) = [c.split("k-")[1] for c in mark["class"].split() if c.startswith("k-")]
            spans[mark["data-evidence"]] = kind
    counts = {kind: list(spans.values()).count(kind) for kind in set(spans.values())}
    listed = dict(re.findall(r'<li data-table="(\w+)">.*?</a> \((\d+) spans?\)', legend))
    assert listed == {kind: str(count) for kind, count in counts.items()}
    for kind in counts:
        assert f'href="/{DB}/{kind}"' in legend, kind


@pytest.mark.parametrize("source_id", TEXTS)
def test_every_link_of_the_bulletin_answers(ds, bulletins, source_id, checked_links):
    check_links(ds, bulletins[source_id].links, checked_links)


@pytest.mark.parametrize("source_id", TEXTS)
def test_bulletin_is_one_click_from_home_database_and_source_pages(ds, source_id):
    for path in ("/", f"/{DB}", f"/{DB}/sources/{source_id}", f"/{DB}/source_texts/{source_id}"):
        assert f'href="{bulletin_path(source_id)}' in page(ds, path), path


def test_unknown_bulletin_is_404(ds):
    assert get(ds, f"/{DB}/-/bulletin/no-such-source").status_code == 404
    assert get(ds, "/no-such-db/-/bulletin/x").status_code == 404


def test_a_client_error_prints_no_traceback(ds, capfd):
    """A mistyped URL is answered, not logged as a fault with every local variable (which took
    Datasette's handler 0.3 to 0.8 s a request)."""
    capfd.readouterr()
    for path in (f"/{DB}/personnel/no-such-row", f"/{DB}/no-such-table", f"/{DB}/-/bulletin/no-such-source"):
        response = asyncio.run(ds.client.get(path))  # a new request: what it prints is the subject
        assert response.status_code == 404 and "<title>Error 404</title>" in response.text, path
    printed = capfd.readouterr()
    assert "Traceback" not in printed.out + printed.err and "NotFound" not in printed.out + printed.err


# ---------------------------------------------------------------------------------------------
# Rows in context

def evidence_columns(resource):
    return [fk["fields"][0] for fk in resource["schema"].get("foreignKeys", [])
            if fk["reference"].get("resource") == "evidence"]


@pytest.mark.parametrize("table", [n for n, r in TABLES.items() if evidence_columns(r)])
def test_row_pages_show_each_quote_marked_in_its_sentences(ds, table, tables, evidence, checked_links):
    resource = TABLES[table]
    pk = resource["schema"]["primaryKey"][0]
    labels = {}
    for fk in resource["schema"].get("foreignKeys", []):
        other = fk["reference"].get("resource") or table
        label = {"evidence": "quote", "sources": "title"}.get(other)
        labels[fk["fields"][0]] = (other, label)
    for row in tables[table]:
        html = page(ds, f"/{DB}/{table}/{urlquote(row[pk])}")
        parsed = Page(html)
        for column in evidence_columns(resource):
            if not row[column]:
                continue
            ev = evidence[row[column]]
            source_text = TEXTS[ev["source_id"]]  # the text the quote is from
            assert f'<a class="evidence-link" href="/{DB}/evidence/{ev["evidence_id"]}">' in html
            marks = [m for m in parsed.marks if not m.get("data-evidence")]
            assert any("".join(m["text"]) == ev["quote"] for m in marks), f"{table} {row[pk]}: quote not marked"
            start, end = int(ev["start"]), int(ev["end"])
            before, after = source_text[:start].rstrip(), source_text[end:].lstrip()
            # At least the sentence before and the one after, exactly as archived.
            context = next(b for b in html.split('<blockquote class="in-context">')[1:]
                           if f"<mark>{escape_text(ev['quote'])}</mark>" in b)
            context = context.split("</blockquote>")[0]
            shown = unescape_text(context.replace("<mark>", "").replace("</mark>", ""))
            assert shown in source_text and len(shown) > len(ev["quote"])
            if before:
                assert source_text.index(shown) < start - 1, f"{table} {row[pk]}: no sentence before"
            if after.strip(".!?”’\"' "):  # a sentence follows (not only the closing stop or quotation mark)
                assert source_text.index(shown) + len(shown) > end + 1, f"{table} {row[pk]}: no sentence after"
        for column, (other, label) in labels.items():
            if row[column]:
                assert f'<a href="/{DB}/{other}/{row[column]}">' in html, f"{table}.{column} not linked"
        check_links(ds, parsed.links, checked_links)


def escape_text(text: str) -> str:
    from markupsafe import escape
    return str(escape(text))


def unescape_text(text: str) -> str:
    import html
    return html.unescape(text)


def test_every_row_page_answers_and_its_links_too(ds, site_files, checked_links):
    """Every row page of every table answers; the links of each table's first row page too."""
    metadata = json.loads(site_files["metadata"].read_text(encoding="utf-8"))
    for table in metadata["databases"][DB]["tables"]:
        data = get(ds, f"/{DB}/{table}.json?_size=max&_nofacet=1").json()
        (pk,) = data["primary_keys"]
        for number, row in enumerate(data["rows"]):
            html = page(ds, f"/{DB}/{table}/{urlquote(str(row[data['columns'].index(pk)]), safe='')}")
            if number == 0:
                check_links(ds, Page(html).links, checked_links)


def test_row_page_foreign_keys_carry_their_labels(ds):
    html = page(ds, f"/{DB}/personnel/met-2017-05-24-military-mobilisable")
    assert (f'<a href="/{DB}/events/met-2017-05-24-temperer-activated">met-2017-05-24-temperer-activated</a>'
            "&nbsp;<em>") in html
    quote = next(r["quote"] for r in read_table("evidence") if r["evidence_id"] == "met-2017-05-24-804-1005")
    assert f'<a href="/{DB}/evidence/met-2017-05-24-804-1005">met-2017-05-24-804-1005</a>&nbsp;<em>{quote}</em>' \
        in html


def test_evidence_row_lists_the_rows_that_use_it(ds, tables, checked_links):
    html = page(ds, f"/{DB}/evidence/met-2017-05-24-160-285")
    section = html[html.index('<section class="used-by">'):]
    section = section[:section.index("</section>")]
    users = [(name, row[TABLES[name]["schema"]["primaryKey"][0]])
             for name, resource in TABLES.items() for column in evidence_columns(resource)
             for row in tables[name] if row[column] == "met-2017-05-24-160-285" and name != "claims"]
    assert len(users) >= 2
    for name, pk in users:
        assert f'href="/{DB}/{name}/{pk}"' in section
    check_links(ds, Page(html).links, checked_links)


# ---------------------------------------------------------------------------------------------
# The home page, search, exports

def test_home_page_leads_with_headline_tables_bulletin_and_queries(ds, site_files, checked_links):
    html = page(ds, "/")
    check_links(ds, Page(html).links, checked_links)
    check_links(ds, Page(page(ds, f"/{DB}")).links, checked_links)
    metadata = json.loads(site_files["metadata"].read_text(encoding="utf-8"))
    settings = metadata["databases"][DB]["plugins"]["provenance"]
    headline = html[html.index('class="bullets headline-tables"'):]
    headline = headline[:headline.index("</ul>")]
    shown = [link.rsplit("/", 1)[1] for link in Page(headline).links]
    assert shown == ["claims", "personnel", "events", "threat_assessments", "contacts", "measures"]  # claims first
    assert shown == settings["headline_tables"]
    assert html.index(BULLETIN) < html.index('class="bullets headline-tables"') < html.index("canned-queries")
    assert html.index('href="/-/codebook"') < html.index('class="bullets headline-tables"')
    for name in metadata["databases"][DB]["queries"]:
        assert f'href="/{DB}/{name}"' in html
    others = html[html.index('class="other-tables"'):]
    others = [link.rsplit("/", 1)[1] for link in Page(others[:others.index("</p>")]).links]
    assert others == [t for t in settings["table_order"] if t not in shown]


def test_search_box_only_where_search_works_and_a_message_elsewhere(ds):
    for table in ("personnel", "events", "organisations", "measures", "evidence", "sentences"):
        assert 'id="_search"' in page(ds, f"/{DB}/{table}"), f"no search on {table}"
    assert page(ds, f"/{DB}/personnel.json?_search=military&_shape=array")
    html = page(ds, f"/{DB}/threat_levels?_search=police")
    assert 'id="_search"' not in html
    assert "The table threat_levels has no full-text search" in html
    response = get(ds, f"/{DB}/threat_levels.json?_search=police")
    assert response.status_code == 400 and "no full-text search" in response.json()["error"]


# ---------------------------------------------------------------------------------------------
# A fixture database: hostile text, overlapping spans, uncoded sentences, retired IDs

HOSTILE = "The chief said “<script>alert('x')</script> & ‘more’” today."
FIXTURE_TEXT = f"Heading & more\n{HOSTILE} Troops stood by.\nAdvice follows here."


@pytest.fixture(scope="session")
def fixture_site(tmp_path_factory):
    path = tmp_path_factory.mktemp("fixture") / "fixture.db"
    db = sqlite_utils.Database(path)
    text = FIXTURE_TEXT
    db["sources"].insert({"source_id": "src", "title": "A <b>bold</b> & “quoted” bulletin"}, pk="source_id")
    db["source_texts"].insert({"source_id": "src", "path": "x.txt", "characters": len(text), "text": text},
                              pk="source_id", foreign_keys=[("source_id", "sources")])
    quote_start = text.index("“")
    spans = [(text.index(HOSTILE), text.index(" Troops")),           # the whole sentence
             (quote_start, text.index("” today") + 1),               # nested: the quoted words
             (text.index("& ‘more’"), text.index(" Troops stood") + 7),  # overlaps the sentence's end
             (0, 7)]
    db["evidence"].insert_all([{"evidence_id": f"src-{a}-{b}", "source_id": "src", "start": a, "end": b,
                                "quote": text[a:b]} for a, b in spans], pk="evidence_id",
                              foreign_keys=[("source_id", "sources")])
    db["facts"].insert_all([
        {"fact_id": "f-sentence", "evidence_id": f"src-{spans[0][0]}-{spans[0][1]}", "note": "a <i>note</i>"},
        {"fact_id": "f-quote", "evidence_id": f"src-{spans[1][0]}-{spans[1][1]}", "note": "quoted"},
        {"fact_id": "f-overlap", "evidence_id": f"src-{spans[2][0]}-{spans[2][1]}", "note": "overlap"},
        {"fact_id": "f-overlap-2", "evidence_id": f"src-{spans[2][0]}-{spans[2][1]}", "note": "overlap again"},
        {"fact_id": "f-heading", "evidence_id": "src-0-7", "note": "heading"},
    ], pk="fact_id", foreign_keys=[("evidence_id", "evidence")])
    cuts = [(0, 14), (15, text.index(" Troops")), (text.index("Troops"), text.index("\nAdvice")),
            (text.index("Advice"), len(text))]
    db["sentences"].insert_all([{"sentence_id": f"src-sentence-{n:02d}", "source_id": "src", "number": n,
                                 "start": a, "end": b, "text": text[a:b], "words_excused": int(n == 4),
                                 "reason": "advice <to> readers & “passengers”" if n == 4 else ""}
                                for n, (a, b) in enumerate(cuts, 1)], pk="sentence_id",
                               foreign_keys=[("source_id", "sources")])
    db["retired_ids"].insert_all([
        {"retired_id": "f-old", "retired_in_version": "2.0.0", "replaced_by": "f-quote f-sentence",
         "reason": "split in two <because> & “why”"},
        {"retired_id": "f-gone", "retired_in_version": "2.0.0", "replaced_by": "", "reason": "not a fact"},
    ], pk="retired_id")
    db.close()
    metadata = {"databases": {"fixture": {"tables": {"evidence": {"label_column": "quote"},
                                                     "facts": {"label_column": "note"}}}}}
    return datasette_for([path], metadata)


def test_fixture_bulletin_escapes_and_keeps_the_text(fixture_site):
    html = page(fixture_site, "/fixture/-/bulletin/src")
    assert "<script>alert" not in html and "<b>bold</b>" not in html and "<to>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html and "&amp; ‘more’" in html
    parsed = Page(html, text_id="bulletin-text")
    assert parsed.text == FIXTURE_TEXT
    quotes = {}
    for mark in parsed.marks:
        quotes[mark["data-evidence"]] = quotes.get(mark["data-evidence"], "") + "".join(mark["text"])
    for evidence_id, text in quotes.items():
        start, end = map(int, evidence_id.split("-")[1:])
        assert text == FIXTURE_TEXT[start:end], evidence_id
    assert len(quotes) == 4
    # The overlapping span is drawn in pieces, closed and reopened where the quote and the sentence
    # it overlaps end; only the first piece carries the anchor.
    pieces = [m for m in parsed.marks if m["data-evidence"].startswith(f"src-{FIXTURE_TEXT.index('& ‘more’')}-")]
    assert len(pieces) == 3 and "id" in pieces[0] and all("cont" in m["class"] and "id" not in m for m in pieces[1:])


def test_fixture_uncoded_sentence_shown_with_its_reason(fixture_site):
    html = page(fixture_site, "/fixture/-/bulletin/src")
    assert 'class="uncoded"' in html and 'id="sentence-4"' in html
    assert "advice &lt;to&gt; readers &amp; “passengers”" in html
    assert html.count("data-sentence=") == 1, "only the uncoded sentence is drawn as uncoded"
    assert '<a href="#sentence-4">Sentence 4</a>' in html, "the list of uncoded sentences links to it"


def test_fixture_without_coded_columns_shows_no_uncoded_list(tmp_path):
    path = tmp_path / "plain.db"
    db = sqlite_utils.Database(path)
    db["source_texts"].insert({"source_id": "s", "text": "One. Two."}, pk="source_id")
    db["evidence"].insert({"evidence_id": "s-0-4", "source_id": "s", "start": 0, "end": 4, "quote": "One."},
                          pk="evidence_id")
    db["sentences"].insert_all([{"sentence_id": "s-1", "source_id": "s", "number": 1, "start": 0, "end": 4},
                                {"sentence_id": "s-2", "source_id": "s", "number": 2, "start": 5, "end": 9}],
                               pk="sentence_id")
    db.close()
    html = page(datasette_for([path]), "/plain/-/bulletin/s")
    assert "Sentences with words excused" not in html and 'class="uncoded"' not in html
    assert Page(html, text_id="bulletin-text").text == "One. Two."


def test_fixture_row_page_escapes_quote_in_context(fixture_site, checked_links):
    html = page(fixture_site, "/fixture/facts/f-quote")
    assert "<script>alert" not in html and "<i>note</i>" not in html
    quote = FIXTURE_TEXT[FIXTURE_TEXT.index("“"):FIXTURE_TEXT.index("” today") + 1]
    assert f"<mark>{escape_text(quote)}</mark>" in html
    assert "Heading &amp; more" in html and "Troops stood by." in html, "the sentences before and after"
    check_links(fixture_site, Page(html).links, set())


def test_optional_partials_are_included_when_present(fixture_site, tmp_path):
    """_dataset_jsonld.html inside <head> on every page, _cite_row.html on every row page (written
    by another part of the site; the pages work without them)."""
    from scripts.site.serve import TEMPLATES_DIR
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, templates)
    (templates / "_dataset_jsonld.html").write_text('<script type="application/ld+json">{"x": 1}</script>')
    (templates / "_cite_row.html").write_text('<p class="cite-row">Cite this row</p>')
    with_partials = datasette_for([fixture_site.databases["fixture"].path], template_dir=templates)
    for path in ("/", "/fixture", "/fixture/facts", "/fixture/facts/f-quote", "/fixture/-/bulletin/src"):
        html = page(with_partials, path)
        head = html[:html.index("</head>")]
        assert '<script type="application/ld+json">' in head, path
        assert ('<p class="cite-row">' in html) == path.endswith("/f-quote"), path
    assert "ld+json" not in page(fixture_site, "/fixture/facts/f-quote")


def test_fixture_retired_id_page_links_to_replacements(fixture_site):
    response = get(fixture_site, "/fixture/facts/f-old")
    assert response.status_code == 410
    html = response.text
    assert "f-old was retired" in html and "version 2.0.0" in html
    assert "split in two &lt;because&gt; &amp; “why”" in html
    for new in ("f-quote", "f-sentence"):
        assert f'<a href="/fixture/facts/{new}">{new}</a>' in html
        assert get(fixture_site, f"/fixture/facts/{new}").status_code == 200
    answer = get(fixture_site, "/fixture/facts/f-old.json")
    assert answer.status_code == 410
    assert [r["url"] for r in answer.json()["replacements"]] == ["/fixture/facts/f-quote", "/fixture/facts/f-sentence"]
    gone = get(fixture_site, "/fixture/facts/f-gone")
    assert gone.status_code == 410 and "It has no replacement." in gone.text
    assert get(fixture_site, "/fixture/facts/never-existed").status_code == 404


def test_every_retired_id_of_the_package_answers_with_its_replacements(ds):
    """The package's own retired_ids (a 1.0.0 row URL that may be cited): 410 and a link to each
    replacement, which answers."""
    retired = read_table("retired_ids")
    assert retired, "the package records no retired IDs"
    table_of = {}  # every current row ID -> its table (IDs are unique across the package)
    for name, resource in TABLES.items():
        if name in ("claims", "retired_ids"):
            continue  # an index of the fact kinds' rows by their own IDs, and the rows gone
        key = resource["schema"]["primaryKey"]
        if isinstance(key, list) and len(key) == 1:
            key = key[0]
        if isinstance(key, str):
            table_of.update({row[key]: name for row in read_table(name)})
    for row in retired:
        response = get(ds, f"/{DB}/{row['table_name']}/{row['retired_id']}")
        assert response.status_code == 410, row["retired_id"]
        assert f"version {row['version_retired']}" in response.text
        retired_by_id = {r["retired_id"]: r for r in retired}
        for new in row["replacement_ids"].split():
            table = table_of.get(new) or retired_by_id[new]["table_name"]  # a replacement retired in turn
            assert f'href="/{DB}/{table}/{new}"' in response.text, (row["retired_id"], new)
            assert get(ds, f"/{DB}/{table}/{new}").status_code == (200 if new in table_of else 410)


def test_the_codebook_page_is_the_generated_codebook(ds):
    """/-/codebook shows codebook.html's body in the site's layout: the unit of analysis, the rules
    with their worked examples, every table and every allowed value with its label."""
    from scripts.outputs import build_codebook
    html = page(ds, "/-/codebook")
    body = build_codebook.body_of((ROOT / build_codebook.OUTPUT).read_text(encoding="utf-8"))
    assert body.strip() in html
    for heading in ("Unit of analysis", "Coding rules", "Allowed values", "Row rules", "Tables and fields",
                    "What changed between versions"):
        assert re.search(f'<h2 id="[a-z0-9-]+">{heading}</h2>', html), heading
    for table in TABLES:
        assert f"<code>{table}</code>" in html, table
    assert "<code>in_effect</code>: stated as done or holding" in html
