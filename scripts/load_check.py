"""A bounded load check of the running site (`make serve`) on 127.0.0.1.

Sends N requests, at most C at a time, cycling through a mix of pages taken
from build/metadata.json: every table's HTML page, its JSON and its CSV, and
every canned query as JSON. Stops after N requests or --max-seconds, whichever
comes first, and prints requests per second, p50 and p99 latency and the
error count (a status other than 200, or no answer). Exits non-zero on errors.

    python -m scripts.load_check [--port 8001] [-n 500] [-c 8] [--metadata build/metadata.json]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import sys
import time
from urllib.parse import quote
from collections import Counter
from pathlib import Path

import httpx

from .common import ROOT
from .serve import DEFAULT_PORT, HOST


def paths(metadata: dict, evidence_id: str, rows: dict[str, str] | None = None,
          sources: list[str] | None = None) -> list[tuple[str, str]]:
    """(kind, path) of every page in the mix: `rows` maps a table to the path of one of its rows,
    `sources` lists the archived sources (each has an annotated bulletin page)."""
    out = [("home", "/")]
    for db, spec in metadata["databases"].items():
        for table in spec["tables"]:
            out += [("table", f"/{db}/{table}"), ("json", f"/{db}/{table}.json?_shape=array&_size=max"),
                    ("csv", f"/{db}/{table}.csv?_size=max")]
        for query in spec.get("queries", {}):
            out.append(("query", f"/{db}/{query}.json?_shape=array&evidence_id={evidence_id}&row_id={evidence_id}"))
        out += [("row", f"/{db}/{table}/{quote(str(pk), safe='')}") for table, pk in (rows or {}).items()]
        out += [("bulletin", f"/{db}/-/bulletin/{quote(source, safe='')}") for source in sources or []]
    return out


def sample_rows(base: str, db: str, metadata: dict, timeout: float) -> tuple[dict[str, str], list[str]]:
    """The first row of every table (by its primary key) and the sources with an archived text."""
    rows = {}
    for table in metadata["databases"][db]["tables"]:
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


async def run(base: str, mix: list[tuple[str, str]], total: int, concurrency: int, max_seconds: float,
              timeout: float) -> dict:
    latencies: list[float] = []
    by_kind: dict[str, list[float]] = {}
    errors: list[str] = []
    jobs = itertools.islice(itertools.cycle(mix), total)
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
                    if response.status_code != 200:
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


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("-n", "--requests", type=int, default=500, help="requests in all (default 500)")
    parser.add_argument("-c", "--concurrency", type=int, default=8, help="requests in flight (default 8)")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="stop after this long (default 60)")
    parser.add_argument("--timeout", type=float, default=10.0, help="per-request timeout in seconds")
    parser.add_argument("--metadata", type=Path, default=ROOT / "build" / "metadata.json")
    args = parser.parse_args(argv)
    if not (1 <= args.concurrency <= args.requests <= 100_000):
        sys.exit("error: need 1 <= concurrency <= requests <= 100000")
    base = f"http://{HOST}:{args.port}"
    metadata = json.loads(args.metadata.read_text(encoding="utf-8"))
    db = next(iter(metadata["databases"]))
    try:
        first = httpx.get(f"{base}/{db}/evidence.json?_shape=array&_size=1", timeout=args.timeout)
        first.raise_for_status()
    except httpx.HTTPError as error:
        sys.exit(f"error: no site answering at {base}/{db} ({error}); start it with `make serve`")
    rows, sources = sample_rows(base, db, metadata, args.timeout)
    mix = paths(metadata, first.json()[0]["evidence_id"], rows, sources)
    result = asyncio.run(run(base, mix, args.requests, args.concurrency, args.max_seconds, args.timeout))
    print(f"load check against {base}: {len(mix)} distinct pages "
          f"({', '.join(f'{k} {n}' for k, n in sorted(Counter(k for k, _ in mix).items()))})")
    print(f"requests {result['requests']}  concurrency {result['concurrency']}  "
          f"time {result['seconds']:.2f} s  {result['req_per_s']:.1f} req/s  "
          f"p50 {result['p50_ms']:.1f} ms  p99 {result['p99_ms']:.1f} ms  max {result['max_ms']:.1f} ms  "
          f"errors {result['errors']}" + ("  (stopped by --max-seconds)" if result["stopped_by_time"] else ""))
    table_p50 = result["by_kind"].get("table", (0, 0.0, 0.0))[1]
    for kind, (count, p50, p99) in result["by_kind"].items():
        ratio = f"  {p50 / table_p50:.2f}x a table page's p50" if table_p50 and kind != "table" else ""
        print(f"  {kind:<8} {count:>6} requests  p50 {p50:.1f} ms  p99 {p99:.1f} ms{ratio}")
    slow = [kind for kind in ("bulletin", "row") if kind in result["by_kind"] and table_p50
            and result["by_kind"][kind][1] > 2 * table_p50]
    print("new pages (bulletin, row) within 2x of a plain table page's p50: "
          + (f"NO ({', '.join(slow)})" if slow else "yes"))
    for sample in result["error_samples"]:
        print(f"  error: {sample}")
    sys.exit(1 if result["errors"] else 0)


if __name__ == "__main__":
    main()
