"""The site serves the release: the archive and every file in it, byte for byte, at /-/download/...;
the home page leads with a Download block; with a public address the JSON-LD's `distribution` names
those addresses. Every file is checked against the release archive `make dist` builds."""

from __future__ import annotations

import asyncio
import hashlib
import json
import zipfile

import pytest
from conftest import PUBLIC_ADDRESS, ROOT, datasette_for
from lxml import html as lxml_html

PACKAGE = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
TABLES = [r for r in PACKAGE["resources"] if r.get("type") == "table"]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def released(archive) -> dict[str, bytes]:
    """Every file of the release, by its path inside the archive's folder."""
    with zipfile.ZipFile(archive) as z:
        prefix = z.namelist()[0].split("/", 1)[0] + "/"
        return {name[len(prefix):]: z.read(name) for name in z.namelist()}


def site_with(site_files, archive, site_url=None):
    metadata = json.loads(site_files["metadata"].read_text(encoding="utf-8"))
    assert metadata["plugins"]["downloads"] == {"archive": {"$env": "RELEASE_ARCHIVE"}}
    metadata["plugins"]["downloads"] = {"archive": str(archive)} if archive else {}
    if site_url:
        metadata["plugins"]["publishing"] = {"site_url": site_url}
    ds = datasette_for([site_files["db"]], metadata, json.loads(site_files["inspect"].read_text(encoding="utf-8")))
    asyncio.run(ds.invoke_startup())
    return ds


@pytest.fixture(scope="module")
def site(site_files, release_archive):
    return site_with(site_files, release_archive, PUBLIC_ADDRESS)


def get(ds, path):
    return asyncio.run(ds.client.get(path))


def test_every_file_of_the_release_downloads_byte_for_byte(site, release_archive):
    files = released(release_archive)
    for path in ["datapackage.json", "codebook.html", *(r["path"] for r in TABLES)]:
        assert path in files, f"the release lacks {path}"
    assert any(p.endswith(".parquet") for p in files)
    for path, data in files.items():
        answer = get(site, f"/-/download/{path}")
        assert answer.status_code == 200, path
        assert sha256(answer.content) == sha256(data), path
    archive = get(site, f"/-/download/{release_archive.name}")
    assert archive.status_code == 200 and archive.headers["content-type"] == "application/zip"
    assert sha256(archive.content) == sha256(release_archive.read_bytes())


def test_the_tables_downloaded_are_those_the_descriptor_hashes(site):
    descriptor = get(site, "/-/download/datapackage.json").json()
    parquet = get(site, "/-/download/datapackage.parquet.json").json()
    for res in [r for r in descriptor["resources"] if r.get("type") == "table"] + parquet["resources"]:
        data = get(site, f"/-/download/{res['path']}").content
        assert "sha256:" + sha256(data) == res["hash"], res["path"]
        assert len(data) == res.get("bytes", len(data)), res["path"]  # the Parquet files give no byte count
    assert get(site, "/-/download/data/evidence.csv").headers["content-type"] == "text/csv; charset=utf-8"


def test_a_file_not_in_the_release_is_not_found(site):
    for path in ("/-/download/nothing.csv", "/-/download/../datapackage.json", "/-/download/data"):
        assert get(site, path).status_code == 404, path


def test_the_download_page_lists_every_table_as_csv_and_parquet(site, release_archive):
    page = lxml_html.fromstring(get(site, "/-/download").text)
    links = set(page.xpath("//main//a/@href"))
    assert f"/-/download/{release_archive.name}" in links
    for res in TABLES:
        assert f"/-/download/{res['path']}" in links
        assert f"/-/download/parquet/{res['name']}.parquet" in links
    assert sha256(release_archive.read_bytes()) in page.text_content()


def test_the_home_page_leads_with_the_download_block(site, release_archive):
    page = lxml_html.fromstring(get(site, "/").text)
    main = page.xpath("//main")[0]
    headings = [h.text_content().strip() for h in main.xpath(".//h2|.//h3")]
    assert headings[0] == "Download", headings[:3]
    # Right under the title: before the description and everything else.
    assert [e.tag for e in main.xpath("./section/*")][:2] == ["h1", "section"]
    block = main.xpath(".//section[contains(@class, 'download')]")[0]
    hrefs = block.xpath(".//a/@href")
    assert f"/-/download/{release_archive.name}" in hrefs and "/-/download/datapackage.json" in hrefs
    assert "/-/download/codebook.html" in hrefs and "/-/download" in hrefs
    assert sha256(release_archive.read_bytes()) in block.text_content()


def test_a_table_page_links_its_csv_and_parquet_files(site):
    res = TABLES[0]
    page = get(site, f"/{PACKAGE['name']}/{res['name']}")
    if page.status_code == 302:
        page = get(site, page.headers["location"])
    hrefs = lxml_html.fromstring(page.text).xpath("//main//a/@href")
    assert f"/-/download/{res['path']}" in hrefs and f"/-/download/parquet/{res['name']}.parquet" in hrefs


def test_with_a_public_address_the_json_ld_distribution_names_the_download_addresses(site, release_archive):
    (script,) = lxml_html.fromstring(get(site, "/").text).xpath('//head/script[@type="application/ld+json"]')
    distribution = json.loads(script.text)["distribution"]
    files = released(release_archive)
    urls = {d["contentUrl"]: d for d in distribution}
    wanted = [release_archive.name, "datapackage.json", "datapackage.parquet.json", "codebook.html",
              *(r["path"] for r in TABLES), *(f"parquet/{r['name']}.parquet" for r in TABLES)]
    assert sorted(urls) == sorted(f"{PUBLIC_ADDRESS}/-/download/{p}" for p in wanted)
    for url, entry in urls.items():
        assert entry["@type"] == "DataDownload" and entry["encodingFormat"]
        path = url[len(PUBLIC_ADDRESS):]
        data = get(site, path).content
        expected = release_archive.read_bytes() if path.endswith(".zip") else files[path[len("/-/download/"):]]
        assert sha256(data) == sha256(expected), url
    assert urls[f"{PUBLIC_ADDRESS}/-/download/{release_archive.name}"]["sha256"] == sha256(release_archive.read_bytes())


def test_without_a_release_the_site_says_how_to_get_one(site_files):
    ds = site_with(site_files, None)
    assert get(ds, "/-/download/datapackage.json").status_code == 404
    assert "make dist" in get(ds, "/-/download").text
    assert "make dist" in get(ds, "/").text


def test_an_archive_of_another_package_stops_the_site(site_files, tmp_path):
    other = tmp_path / "other-1.0.0.zip"
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("other-1.0.0/datapackage.json", json.dumps({"name": "other", "resources": []}))
    with pytest.raises(Exception, match=r"other-1\.0\.0\.zip: a release of 'other', not of this site's database"):
        site_with(site_files, other)
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"not a zip")
    with pytest.raises(Exception, match=r"broken\.zip: not a readable release archive"):
        site_with(site_files, broken)


DOC = ROOT / "docs" / "download.md"


def test_every_address_docs_download_names_answers(site, release_archive):
    import re
    text = DOC.read_text(encoding="utf-8")
    paths = set(re.findall(r"`(/-/download[^`]*)`", text))
    assert {"/-/download", "/-/download/datapackage.json", "/-/download/data/<table>.csv",
            "/-/download/parquet/<table>.parquet"} <= paths
    version = PACKAGE["version"]
    for path in paths:
        if "<its path" in path:
            continue
        for table in [r["name"] for r in TABLES] if "<table>" in path else [None]:
            concrete = path.replace("<version>", version).replace("<table>", table or "")
            assert get(site, concrete).status_code == 200, concrete
    assert release_archive.name in text.replace("<version>", version) or "3.0.0" in text


def test_the_python_in_docs_download_runs_in_the_unpacked_release(release_archive, tmp_path):
    import re
    import subprocess
    import sys
    with zipfile.ZipFile(release_archive) as z:
        z.extractall(tmp_path)
    folder = tmp_path / release_archive.name[:-len(".zip")]
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 2
    for block in blocks:
        result = subprocess.run([sys.executable, "-c", block], cwd=folder, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"{block}\n{result.stderr}"
