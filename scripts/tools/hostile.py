"""Hostile traffic against a running site: each probe an attacker would send, bounded in count and
time, with what it got (status, seconds, bytes) and the server's highest memory (RSS) meanwhile.

tests/test_hostile.py replays them against the bundle started with its `start` and asserts the
site's limits (docs/security.md); run on its own, this prints the figures for any running site, e.g.
one built from an older commit, for a before/after comparison:

    python -m scripts.tools.hostile --base http://127.0.0.1:8001 --pid PID --db NAME [--table claims]
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

PROBE_TIMEOUT = 60.0   # seconds any one request may take before it counts as no answer
HALF_OPEN = 300        # connections opened with half-sent headers


@dataclass
class Answer:
    probe: str
    status: int | None  # None: no answer within PROBE_TIMEOUT
    seconds: float
    size: int
    rss_mb: float | None
    text: str = ""
    headers: httpx.Headers | None = None
    measure: str = "status"  # what `status` counts (the half-open probe: connections still open)

    def line(self) -> str:
        rss = f"{self.rss_mb:7.0f} MB" if self.rss_mb is not None else "      ?"
        return (f"  {self.probe:<34} {self.measure} {self.status if self.status is not None else 'none':<4} "
                f"{self.seconds:7.2f} s {self.size:>11,} bytes  server peak RSS {rss}")


def rss_mb(pid: int | None) -> float | None:
    """The resident memory of process `pid` in MB (Linux /proc), or None."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, TypeError, ValueError):
        return None
    return None


def request_probes(route: str, table: str, key: str) -> list[tuple[str, str, str]]:
    """(name, method, path) of every single-request probe; `route` is the database's route, `table`
    a table of it with the single primary key `key`."""
    base = f"/{route}/{table}"
    sql = f"/{route}.json?sql="
    return [
        ("3,000 query parameters", "GET", base + "?" + "&".join(f"a{i}=1" for i in range(3000))),
        ("100 short query parameters", "GET", base + "?" + "&".join("a=" for _ in range(100))),
        ("400 _facet", "GET", base + "?" + "&".join(f"_facet={key}" for _ in range(400))),
        ("11 _facet", "GET", base + "?" + "&".join(f"_facet={key}" for _ in range(11))),
        ("10 KB URL", "GET", base + "?_search=" + "x" * 10_000),
        ("printf 1 MB", "GET", sql + "select+length(printf('%25.1000000c',+'x'))"),
        ("zeroblob(40000000)", "GET", sql + "select+zeroblob(40000000)"),
        ("randomblob(3e8)", "GET", sql + "select+randomblob(3e8)"),
        ("printf 19 KB x 1000 rows", "GET", sql + "with+recursive+c(x)+as+(select+1+union+all+select+x%2B1+from+c+"
                                                  "where+x<1000)+select+printf('%25.19000c',+'x')+from+c"),
        ("fts3_tokenizer('simple')", "GET", sql + "select+hex(fts3_tokenizer('simple'))"),
        ("fts3_tokenizer two arguments", "GET", sql + "select+fts3_tokenizer('simple',+x'0000000000000000')"),
        ("_sort by a missing column", "GET", base + "?_sort=no_such_column"),
        ("_sort_desc by a missing column", "GET", base + "?_sort_desc=no_such_column"),
        ("_sort and _sort_desc", "GET", f"{base}?_sort={key}&_sort_desc={key}"),
        ("_through not JSON", "GET", base + "?_through=x"),
        ("_through without column", "GET", base + '?_through={"table":"x"}'),
        ("_through to a missing column", "GET", base + '?_through={"table":"' + table + '","column":"x","value":"1"}'),
        ("_timelimit not a number", "GET", base + "?_timelimit=x"),
        ("__in with broken JSON", "GET", f"{base}?{key}__in=[1"),
        ("__in with an object", "GET", f"{base}?{key}__in=[{{}}]"),
        ("non-Latin-1 path", "GET", "/%E2%82%AC"),
        ("non-Latin-1 row path", "GET", f"{base}/%E2%82%AC"),
        ("POST to the home page", "POST", "/"),
        ("POST to a table page", "POST", base),
        ("POST to the sitemap", "POST", "/sitemap.xml"),
        ("POST to robots.txt", "POST", "/robots.txt"),
        ("POST to the codebook", "POST", "/-/codebook"),
        ("POST to a citation file", "POST", "/-/citation/dataset.bib"),
        ("PUT to a row page", "PUT", f"{base}/x"),
        ("DELETE a table", "DELETE", base),
        ("OPTIONS on the home page", "OPTIONS", "/"),
    ]


# What must never succeed or show (today's guarantees, kept): writes, file reads, reflected script.
WRITES = ["insert into claims default values", "update sqlite_master set sql = ''", "delete from claims",
          "drop table claims", "attach database '/tmp/x.db' as x", "pragma writable_schema = 1",
          "vacuum into '/tmp/x.db'", "select load_extension('/tmp/x')", "select readfile('/etc/passwd')",
          "create table x (y)"]
FILE_READS = ["/-/static/../../../../etc/passwd", "/-/static/..%2f..%2f..%2f..%2fetc%2fpasswd",
              "/-/static-plugins/datasette_hashed_urls/../../../../../etc/passwd",
              "/-/citation/..%2fmetadata.json", "/..%2f..%2fetc%2fpasswd", "/metadata.json", "/inspect.json"]
SCRIPT = "<script>alert(1)</script>"


def reflection_probes(route: str, table: str, key: str) -> list[str]:
    from urllib.parse import quote
    s = quote(SCRIPT, safe="")
    return [f"/{route}/{table}?_search={s}", f"/{route}/{table}?{key}={s}", f"/{route}/{table}?_sort={s}",
            f"/{route}/{s}", f"/{route}/{table}/{s}", f"/{route}?sql=select+'{s}'", f"/{route}/-/bulletin/{s}",
            f"/-/citation/{s}", f"/{route}/{table}?_facet={s}", f"/{route}/{table}?_col={s}",
            f"/{route}/{table}.json?_shape={s}", f"/{route}/{table}?_through={s}"]


def send(client: httpx.Client, pid, probe: str, method: str, path: str) -> Answer:
    """One probe, with the server's highest RSS while it ran (sampled every 10 ms)."""
    peak, done = [rss_mb(pid) or 0.0], threading.Event()

    def sample():
        while not done.wait(0.01):
            peak[0] = max(peak[0], rss_mb(pid) or 0.0)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    try:
        response = client.request(method, path, timeout=PROBE_TIMEOUT)
        status, body, headers = response.status_code, response.content, response.headers
    except httpx.HTTPError:
        status, body, headers = None, b"", None
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    return Answer(probe, status, seconds, len(body), max(peak[0], rss_mb(pid) or 0.0) if pid else None,
                  body.decode("utf-8", "replace"), headers)


def beside(base: str, pid, probe: str, heavy: str, path: str = "/robots.txt") -> Answer:
    """`path` asked 0.2 s after the heavy request `heavy` (which runs in another thread): does one
    request stall the others?"""
    def heavy_request():
        with httpx.Client(base_url=base) as other:
            try:
                other.get(heavy, timeout=PROBE_TIMEOUT)
            except httpx.HTTPError:
                pass
    thread = threading.Thread(target=heavy_request, daemon=True)
    thread.start()
    time.sleep(0.2)
    with httpx.Client(base_url=base) as client:
        answer = send(client, pid, probe, "GET", path)
    thread.join(PROBE_TIMEOUT)
    return answer


def half_open(base: str, pid, count: int = HALF_OPEN, wait: float = 1.0) -> tuple[Answer, int, list[socket.socket]]:
    """`count` connections each sending a request line and one header, never the end of the headers:
    an Answer (status: connections still open after `wait` seconds) and the sockets (the caller
    closes them)."""
    parts = urlsplit(base)
    sockets, started = [], time.perf_counter()
    for _ in range(count):
        try:
            sock = socket.create_connection((parts.hostname, parts.port), timeout=5)
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
            sockets.append(sock)
        except OSError:
            pass
    time.sleep(wait)
    return (Answer(f"{count} half-open connections", open_count(sockets), time.perf_counter() - started, 0,
                   rss_mb(pid), measure="open"), len(sockets), sockets)


def open_count(sockets: list[socket.socket]) -> int:
    """How many of `sockets` the server has not closed (a closed one reads as end of file or reset)."""
    alive = 0
    for sock in sockets:
        sock.setblocking(False)
        try:
            alive += sock.recv(1) != b""
        except BlockingIOError:
            alive += 1
        except OSError:
            pass
    return alive


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="the site, e.g. http://127.0.0.1:8001")
    parser.add_argument("--pid", type=int, help="the server's process, for its memory")
    parser.add_argument("--db", required=True, help="the database's name")
    parser.add_argument("--table", default="claims")
    parser.add_argument("--key", default="claim_id", help="the table's primary key")
    args = parser.parse_args(argv)
    with httpx.Client(base_url=args.base) as client:
        answer = client.get(f"/{args.db}", follow_redirects=False)
        route = answer.headers["location"].lstrip("/").split("?")[0] if answer.status_code == 302 else args.db
        print(f"{args.base}: database route {route}, server RSS at start {rss_mb(args.pid) or 0:.0f} MB")
        probes = request_probes(route, args.table, args.key)
        for probe, method, path in probes:
            print(send(client, args.pid, probe, method, path).line(), flush=True)
    print(beside(args.base, args.pid, "robots.txt beside 3,000 parameters", probes[0][2]).line())
    answer, opened, sockets = half_open(args.base, args.pid)
    print(answer.line() + f" (of {opened} opened: still open after 1 s)")
    time.sleep(12)
    print(f"  ... still open 13 s later: {open_count(sockets)}")
    for sock in sockets:
        sock.close()


if __name__ == "__main__":
    main()
