"""The site as published: `make bundle` writes dist/site/, which is copied to a folder outside the
repository and started with its own `start` script (HOST=127.0.0.1, a free port,
SITE_URL=https://data.example.org), as a container host would run it, then browsed over HTTP:
pages, cache headers, the sitemap, robots.txt and the row citation. No container runtime."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
from importlib import util
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree

import httpx
import pytest
from conftest import PUBLIC_ADDRESS, ROOT, datasette_for, make, read_table, start_bundle

from scripts.site import build_bundle
from scripts.tools import load_check
from scripts.site.serve import HOST, PLUGINS_DIR, SETTINGS, TEMPLATES_DIR, free_port, site_environment

PACKAGE = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
DB = PACKAGE["name"]
TABLES = [r for r in PACKAGE["resources"] if r.get("type") == "table"]
BULLETINS = [row["source_id"] for row in read_table("sources") if row["path"]]  # each has its annotated page
SOURCE_ID = BULLETINS[0]  # the archived bulletin
FAR_FUTURE = "max-age=31536000, public"
ROW_TABLE, ROW_ID = "personnel", "met-2017-05-24-military-mobilisable"


@pytest.fixture(scope="module")
def bundle_build(site_files, release_archive, tmp_path_factory) -> tuple[Path, str]:
    """`make bundle` run on a copy of the repository whose build/ holds the suite's site files and
    whose dist/ the release archive (`-o`: make takes them as built): the bundle's folder and what
    make printed."""
    repo = tmp_path_factory.mktemp("bundle-repo")
    for name in ("Makefile", "requirements.txt", "requirements-nodeps.txt", "requirements-site.txt"):
        shutil.copy2(ROOT / name, repo / name)
    for name in ("schema", "scripts", "site"):
        shutil.copytree(ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
    (repo / "build").mkdir()
    built = {"db": f"build/{DB}.db", "metadata": "build/metadata.json", "inspect": "build/inspect.json"}
    (repo / "dist").mkdir()
    built["release"] = f"dist/{release_archive.name}"
    for key, path in built.items():
        shutil.copy2(release_archive if key == "release" else site_files[key], repo / path)
    printed = make(repo, "bundle", *[arg for path in built.values() for arg in ("-o", path)])
    return repo / "dist" / "site", printed


@pytest.fixture(scope="module")
def bundle(bundle_build, tmp_path_factory) -> Path:
    """The bundle copied to a folder outside the repository."""
    copy = tmp_path_factory.mktemp("elsewhere") / "site"
    shutil.copytree(bundle_build[0], copy, symlinks=False)
    return copy


@pytest.fixture(scope="module")
def public_site(bundle, tmp_path_factory):
    """The bundle's copy started as a container host would, with SITE_URL set: its base URL."""
    process, base = start_bundle(bundle, tmp_path_factory.mktemp("bundle-log") / "site.log", SITE_URL=PUBLIC_ADDRESS)
    yield base
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def client(public_site):
    with httpx.Client(base_url=public_site, timeout=30, follow_redirects=False) as client:
        yield client


def follow(client, path: str) -> tuple[httpx.Response, httpx.Response]:
    """The answer to `path` (a redirect to the hashed route, for the database's pages) and the page."""
    first = client.get(path)
    if first.status_code != 302:
        return first, first
    assert first.headers["cache-control"] == "no-cache", f"{path}: a redirect is not cached"
    return first, client.get(first.headers["location"])


# ---------------------------------------------------------------------------------------------
# The folder

def test_make_bundle_writes_a_folder_that_runs_on_its_own(bundle_build, bundle):
    folder, printed = bundle_build
    assert "scripts.site.build_bundle" in printed and "scripts.outputs.build_db" not in printed
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [".dockerignore", "Dockerfile", f"{DB}.db", "inspect.json", "metadata.json", "plugins", "release",
         "requirements.txt", "server.py", "start", "templates"])
    assert [p.name for p in (folder / "release").iterdir()] == [f"{PACKAGE['name']}-{PACKAGE['version']}.zip"]
    assert sorted(p.name for p in (folder / "plugins").iterdir()) == sorted(p.name for p in PLUGINS_DIR.glob("*.py"))
    assert sorted(p.name for p in (folder / "templates").iterdir()) == sorted(p.name for p in TEMPLATES_DIR.iterdir())
    assert (bundle / "start").stat().st_mode & 0o111 == 0o111, "start is executable"
    assert all(p.stat().st_mode & 0o044 == 0o044 for p in folder.rglob("*")), "every file readable by the container's user"
    start = (folder / "start").read_text(encoding="utf-8")
    assert '"${HOST:-0.0.0.0}"' in start and '"${PORT:-8001}"' in start and "SITE_URL" in start
    assert f"-i {DB}.db --inspect-file inspect.json --metadata metadata.json" in start
    for name, value in SETTINGS.items():
        assert f"--setting {name} " in start, name
    docker = (folder / "Dockerfile").read_text(encoding="utf-8")
    assert "pip install" in docker and "-r requirements.txt" in docker and 'CMD ["./start"]' in docker


def test_the_bundle_requirements_are_pinned_as_the_project_s():
    lines = build_bundle.site_requirements()
    pinned = {line.lower() for path in build_bundle.REQUIREMENTS
              for line in path.read_text(encoding="utf-8").splitlines() if "==" in line and not line.startswith("#")}
    assert lines and all(line.lower() in pinned for line in lines)
    names = {re.split("==", line)[0].lower() for line in lines}
    assert {"datasette", "datasette-hashed-urls", "uvicorn", "jinja2", "markupsafe"} <= names
    assert not {"pandas", "frictionless", "playwright", "pytest"} & names, "only what the site needs"


def test_an_unpinned_requirement_stops_the_bundle(tmp_path):
    loose = tmp_path / "requirements.txt"
    loose.write_text("datasette>=0.65\n", encoding="utf-8")
    with pytest.raises(build_bundle.BuildError, match=r"requirements.txt:1: 'datasette>=0.65' is not pinned"):
        build_bundle.site_requirements((loose,))


# ---------------------------------------------------------------------------------------------
# The running bundle

def test_home_table_bulletin_and_row_answer(client):
    home = client.get("/")
    assert home.status_code == 200 and PACKAGE["title"].split(":")[0] in home.text
    for path in (f"/{DB}/personnel", f"/{DB}/-/bulletin/{SOURCE_ID}", f"/{DB}/{ROW_TABLE}/{ROW_ID}"):
        first, page = follow(client, path)
        assert first.status_code == 302 and first.headers["location"].startswith(f"/{DB}-"), path
        assert page.status_code == 200, f"{path} under its hashed route: {page.status_code}"
    for source_id in BULLETINS:
        _, bulletin = follow(client, f"/{DB}/-/bulletin/{source_id}")
        assert bulletin.status_code == 200, source_id
        spans = [row for row in read_table("evidence") if row["source_id"] == source_id]
        assert spans and bulletin.text.count("<mark") >= len(spans), source_id


def test_far_future_caching_only_under_the_hashed_route(client):
    _, table = follow(client, f"/{DB}/personnel")
    route = urlsplit(str(table.url)).path.split("/")[1]
    assert re.fullmatch(rf"{re.escape(DB)}-[0-9a-f]{{7}}", route)
    for path in (f"/{route}", f"/{route}/personnel", f"/{route}/personnel.json", f"/{route}/personnel.csv",
                 f"/{route}/-/bulletin/{SOURCE_ID}", f"/{route}/{ROW_TABLE}/{ROW_ID}"):
        answer = client.get(path)
        assert (answer.status_code, answer.headers["cache-control"]) == (200, FAR_FUTURE), path
    # What can change under its URL is never kept: the home page, the sitemap, robots.txt, a redirect,
    # a page that is not there, a URL under a hash that is not the current one.
    for path in ("/", "/sitemap.xml", "/robots.txt", f"/{DB}/personnel", f"/{route}/no-such-table",
                 f"/{DB}-0000000/personnel", "/-/citation/dataset.bib"):
        answer = client.get(path)
        assert answer.headers["cache-control"] == "no-cache", (path, answer.status_code)
    old = client.get(f"/{DB}-0000000/personnel")
    assert old.status_code == 302 and old.headers["location"] == f"/{route}/personnel"
    # A request with a cookie is answered for that visitor only.
    assert client.get(f"/{route}/personnel", headers={"cookie": "x=1"}).headers["cache-control"] == "private, no-store"


def test_the_hash_covers_more_than_the_database(client):
    """The route's hash is not the database file's: it changes with the site's code and address too."""
    databases = client.get("/-/databases.json").json()
    (db,) = [d for d in databases if d["name"] == DB]
    assert db["route"] != f"{DB}-{db['hash'][:7]}"


def test_canonical_links_and_json_ld_use_the_public_address(client):
    from lxml import html as lxml_html
    pages = {"/": f"{PUBLIC_ADDRESS}/", f"/{DB}/personnel": f"{PUBLIC_ADDRESS}/{DB}/personnel",
             f"/{DB}/{ROW_TABLE}/{ROW_ID}": f"{PUBLIC_ADDRESS}/{DB}/{ROW_TABLE}/{ROW_ID}",
             f"/{DB}/-/bulletin/{SOURCE_ID}": f"{PUBLIC_ADDRESS}/{DB}/-/bulletin/{SOURCE_ID}"}
    for path, canonical in pages.items():
        _, page = follow(client, path)
        (link,) = lxml_html.fromstring(page.text).xpath('//head/link[@rel="canonical"]')
        assert link.get("href") == canonical, path
    head = lxml_html.fromstring(client.get("/").text).find("head")
    (script,) = head.xpath('script[@type="application/ld+json"]')
    assert json.loads(script.text)["url"] == f"{PUBLIC_ADDRESS}/"


def test_the_row_citation_gives_the_public_permanent_url(client):
    from lxml import html as lxml_html
    _, page = follow(client, f"/{DB}/{ROW_TABLE}/{ROW_ID}")
    (block,) = lxml_html.fromstring(page.text).find_class("cite-row")
    url = f"{PUBLIC_ADDRESS}/{DB}/{ROW_TABLE}/{ROW_ID}"
    assert block.find_class("cite-row-url")[0].get("href") == url
    assert block.find_class("cite-row-text")[0].text_content().endswith(f", {url}")
    assert "127.0.0.1" not in block.text_content()
    # The permanent URL is the stable one: at this site it leads to the row under today's hash.
    first, again = follow(client, urlsplit(url).path)
    assert first.status_code == 302 and again.url == page.url


def test_the_sitemap_lists_every_table_row_and_bulletin_at_the_public_address(client):
    answer = client.get("/sitemap.xml")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/xml")
    namespace = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locations = [loc.text for loc in ElementTree.fromstring(answer.content).findall("s:url/s:loc", namespace)]
    assert all(loc.startswith(f"{PUBLIC_ADDRESS}/") for loc in locations) and len(set(locations)) == len(locations)
    paths = {loc.removeprefix(PUBLIC_ADDRESS) for loc in locations}
    expected = {"/", f"/{DB}"} | {f"/{DB}/-/bulletin/{source_id}" for source_id in BULLETINS}
    for resource in TABLES:
        (key,) = resource["schema"]["primaryKey"]
        expected.add(f"/{DB}/{resource['name']}")
        expected |= {f"/{DB}/{resource['name']}/{row[key]}" for row in read_table(resource["name"])}
    assert expected <= paths, sorted(expected - paths)[:5]
    for path in sorted(p for p in paths if p.count("/") <= 2 or "/-/" in p):  # home, database, tables, bulletin
        assert follow(client, path)[1].status_code == 200, path


def test_robots_txt_names_the_sitemap(client):
    answer = client.get("/robots.txt")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    assert f"Sitemap: {PUBLIC_ADDRESS}/sitemap.xml" in answer.text.splitlines()


def test_a_bad_site_url_stops_start(bundle, tmp_path):
    result = subprocess.run([str(bundle / "start")], env={**site_environment(None), "SITE_URL": "data.example.org",
                                                          "PORT": str(free_port()), "HOST": HOST,
                                                          "PYTHON": sys.executable},
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "SITE_URL must be an http(s) address" in result.stderr


# ---------------------------------------------------------------------------------------------
# In process: the fingerprint, the sitemap without a public address

def test_the_fingerprint_changes_with_templates_and_address(site_files, tmp_path):
    spec = util.spec_from_file_location("publishing_plugin", PLUGINS_DIR / "publishing.py")
    plugin = util.module_from_spec(spec)
    spec.loader.exec_module(plugin)
    metadata = json.loads(site_files["metadata"].read_text(encoding="utf-8"))
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, templates)
    (templates / "row.html").write_text((templates / "row.html").read_text() + "\n{# changed #}\n")
    with_address = json.loads(json.dumps(metadata))
    with_address["plugins"]["publishing"] = {"site_url": PUBLIC_ADDRESS}
    sites = [datasette_for([site_files["db"]], metadata), datasette_for([site_files["db"]], metadata),
             datasette_for([site_files["db"]], metadata, template_dir=templates),
             datasette_for([site_files["db"]], with_address)]
    for site in sites:
        asyncio.run(site.invoke_startup())
    prints = [plugin.fingerprint(site) for site in sites]
    assert prints[0] == prints[1] and len(set(prints[1:])) == 3


def test_without_a_public_address_the_sitemap_uses_the_request_s_and_pages_no_canonical(ds):
    sitemap = asyncio.run(ds.client.get("/sitemap.xml")).text
    assert "<loc>http://localhost/</loc>" in sitemap
    assert 'rel="canonical"' not in asyncio.run(ds.client.get("/")).text


# ---------------------------------------------------------------------------------------------
# make loadcheck, at a small size

def test_load_check_runs_the_bundle_beside_stock_datasette(bundle, site_files, capsys):
    with pytest.raises(SystemExit) as stop:
        load_check.main(["--bundle", str(bundle), "--db", str(site_files["db"]), "--inspect", str(site_files["inspect"]),
                         "--metadata", str(site_files["metadata"]), "-n", "12", "-c", "4", "--max-seconds", "60",
                         "--slow-ms", "300"])
    printed = capsys.readouterr().out
    assert stop.value.code == 0, printed
    assert re.search(rf"^bundle at http://127\.0\.0\.1:\d+: .*\bbulletin {len(BULLETINS)}\b", printed, re.MULTILINE)
    assert re.search(r"^stock datasette -i at http://127\.0\.0\.1:\d+: ", printed, re.MULTILINE)
    assert printed.count("requests 12  concurrency 4") == 4 and "errors 0" in printed  # each site alone, then with slow SQL
    assert re.search(r"^bundle \+ slow SQL at http://127\.0\.0\.1:\d+: ", printed, re.MULTILINE)
    assert re.search(r"^stock datasette -i: table pages' p99 with a slow query in every 5 requests [0-9.]+ ms, "
                     r"alone [0-9.]+ ms", printed, re.MULTILINE)
    assert ("p50 / p99 in ms by kind of page: bundle  |  bundle + slow SQL  |  stock datasette -i  |  "
            "stock datasette -i + slow SQL") in printed
    assert re.search(r"^  table +[0-9.]+ / +[0-9.]+ \( *\d+\)  \|  +[0-9.]+ / ", printed, re.MULTILINE)


def test_the_documented_publish_command_has_the_settings_of_start():
    readme = (ROOT / "docs" / "publishing.md").read_text(encoding="utf-8")
    (command,) = re.findall(r"^datasette publish cloudrun .*?^```", readme, re.MULTILINE | re.DOTALL)
    given = dict(re.findall(r"--setting (\S+) ([^\s\"]+)", command))
    assert given == {name: ("on" if value else "off") if isinstance(value, bool) else str(value)
                     for name, value in SETTINGS.items()}
    assert all(f"--install {line}" in command for line in build_bundle.site_requirements()
               if line.split("==")[0] in ("datasette", "datasette-hashed-urls"))


def test_the_bundle_serves_the_release_it_carries_byte_for_byte(client, release_archive):
    """The bundle started with SITE_URL: the archive and each file of it as released, and the JSON-LD's
    distribution at the public address."""
    import hashlib
    import zipfile
    from lxml import html as lxml_html
    answer = client.get(f"/-/download/{release_archive.name}")
    assert answer.status_code == 200
    assert hashlib.sha256(answer.content).hexdigest() == hashlib.sha256(release_archive.read_bytes()).hexdigest()
    with zipfile.ZipFile(release_archive) as archive:
        for name in archive.namelist():
            path = name.split("/", 1)[1]
            assert client.get(f"/-/download/{path}").content == archive.read(name), path
    (script,) = lxml_html.fromstring(client.get("/").text).xpath('//head/script[@type="application/ld+json"]')
    urls = {d["contentUrl"] for d in json.loads(script.text)["distribution"]}
    assert f"{PUBLIC_ADDRESS}/-/download/{release_archive.name}" in urls
    assert {f"{PUBLIC_ADDRESS}/-/download/{r['path']}" for r in TABLES} <= urls
