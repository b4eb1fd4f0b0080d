"""Step 6 of the flow: serve build/<name>.db with Datasette on 127.0.0.1, read-only.

The database is opened immutable (`-i`, with the inspect file's row counts),
SQL queries stop after SETTINGS["sql_time_limit_ms"], and no page returns more
than SETTINGS["max_returned_rows"] rows. Datasette 0.65 has no write API; no
plugins are installed from packages (no write or install routes): the site's own
pages (the annotated bulletin, rows in context) are the plugins in site/plugins/
and the templates in site/templates/, which only read. A port that is already
in use is reported before anything starts.

    python -m scripts.serve --db FILE --metadata FILE --inspect FILE [--port 8001]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
from pathlib import Path

HOST = "127.0.0.1"
SITE = Path(__file__).resolve().parent.parent / "site"
PLUGINS_DIR = SITE / "plugins"      # Datasette's --plugins-dir
TEMPLATES_DIR = SITE / "templates"  # Datasette's --template-dir
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


def datasette_command(db: Path, metadata: Path, inspect: Path, port: int) -> list[str]:
    command = [sys.executable, "-m", "datasette", "serve", "-i", str(db), "--inspect-file", str(inspect),
               "--metadata", str(metadata), "--plugins-dir", str(PLUGINS_DIR), "--template-dir", str(TEMPLATES_DIR),
               "--host", HOST, "--port", str(port)]
    for name, value in SETTINGS.items():
        command += ["--setting", name, ("on" if value else "off") if isinstance(value, bool) else str(value)]
    return command


def start_on_a_free_port(db: Path, metadata: Path, inspect: Path, log: Path, timeout: float = 60):
    """The site as `make serve` runs it, in the background on a free port of HOST, once it answers:
    (process, base URL). The caller stops the process. Raises RuntimeError with the server's log
    when it does not start."""
    import time
    import urllib.request
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port = sock.getsockname()[1]
    with open(log, "w") as out:
        process = subprocess.Popen(datasette_command(db, metadata, inspect, port), stdout=out, stderr=subprocess.STDOUT)
    base = f"http://{HOST}:{port}"
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/-/versions.json", timeout=2).close()
            return process, base
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError(f"the site did not start on {base}: {Path(log).read_text()[-2000:]}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--metadata", type=Path, required=True)
    parser.add_argument("--inspect", type=Path, required=True)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    for path in (args.db, args.metadata, args.inspect):
        if not path.exists():
            sys.exit(f"error: {path} not found (run `make serve`, which builds it)")
    if port_in_use(args.port):
        sys.exit(f"error: port {args.port} on {HOST} is already in use (another `make serve`?). "
                 f"Stop what holds it, or choose another port: make serve PORT={args.port + 1}")
    print(f"Serving {args.db.stem} at http://{HOST}:{args.port}/  (Ctrl-C stops it)", flush=True)
    command = datasette_command(args.db, args.metadata, args.inspect, args.port)
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
