"""A bounded load check of the site as published (the bundle, dist/site/) beside stock Datasette.

Starts, each on a free port of 127.0.0.1, the bundle with its own `start` script (the command
line, plugins and settings of `make serve`) and stock `datasette serve -i` on the same database
with the same inspect file (no metadata, plugins or templates), then sends each N requests, at
most C at a time, cycling through a mix of pages: the home page, the database page, every table's HTML page, its
JSON and its CSV, and a row page of every table; the bundle also gets every canned query as
JSON and the annotated bulletin (its own pages). Requests go to the database's route as the
site's links give it (`<name>-<hash>` on the bundle). Each site is then sent the mix again with a
slow ad hoc SQL query (one the time limit stops) in place of every --slow-every-th request, to show
what such queries do to the pages beside them. Each run stops after N requests or
--max-seconds, whichever comes first. Prints, side by side, requests per second, p50 and p99
latency and errors (a status other than 200, or no answer; for a slow query, other than 200, 400
or 503), then each kind of page's p50 and p99, and the table pages' p99 with and without slow queries. Stops both sites and exits non-zero on
errors (but for stock Datasette's behind slow queries, which are what the comparison shows).

    python -m scripts.tools.load_check --bundle dist/site --db FILE --inspect FILE --metadata FILE [-n 500] [-c 8]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from urllib.parse import quote
from collections import Counter
from pathlib import Path

import httpx

from ..common import ROOT
from ..site.serve import HOST, free_port, site_environment, wait_until_answering


def paths(metadata: dict, evidence_id: str, rows: dict[str, str] | None = None,
          sources: list[str] | None = None, route: str | None = None) -> list[tuple[str, str]]:
    """(kind, path) of every page in the mix: `rows` maps a table to the path of one of its rows,
    `sources` lists the archived sources (each has an annotated bulletin page); `route` is the
    database's route when it is not its name."""
    out = [("home", "/")]
    for name, spec in metadata["databases"].items():
        db = route or name
        out.append(("database", f"/{db}"))
        for table in spec["tables"]:
            out += [("table", f"/{db}/{table}"), ("json", f"/{db}/{table}.json?_shape=array&_size=max"),
                    ("csv", f"/{db}/{table}.csv?_size=max")]
        for query in spec.get("queries", {}):
            out.append(("query", f"/{db}/{query}.json?_shape=array&evidence_id={evidence_id}&row_id={evidence_id}"))
        out += [("row", f"/{db}/{table}/{quote(str(pk), safe='')}") for table, pk in (rows or {}).items()]
        out += [("bulletin", f"/{db}/-/bulletin/{quote(source, safe='')}") for source in sources or []]
    return out


def sample_rows(base: str, db: str, tables, timeout: float) -> tuple[dict[str, str], list[str]]:
    """The first row of every table (by its primary key) and the sources with an archived text; `db`
    is the database's route."""
    rows = {}
    for table in tables:
        response = httpx.get(f"{base}/{db}/{table}.json?_size=1", timeout=timeout)
        response.raise_for_status()
        data = response.json()
        if data["rows"] and len(data["primary_keys"]) == 1:
            rows[table] = data["rows"][0][data["columns"].index(data["primary_keys"][0])]
    texts = httpx.get(f"{base}/{db}/source_texts.json?_shape=array&_col=source_id", timeout=timeout)
    sources = [row["source_id"] for row in texts.json()] if texts.status_code == 200 else []
    return rows, sources


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(fraction * len(ordered)) - 1))]


SLOW = "slow"
# Ad hoc SQL that runs until the time limit (sql_time_limit_ms) stops it: answered 400, or 503 when
# the site refuses it at once (site/plugins/guard.py); either is the expected answer.
SLOW_SQL = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"
SLOW_STATUSES = (200, 400, 503)


def with_slow_queries(mix: list[tuple[str, str]], route: str, every: int, slow_ms: int | None = None):
    """The pages of `mix`, cycled, with a slow ad hoc query in place of every `every`-th request
    (none when `every` is 0), stopped by the site's time limit or, given `slow_ms`, sooner (`_timelimit`)."""
    slow = (SLOW, f"/{route}.json?sql={quote(SLOW_SQL)}" + (f"&_timelimit={slow_ms}" if slow_ms else ""))
    for number, job in enumerate(itertools.cycle(mix), 1):
        yield slow if every and number % every == 0 else job


async def run(base: str, mix: list[tuple[str, str]], total: int, concurrency: int, max_seconds: float,
              timeout: float, route: str = "", slow_every: int = 0, slow_ms: int | None = None) -> dict:
    latencies: list[float] = []
    by_kind: dict[str, list[float]] = {}
    errors: list[str] = []
    jobs = itertools.islice(with_slow_queries(mix, route, slow_every, slow_ms), total)
    deadline = time.monotonic() + max_seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=timeout, limits=limits) as client:
        async def worker():
            for kind, path in jobs:  # the workers share one iterator: N requests in all
                if time.monotonic() > deadline:
                    return
                started = time.perf_counter()
                try:
                    response = await client.get(path)
                    await response.aread()
                    if response.status_code not in (SLOW_STATUSES if kind == SLOW else (200,)):
                        errors.append(f"{response.status_code} {path}")
                except httpx.HTTPError as error:
                    errors.append(f"{type(error).__name__} {path}")
                latencies.append(time.perf_counter() - started)
                by_kind.setdefault(kind, []).append(latencies[-1])

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {"requests": len(latencies), "concurrency": concurrency, "seconds": elapsed,
            "req_per_s": len(latencies) / elapsed if elapsed else 0.0,
            "p50_ms": 1000 * statistics.median(latencies) if latencies else 0.0,
            "p99_ms": 1000 * percentile(latencies, 0.99) if latencies else 0.0,
            "max_ms": 1000 * max(latencies, default=0.0), "errors": len(errors), "error_samples": errors[:5],
            "stopped_by_time": len(latencies) < total,
            "by_kind": {kind: (len(times), 1000 * statistics.median(times), 1000 * percentile(times, 0.99))
                        for kind, times in sorted(by_kind.items())}}


def route_of(base: str, db: str, timeout: float) -> str:
    """The database's route on a site: its name, or where the name redirects (datasette-hashed-urls)."""
    answer = httpx.get(f"{base}/{db}.json", timeout=timeout, follow_redirects=False)
    if answer.status_code in (301, 302):
        return answer.headers["location"].lstrip("/").split("/")[0].removesuffix(".json")
    answer.raise_for_status()
    return db


def launch_site(command: list, env: dict, log: Path):
    """A site launched in the background on a free port of 127.0.0.1 (written where `command` or `env`
    says {port}): the process and its base URL (see wait_until_answering)."""
    port = str(free_port())
    with open(log, "w") as out:
        process = subprocess.Popen([str(a).replace("{port}", port) for a in command],
                                   env={k: v.replace("{port}", port) for k, v in env.items()},
                                   stdout=out, stderr=subprocess.STDOUT)
    return process, f"http://{HOST}:{port}"


def site_mix(base: str, db: str, metadata: dict, timeout: float, own_pages: bool) -> tuple[str, list[tuple[str, str]]]:
    """The database's route and the pages to request from the site at `base`; `own_pages`: with the
    canned queries and bulletins."""
    route = route_of(base, db, timeout)
    first = httpx.get(f"{base}/{route}/evidence.json?_shape=array&_size=1", timeout=timeout)
    first.raise_for_status()
    rows, sources = sample_rows(base, route, metadata["databases"][db]["tables"], timeout)
    mix = paths(metadata, first.json()[0]["evidence_id"], rows, sources if own_pages else [], route=route)
    return route, mix if own_pages else [(kind, path) for kind, path in mix if kind != "query"]


def report(name: str, base: str, mix: list, result: dict) -> None:
    print(f"{name} at {base}: {len(mix)} distinct pages "
          f"({', '.join(f'{k} {n}' for k, n in sorted(Counter(k for k, _ in mix).items()))})")
    print(f"  requests {result['requests']}  concurrency {result['concurrency']}  "
          f"time {result['seconds']:.2f} s  {result['req_per_s']:.1f} req/s  "
          f"p50 {result['p50_ms']:.1f} ms  p99 {result['p99_ms']:.1f} ms  max {result['max_ms']:.1f} ms  "
          f"errors {result['errors']}" + ("  (stopped by --max-seconds)" if result["stopped_by_time"] else ""))
    for sample in result["error_samples"]:
        print(f"  error: {sample}")


SLOW_LABEL = " + slow SQL"
STOCK = "stock datasette -i"


def side_by_side(results: dict[str, dict], slow_every: int = 0) -> None:
    names = list(results)
    kinds = sorted({kind for result in results.values() for kind in result["by_kind"]})
    print("p50 / p99 in ms by kind of page: " + "  |  ".join(names))
    for kind in kinds:
        cells = []
        for name in names:
            count, p50, p99 = results[name]["by_kind"].get(kind, (0, 0.0, 0.0))
            cells.append(f"{p50:7.1f} / {p99:7.1f} ({count:>4})" if count else f"{'(not served)':>24}")
        print(f"  {kind:<8} " + "  |  ".join(cells))
    for name in names:
        if name.endswith(SLOW_LABEL) and name.removesuffix(SLOW_LABEL) in results:
            alone = results[name.removesuffix(SLOW_LABEL)]["by_kind"].get("table", (0, 0.0, 0.0))[2]
            mixed = results[name]["by_kind"].get("table", (0, 0.0, 0.0))[2]
            print(f"{name.removesuffix(SLOW_LABEL)}: table pages' p99 with a slow query in every {slow_every} "
                  f"requests {mixed:.1f} ms, alone {alone:.1f} ms ({mixed / alone if alone else 0:.1f}x)")
    table = {n: results[n]["by_kind"].get("table", (0, 0.0, 0.0))[1] for n in names}
    own = [kind for kind in ("bulletin", "row") if kind in results[names[0]]["by_kind"] and table[names[0]]
           and results[names[0]]["by_kind"][kind][1] > 2 * table[names[0]]]
    print(f"{names[0]}: its own pages (bulletin, row) within 2x of a plain table page's p50: "
          + (f"NO ({', '.join(own)})" if own else "yes"))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / "site", help="the bundle's folder")
    parser.add_argument("--db", type=Path, required=True, help="the database, for stock Datasette")
    parser.add_argument("--inspect", type=Path, required=True, help="its inspect file")
    parser.add_argument("--metadata", type=Path, default=ROOT / "build" / "metadata.json")
    parser.add_argument("-n", "--requests", type=int, default=500, help="requests to each site (default 500)")
    parser.add_argument("-c", "--concurrency", type=int, default=8, help="requests in flight (default 8)")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="stop each run after this long (default 60)")
    parser.add_argument("--timeout", type=float, default=10.0, help="per-request timeout in seconds")
    parser.add_argument("--slow-every", type=int, default=5,
                        help="a second run of each site with a slow ad hoc SQL query in place of every Nth request "
                             "(default 5; 0: no second run)")
    parser.add_argument("--slow-ms", type=int, help="stop each slow query after this many milliseconds (_timelimit; "
                                                    "default: the site's own time limit)")
    args = parser.parse_args(argv)
    if not (1 <= args.concurrency <= args.requests <= 100_000):
        sys.exit("error: need 1 <= concurrency <= requests <= 100000")
    for path in (args.bundle / "start", args.db, args.inspect, args.metadata):
        if not path.exists():
            sys.exit(f"error: {path} not found (run `make bundle`)")
    metadata = json.loads(args.metadata.read_text(encoding="utf-8"))
    db = next(iter(metadata["databases"]))
    env = {**site_environment(None), "HOST": HOST, "PORT": "{port}", "PYTHON": sys.executable}
    stock_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SITE_URL")}
    sites = {"bundle": ([args.bundle.resolve() / "start"], env, True),
             STOCK: ([sys.executable, "-m", "datasette", "serve", "-i", args.db.resolve(),
                                     "--inspect-file", args.inspect.resolve(), "--host", HOST, "--port", "{port}"],
                                    stock_env, False)}
    results, logs = {}, Path(tempfile.mkdtemp(prefix="load-check-"))
    # Both sites start at once (each waits for its imports, not for the other's); each is then measured
    # in turn, the other idle.
    started = {}
    try:
        for name, (command, environment, _) in sites.items():
            started[name] = launch_site(command, environment, logs / f"{name.split()[0]}.log")
        for name, (process, base) in started.items():
            try:
                wait_until_answering(process, base, logs / f"{name.split()[0]}.log")
            except RuntimeError as error:
                sys.exit(f"error: {name}: {error}")
        for name, (_, _, own_pages) in sites.items():
            base = started[name][1]
            route, mix = site_mix(base, db, metadata, args.timeout, own_pages)
            for every, label in ((0, name), (args.slow_every, name + SLOW_LABEL))[:2 if args.slow_every else 1]:
                results[label] = asyncio.run(run(base, mix, args.requests, args.concurrency, args.max_seconds,
                                                 args.timeout, route, every, args.slow_ms))
                report(label, base, mix, results[label])
    finally:
        for process, _ in started.values():
            process.terminate()
        for process, _ in started.values():
            process.wait(timeout=30)
    side_by_side(results, args.slow_every)
    # Stock Datasette's timeouts behind slow queries are what the comparison shows, not a failure.
    failing = [name for name, result in results.items() if result["errors"] and not name.startswith(STOCK + SLOW_LABEL)]
    sys.exit(1 if failing else 0)


if __name__ == "__main__":
    main()
