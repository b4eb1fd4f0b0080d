"""The bundle under hostile traffic: dist/site/ as `make bundle` writes it, started with its own
`start` on a free port of 127.0.0.1 (one start for the module; a second for the hashed route), sent
each probe of scripts/tools/hostile.py. What it must do is docs/security.md's list: bounded requests refused
early (414/400), SQL that cannot take the memory, refusals instead of errors, 405 for writes, the
security headers on every page, connections and half-sent requests bounded, one hashed address
across starts and replicas; and what held before still holds (no writes, no file read, no
traceback, no reflected script). Each probe's status, time, size and the server's memory are
printed at the end of the run."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import shutil
import time
from pathlib import Path

import httpx
import pytest
from conftest import PUBLIC_ADDRESS, ROOT, start_bundle

from scripts.site import build_bundle
from scripts.tools import hostile

PACKAGE = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
DB = PACKAGE["name"]
TABLE = "claims"
(KEY,) = next(r for r in PACKAGE["resources"] if r["name"] == TABLE)["schema"]["primaryKey"]
MAX_RSS_MB = 500  # the server's memory through every probe (it took 1.4 GB from one query before)
# The headers' deadline the module's site is started with (SITE_HEADER_SECONDS; site/server.py's default
# is longer): past the HALF_OPEN_WAIT the half-open probe waits before counting, so its connections are
# still open then.
HEADER_SECONDS = 2.0
HALF_OPEN_WAIT = 0.5
# Words of a Python exception or traceback, which no answer may carry.
EXCEPTION_TEXT = re.compile(r"Traceback|File \"|Error binding|JSONDecodeError|KeyError|ValueError|TypeError|"
                            r"ProgrammingError|invalid literal|Expecting value")


def limits_of(path: Path, *names: str) -> dict:
    """Constants of a site file (site/server.py, a plugin), read without starting anything."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(f"limits_of_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {name: getattr(module, name) for name in names}


def server_limits() -> dict:
    return limits_of(ROOT / "site" / "server.py", "MAX_CONNECTIONS", "HEADER_SECONDS")


def guard_limits() -> dict:
    return limits_of(ROOT / "site" / "plugins" / "guard.py", "SQL_AT_ONCE", "SQL_WAITING")


@pytest.fixture(scope="module")
def folder(site_files, release_archive, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("hostile") / "site"
    build_bundle.write_bundle(out, site_files["db"], site_files["metadata"], site_files["inspect"], None, release_archive)
    return out


@pytest.fixture(scope="module")
def site(folder, tmp_path_factory):
    """The bundle started as a host would, with an https public address: (base URL, server pid, route)."""
    log = tmp_path_factory.mktemp("hostile-log") / "site.log"
    process, base = start_bundle(folder, log, SITE_URL=PUBLIC_ADDRESS, SITE_HEADER_SECONDS=str(HEADER_SECONDS))
    answer = httpx.get(f"{base}/{DB}", follow_redirects=False)
    assert answer.status_code == 302
    yield base, process.pid, answer.headers["location"].lstrip("/"), log
    process.terminate()
    process.wait(timeout=30)


def summary(record_property, line: str) -> None:
    record_property("summary_line", line)


def test_two_starts_and_a_replica_serve_the_same_hashed_route(site, folder, tmp_path, record_property):
    base, _, route, _ = site
    replica = tmp_path / "replica"
    shutil.copytree(folder, replica)
    process, other = start_bundle(replica, tmp_path / "replica.log", SITE_URL=PUBLIC_ADDRESS)
    try:
        answer = httpx.get(f"{other}/{DB}", follow_redirects=False)
    finally:
        process.terminate()
        process.wait(timeout=30)
    summary(record_property, f"hostile: two starts (two processes, two folders) serve /{route} and "
                             f"{answer.headers['location']}")
    assert answer.headers["location"] == f"/{route}"


# The answer each probe must get (scripts/tools/hostile.py names them).
EXPECTED = {
    "3,000 query parameters": 414, "100 short query parameters": 400, "400 _facet": 400, "11 _facet": 400,
    "10 KB URL": 414, "zeroblob(40000000)": 400, "randomblob(3e8)": 400, "printf 19 KB x 1000 rows": 200, "printf 1 MB": 200,
    "fts3_tokenizer('simple')": 400, "fts3_tokenizer two arguments": 400,
    "_sort by a missing column": 400, "_sort_desc by a missing column": 400, "_sort and _sort_desc": 400,
    "_through not JSON": 400, "_through without column": 400, "_through to a missing column": 400,
    "_timelimit not a number": 400, "__in with broken JSON": 400, "__in with an object": 400,
    "non-Latin-1 path": 404, "non-Latin-1 row path": 404, "robots.txt beside 3,000 parameters": 200,
}


def test_every_probe_is_refused_at_once_without_its_text_and_in_bounded_memory(site, record_property):
    base, pid, route, log = site
    answers = []
    with httpx.Client(base_url=base) as client:
        for probe, method, path in hostile.request_probes(route, TABLE, KEY):
            answers.append(hostile.send(client, pid, probe, method, path))
        after = client.get(f"/{route}/{TABLE}")
    answers.append(hostile.beside(base, pid, "robots.txt beside 3,000 parameters",
                                  hostile.request_probes(route, TABLE, KEY)[0][2]))
    summary(record_property, "hostile: each probe (status, time, bytes, the server's peak RSS while it ran):")
    for answer in answers:
        summary(record_property, "hostile:" + answer.line())
    for answer in answers:
        expected = EXPECTED.get(answer.probe, 405)
        assert answer.status == expected, (answer.probe, answer.status, answer.text[:300])
        assert not EXCEPTION_TEXT.search(answer.text), (answer.probe, answer.text[:500])
        if expected == 405:
            assert answer.headers["allow"] == "GET, HEAD" and answer.headers["cache-control"] == "no-store"
    texts = {a.probe: a.text for a in answers}
    assert "string or blob too big" in texts["zeroblob(40000000)"] and "too big" in texts["randomblob(3e8)"]
    assert "not authorized to use function: fts3_tokenizer" in texts["fts3_tokenizer two arguments"]
    assert max(a.rss_mb for a in answers) < MAX_RSS_MB
    # The widest answer ad hoc SQL can give: max_returned_rows rows of one value at the length limit.
    assert max(a.size for a in answers) < 1000 * 20_000 * 1.1
    assert '"rows": [[null]]' in texts["printf 1 MB"], "a string past the length limit is null"
    assert after.status_code == 200, "the site still answers after the probes"


def test_security_headers_on_every_kind_of_answer(site):
    base, _, route, _ = site
    paths = ["/", f"/{DB}", f"/{route}", f"/{route}/{TABLE}", f"/{route}/{TABLE}.json", f"/{route}/{TABLE}.csv",
             f"/{route}/{TABLE}?_sort=no_such_column", "/sitemap.xml", "/robots.txt", "/-/codebook",
             "/no-such-page", f"/{route}?sql=select+1", "/-/static/app.css"]
    with httpx.Client(base_url=base, follow_redirects=False) as client:
        answers = [client.get(path) for path in paths] + [client.post("/")]
        first_row = client.get(f"/{route}/{TABLE}.json?_shape=array&_size=1").json()[0][KEY]
        answers.append(client.get(f"/{route}/{TABLE}/{first_row}"))
    for answer in answers:
        headers = answer.headers
        policy = headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy, answer.url
        assert re.search(r"script-src 'self'( 'sha256-[A-Za-z0-9+/=]+')*;", policy), policy
        assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"


def test_absolute_links_are_https_behind_an_https_public_address(site):
    base, _, route, _ = site
    page = httpx.get(f"{base}/{route}/{TABLE}").text
    links = re.findall(r'<link rel="alternate" type="application/json\+datasette" href="([^"]+)"', page)
    assert links and all(link.startswith("https://") for link in links), links


def test_half_open_connections_are_capped_and_timed_out(site, record_property):
    base, pid, route, _ = site
    limits = server_limits()
    assert HEADER_SECONDS < limits["HEADER_SECONDS"], "the site under test waits less than the default"
    answer, opened, sockets = hostile.half_open(base, pid, wait=HALF_OPEN_WAIT)
    try:
        deadline = time.monotonic() + HEADER_SECONDS + 5
        while time.monotonic() < deadline and hostile.open_count(sockets):
            time.sleep(0.1)
        left = hostile.open_count(sockets)
    finally:
        for sock in sockets:
            sock.close()
    summary(record_property, f"hostile:{answer.line()} (of {opened} opened: still open after {HALF_OPEN_WAIT} s; "
                             f"{left} open {HEADER_SECONDS + 5:.0f} s later)")
    assert opened == hostile.HALF_OPEN and answer.status <= limits["MAX_CONNECTIONS"]
    assert left == 0, "a half-sent request is closed after the headers' deadline"
    assert httpx.get(f"{base}/{route}/{TABLE}.json?_size=1").status_code == 200


@pytest.mark.parametrize("given", ["4s", "0", "-1", "nan", "inf"])
def test_a_deadline_that_is_no_positive_number_stops_the_site_naming_its_variable(given, monkeypatch):
    """site/server.py reads SITE_HEADER_SECONDS when it is loaded, before the site starts."""
    monkeypatch.setenv("SITE_HEADER_SECONDS", given)
    with pytest.raises(SystemExit) as stop:
        server_limits()
    assert stop.value.code == f"error: SITE_HEADER_SECONDS={given!r}: give a positive number of seconds (unset: 10)"


def test_ad_hoc_sql_waits_its_turn_and_pages_are_served_meanwhile(site, record_property):
    """SQL_AT_ONCE slow queries run, SQL_WAITING wait, the rest are answered 503 at once; a table
    page asked meanwhile is answered (not kept behind the queries)."""
    base, _, route, _ = site
    limits = guard_limits()
    # Each stopped after 500 ms (_timelimit; the site's limit is 1 s): the queue works the same, sooner.
    slow = (f"/{route}.json?sql=with+recursive+c(x)+as+(select+1+union+all+select+x%2B1+from+c)+select+count(*)+from+c"
            "&_timelimit=500")
    extra = 3

    async def run():
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            queries = [asyncio.ensure_future(client.get(slow)) for _ in range(limits["SQL_AT_ONCE"] + limits["SQL_WAITING"] + extra)]
            await asyncio.sleep(0.3)
            started = time.perf_counter()
            page = await client.get(f"/{route}/{TABLE}")
            page_seconds = time.perf_counter() - started
            return [q.status_code for q in await asyncio.gather(*queries)], page.status_code, page_seconds
    statuses, page, seconds = asyncio.run(run())
    summary(record_property, f"hostile: {len(statuses)} slow queries at once: {statuses.count(400)} ran to the time "
                             f"limit, {statuses.count(503)} refused 503; a table page meanwhile: {page} in {seconds:.2f} s")
    assert statuses.count(503) == extra and statuses.count(400) == len(statuses) - extra
    assert page == 200


def test_no_write_no_file_read_no_reflected_script(site, folder):
    base, _, route, _ = site
    db_file = folder / f"{DB}.db"
    before = hashlib.sha256(db_file.read_bytes()).hexdigest()
    with httpx.Client(base_url=base, follow_redirects=True) as client:
        for sql in hostile.WRITES:
            for path in (f"/{route}.json", f"/{route}"):
                answer = client.get(path, params={"sql": sql})
                assert answer.status_code in (400, 403), (sql, answer.status_code)
                assert not EXCEPTION_TEXT.search(answer.text), (sql, answer.text[:300])
        for path in hostile.FILE_READS:
            answer = client.get(path)
            assert answer.status_code in (400, 404) and "root:" not in answer.text, path
        for path in hostile.reflection_probes(route, TABLE, KEY):
            answer = client.get(path)
            if answer.headers["content-type"].startswith("text/html"):  # JSON and text are sent nosniff
                assert hostile.SCRIPT not in answer.text, path
            assert answer.status_code < 500 and not EXCEPTION_TEXT.search(answer.text), (path, answer.status_code)
    assert hashlib.sha256(db_file.read_bytes()).hexdigest() == before, "the database file is unchanged"


def test_the_database_page_is_kept_per_host_and_never_for_a_visitor_with_a_cookie(site):
    """The database page's answer to a plain GET is kept (site/plugins/guard.py); it names the host it
    was asked at (Datasette's alternate links), so another host gets its own."""
    base, _, route, _ = site
    with httpx.Client(base_url=base) as client:
        first, again = client.get(f"/{route}"), client.get(f"/{route}")
        other = client.get(f"/{route}", headers={"host": "elsewhere.example"})
        with_cookie = client.get(f"/{route}", headers={"cookie": "ds_actor=x"})
    assert first.status_code == again.status_code == other.status_code == with_cookie.status_code == 200
    assert first.text == again.text and "elsewhere.example" in other.text and "elsewhere.example" not in again.text
    assert with_cookie.headers["cache-control"] == "private, no-store"

