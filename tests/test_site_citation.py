"""Citations on the served site (in process, with site/plugins and site/templates as scripts.site.serve
runs them): the JSON-LD a search engine extracts from the home page, "Cite this row" on row pages,
and the citation downloads."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import extruct
import pytest
from conftest import PUBLIC_ADDRESS, ROOT, read_table
from jinja2 import Environment, FileSystemLoader
from lxml import html as lxml_html
from test_citation_formats import PACKAGE, VERSION, check_dataset_jsonld

from scripts.outputs import build_citation, build_readme
from scripts.site.serve import PLUGINS_DIR, TEMPLATES_DIR

DB = PACKAGE["name"]
TABLES = [r for r in PACKAGE["resources"] if r.get("type") == "table"]
ROW_PATH = f"/{DB}/{build_readme.EXAMPLE_TABLE}/{build_readme.EXAMPLE_ROW}"  # the README's example row


@pytest.fixture(scope="module")
def site(ds):
    """The site as scripts.site.serve runs it (conftest's `ds`: site/plugins and site/templates), without a
    public address."""
    return ds


@pytest.fixture(scope="module")
def public(public_ds):
    """The same site with its public address set (SITE_URL): conftest's `public_ds`."""
    return public_ds


def get(site, path):
    response = asyncio.run(site.client.get(path))
    assert response.status_code == 200, f"{path}: {response.status_code} {response.text[:300]}"
    return response


def jsonld_of(page: str, url: str) -> list[dict]:
    return extruct.extract(page, base_url=url, syntaxes=["json-ld"], uniform=True)["json-ld"]


def test_search_engines_find_the_dataset_on_the_home_page(site):
    page = get(site, "/").text
    (dataset,) = [item for item in jsonld_of(page, "http://localhost/") if item.get("@type") == "Dataset"]
    check_dataset_jsonld(dataset)
    assert dataset == json.loads((ROOT / build_citation.FILES["jsonld"]).read_text(encoding="utf-8"))
    head = lxml_html.fromstring(page).find("head")
    assert len(head.findall('script[@type="application/ld+json"]')) == 1, "the JSON-LD belongs in the <head>"


@pytest.mark.parametrize("path", [f"/{DB}", f"/{DB}/personnel", f"/{DB}/timeline",
                                  ROW_PATH])
def test_every_page_carries_the_json_ld(site, path):
    page = get(site, path).text
    assert [i["version"] for i in jsonld_of(page, "http://localhost" + path)] == [VERSION]


def test_the_json_ld_cannot_close_its_script_element():
    from importlib import util
    spec = util.spec_from_file_location("citation_plugin", PLUGINS_DIR / "citation.py")
    plugin = util.module_from_spec(spec)
    spec.loader.exec_module(plugin)
    hostile = {"name": "</script><script>alert(1)</script><!-- & \u2028"}
    text = str(plugin.script_safe_json(hostile))
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == hostile


def test_the_home_page_links_every_citation_download(site):
    page = lxml_html.fromstring(get(site, "/").text)
    links = {a.get("href"): a.text_content() for a in page.iter("a")}
    for kind in ("bibtex", "ris", "csl"):
        name = Path(build_citation.FILES[kind]).name
        assert links.get(f"/-/citation/{name}") == build_citation.LABELS[kind]


@pytest.mark.parametrize("kind", ["bibtex", "ris", "csl", "jsonld"])
def test_citation_downloads_are_the_committed_files(site, kind):
    path = ROOT / build_citation.FILES[kind]
    response = get(site, f"/-/citation/{path.name}")
    assert response.content == path.read_bytes()
    assert response.headers["content-type"] == f"{build_citation.MEDIA_TYPES[kind]}; charset=utf-8"
    assert f'filename="{path.name}"' in response.headers["content-disposition"]


def test_an_unknown_citation_file_is_not_found(site):
    assert asyncio.run(site.client.get("/-/citation/dataset.exe")).status_code == 404


def cite_block(page: str):
    (block,) = lxml_html.fromstring(page).find_class("cite-row")
    return block


@pytest.mark.parametrize("table", [r["name"] for r in TABLES if read_table(r["name"])])  # a table with no rows has no row page
def test_every_row_page_has_a_cite_block(site, table):
    (resource,) = [r for r in TABLES if r["name"] == table]
    (key,) = resource["schema"]["primaryKey"]
    row_id = read_table(table)[0][key]
    path = f"/{DB}/{table}/{row_id}"
    block = cite_block(get(site, path).text)
    text = block.find_class("cite-row-text")[0].text_content()
    apa = build_citation.render_apa(json.loads((ROOT / build_citation.FILES["csl"]).read_text(encoding="utf-8"))[0])
    # No public address: the citation leaves the URL out rather than give the local one, and says so.
    assert text == f"{apa.rstrip('.')}, table {table}, row {row_id} (version {VERSION})"
    assert block.find_class("cite-row-table")[0].text_content() == table
    assert block.find_class("cite-row-id")[0].text_content() == row_id
    assert block.find_class("cite-row-version")[0].text_content() == VERSION
    assert not block.find_class("cite-row-url") and "localhost" not in lxml_html.tostring(block).decode()
    assert "local address" in block.find_class("cite-row-local")[0].text_content()


def test_with_a_public_address_the_row_citation_gives_its_permanent_url(public):
    block = cite_block(get(public, ROW_PATH).text)
    url = f"{PUBLIC_ADDRESS}{ROW_PATH}"
    assert block.find_class("cite-row-text")[0].text_content().endswith(f"(version {VERSION}), {url}")
    assert block.find_class("cite-row-url")[0].get("href") == url
    assert not block.find_class("cite-row-local")


def test_with_a_public_address_the_json_ld_names_the_site(public):
    (dataset,) = [i for i in jsonld_of(get(public, "/").text, "http://localhost/") if i.get("@type") == "Dataset"]
    committed = json.loads((ROOT / build_citation.FILES["jsonld"]).read_text(encoding="utf-8"))
    assert dataset["url"] == f"{PUBLIC_ADDRESS}/"
    if committed.get("url"):  # the project's home, once it is set, stays named
        assert committed["url"] in dataset["sameAs"]
    assert {k: v for k, v in dataset.items() if k not in ("url", "sameAs")} == \
        {k: v for k, v in committed.items() if k not in ("url", "sameAs")}


def test_the_cite_block_gives_the_apa_line_a_permanent_url_that_resolves_and_the_downloads(public):
    site = public
    path = ROW_PATH
    block = cite_block(get(site, path).text)
    dataset = json.loads((ROOT / build_citation.FILES["csl"]).read_text(encoding="utf-8"))[0]
    assert block.find_class("cite-row-apa")[0].text_content() == build_citation.render_apa(dataset)
    url = block.find_class("cite-row-url")[0].get("href")
    assert get(site, url.removeprefix(PUBLIC_ADDRESS)).status_code == 200
    downloads = {a.text_content(): a.get("href") for a in block.find_class("cite-row-downloads")[0].iter("a")}
    assert downloads == {build_citation.LABELS[k]: f"/-/citation/{Path(build_citation.FILES[k]).name}"
                         for k in ("bibtex", "ris", "csl", "jsonld")}
    assert block.find(".//button") is not None, "a copy button"


def test_the_partials_render_alone_as_the_contract_says():
    """The two partials, rendered with Jinja outside Datasette: nothing without their variables, the
    JSON-LD and the cite block with them."""
    env = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True)
    assert env.get_template("_dataset_jsonld.html").render().strip() == ""
    assert env.get_template("_cite_row.html").render().strip() == ""
    cite = {"apa": "A <b>", "apa_html": "A <i>x</i>", "table": "t", "row_id": "r<1>", "url": "http://h/d/t/r",
            "version": VERSION, "text": "A <b>, table t, row r<1>"}
    page = env.get_template("_cite_row.html").render(cite_row=cite, citation_downloads=[])
    assert "row r&lt;1&gt;" in page and "A <b>" not in page


def test_a_reader_copies_a_row_citation_in_a_real_browser(chromium, served):
    """Chromium on the site as `make serve` runs it: "Copy citation" puts the row's citation on the
    clipboard, with no JavaScript error."""
    path = ROW_PATH
    context = chromium.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(served + path)
    page.locator("button.cite-row-copy").click()
    page.locator(".cite-row-copied", has_text="Copied.").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.locator("#cite-row-text").input_value()
    assert copied.endswith(f"(version {VERSION})"), "no public address: no URL (never the local one)"
    assert not errors, errors
    context.close()
