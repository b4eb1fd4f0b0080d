"""Step 6 of the flow: serve build/<name>.db with Datasette on 127.0.0.1, read-only.

The database is opened immutable (`-i`, with the inspect file's row counts),
SQL queries stop after SETTINGS["sql_time_limit_ms"], and no page returns more
than SETTINGS["max_returned_rows"] rows. Datasette 0.65 has no write API. The
site's own pages (the annotated bulletin, rows in context, the sitemap) are the
plugins in site/plugins/ and the templates in site/templates/, which only read;
the one plugin installed from a package, datasette-hashed-urls
(requirements-site.txt), serves the database under URLs that change with what the
pages are made of, so they can be cached for good. A port that is already in use
is reported before anything starts.

--release names the release archive (dist/<name>-<version>.zip, `make dist`) that the site serves
under /-/download, the archive and each file in it byte for byte (site/plugins/downloads.py).

SITE_URL (or --site-url) is the site's public address: canonical links, the row
citations' permanent URLs, the sitemap and the JSON-LD use it. Unset, the site says
it runs at a local address and its citations carry no URL.

`datasette_args` is the one place the command line is written: `make serve` runs it
here, and scripts/site/build_bundle.py writes it into the bundle's `start` script.

    python -m scripts.site.serve --db FILE --metadata FILE --inspect FILE [--port 8001] [--site-url URL] [--release ZIP]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
from pathlib import Path

HOST = "127.0.0.1"
SITE = Path(__file__).resolve().parents[2] / "site"
PLUGINS_DIR = SITE / "plugins"      # Datasette's --plugins-dir
TEMPLATES_DIR = SITE / "templates"  # Datasette's --template-dir
SERVER = SITE / "server.py"         # `datasette` with the server's limits (connections, headers' time)
DEFAULT_PORT = 8001
# The settings the site runs with; the tests build their in-process Datasette from the same ones.
SETTINGS = {
    "sql_time_limit_ms": 1000,
    "max_returned_rows": 1000,
    "facet_time_limit_ms": 200,
    "allow_download": True,
    # Each table's facets are chosen in its metadata; Datasette's suggestions (every column that
    # could be a facet, IDs and quotes included) cost a query per column on every table page.
    "suggest_facets": False,
}


def port_in_use(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


# The site's Datasette plugins installed from packages (requirements-site.txt), in a folder of the
# virtual environment that is off its path (see requirements-site.txt): put on the site's PYTHONPATH.
SITE_PLUGIN_PACKAGES = Path(sys.prefix) / "site-plugins"


def datasette_args(server, db, metadata, inspect, plugins_dir, templates_dir, host, port) -> list:
    """`datasette serve` with the site's files and settings, run by site/server.py (at `server`), which
    adds the server's limits, as a list of arguments (after `python`). An argument may be any object:
    scripts.site.build_bundle passes shell variables."""
    args = [server, "serve", "-i", db, "--inspect-file", inspect, "--metadata", metadata,
            "--plugins-dir", plugins_dir, "--template-dir", templates_dir, "--host", host, "--port", port]
    for name, value in SETTINGS.items():
        args += ["--setting", name, ("on" if value else "off") if isinstance(value, bool) else str(value)]
    return args


def datasette_command(db: Path, metadata: Path, inspect: Path, port: int) -> list[str]:
    return [sys.executable, *map(str, datasette_args(SERVER, db, metadata, inspect, PLUGINS_DIR, TEMPLATES_DIR,
                                                     HOST, port))]


def check_site_url(site_url: str | None) -> str | None:
    """The public address without a final slash; None when unset. Raises ValueError when it is not
    an http(s) address of a host (a path is allowed; no query or fragment)."""
    from urllib.parse import urlsplit
    if not site_url:
        return None
    parts = urlsplit(site_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"SITE_URL must be an http(s) address such as https://data.example.org, not {site_url!r}")
    return site_url.rstrip("/")


def site_environment(site_url: str | None, base: dict | None = None, release: Path | None = None) -> dict:
    """The environment the site runs in: the public address (SITE_URL) and the release archive it
    serves for download (RELEASE_ARCHIVE), both read by site/plugins through the metadata, and the
    site's plugin packages on PYTHONPATH."""
    env = dict(os.environ if base is None else base)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SITE_PLUGIN_PACKAGES), env.get("PYTHONPATH")) if p)
    env.pop("SITE_URL", None)
    if site_url:
        env["SITE_URL"] = site_url
    if release is not None:
        env["RELEASE_ARCHIVE"] = str(Path(release).resolve())
    return env


def wait_until_answering(process, base: str, log: Path, timeout: float = 60) -> None:
    """Wait until the site started as `process` answers at `base`; raises RuntimeError with the end
    of its log (and stops it) when it does not."""
    import time
    import urllib.request
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/-/versions.json", timeout=2).close()
            return
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError(f"the site did not start on {base}: {Path(log).read_text()[-2000:]}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_on_a_free_port(db: Path, metadata: Path, inspect: Path, log: Path, timeout: float = 60,
                         site_url: str | None = None, release: Path | None = None):
    """The site as `make serve` runs it, in the background on a free port of HOST, once it answers:
    (process, base URL). The caller stops the process. Raises RuntimeError with the server's log
    when it does not start."""
    port = free_port()
    with open(log, "w") as out:
        process = subprocess.Popen(datasette_command(db, metadata, inspect, port), stdout=out,
                                   stderr=subprocess.STDOUT, env=site_environment(site_url, release=release))
    base = f"http://{HOST}:{port}"
    wait_until_answering(process, base, log, timeout)
    return process, base


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--metadata", type=Path, required=True)
    parser.add_argument("--inspect", type=Path, required=True)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--site-url", default=os.environ.get("SITE_URL"),
                        help="the public address (default: $SITE_URL; unset: a local address)")
    parser.add_argument("--release", type=Path, default=None,
                        help="the release archive to serve under /-/download (make dist; default: none)")
    args = parser.parse_args(argv)
    try:
        site_url = check_site_url(args.site_url)
    except ValueError as error:
        sys.exit(f"error: {error}")
    for path in (args.db, args.metadata, args.inspect, *([args.release] if args.release else [])):
        if not path.exists():
            sys.exit(f"error: {path} not found (run `make serve`, which builds it)")
    if port_in_use(args.port):
        sys.exit(f"error: port {args.port} on {HOST} is already in use (another `make serve`?). "
                 f"Stop what holds it, or choose another port: make serve PORT={args.port + 1}")
    print(f"Serving {args.db.stem} at http://{HOST}:{args.port}/  (Ctrl-C stops it); public address: "
          + (site_url or "none (SITE_URL unset: citations carry no URL)"), flush=True)
    command = datasette_command(args.db, args.metadata, args.inspect, args.port)
    os.execve(command[0], command, site_environment(site_url, release=args.release))


if __name__ == "__main__":
    main()
