"""Step 7 of the flow: build/ -> dist/site/, the site as a folder that runs on its own.

The folder holds the database, its metadata and inspect file, the release archive the site
serves for download (release/<name>-<version>.zip, from `make dist`), the site's plugins and
templates (site/), a requirements.txt pinned like the project's (Datasette and what it
needs, from requirements.txt, and the site's plugin packages, from requirements-site.txt),
an executable `start` and a Dockerfile that installs the requirements and runs `start`.

`start` runs Datasette from its folder with the command line scripts/site/serve.py writes
(`datasette_args`: the same immutable, read-only settings as `make serve`, through the site's
server.py, which bounds connections and the time to send a request), on HOST
(default 0.0.0.0, for containers) and PORT (default 8001), with SITE_URL as the public
address (default: --site-url, else none) and RELEASE_ARCHIVE the archive it serves (default:
the one in release/). The folder is written beside the old one and
renamed into place: a failed build leaves the last bundle as it was.

    python -m scripts.site.build_bundle --db FILE --metadata FILE --inspect FILE --release ZIP [--out dist/site] [--site-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import sys
import tempfile
from importlib import metadata as importlib_metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from ..common import ROOT, BuildError, fail
from .serve import (DEFAULT_PORT, PLUGINS_DIR, SERVER, SITE_PLUGIN_PACKAGES, TEMPLATES_DIR, check_site_url,
                    datasette_args)

REQUIREMENTS = (ROOT / "requirements.txt", ROOT / "requirements-site.txt")
SITE_ROOTS = ["datasette"]  # what the site imports (site/plugins use datasette and markupsafe, one of its needs)
PYTHON_IMAGE = "python:3.11-slim"
# Installed with Python itself (in a venv and in the Python image), not pinned by the project.
WITH_PYTHON = {"pip", "setuptools", "wheel"}


class ShellWord(str):
    """An argument written into the script as it is (a quoted shell variable), not quoted."""


def pins(files=REQUIREMENTS) -> dict[str, tuple[str, Path]]:
    """Package (canonical name) -> (its `name==version` line, the file pinning it)."""
    out = {}
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            line = line.split("#")[0].strip()
            if not line:
                continue
            requirement = Requirement(line)
            if len(requirement.specifier) != 1 or next(iter(requirement.specifier)).operator != "==":
                raise BuildError(path, f"{line!r} is not pinned with ==", line=number)
            out[canonicalize_name(requirement.name)] = (line, path)
    return out


def site_requirements(files=REQUIREMENTS, roots=SITE_ROOTS) -> list[str]:
    """The pinned lines of Datasette (or of the `roots` given), the site's plugin packages and
    everything they need (their installed metadata, markers evaluated for this Python, no extras)."""
    pinned = pins(files)
    roots = list(roots) + [name for name, (_, path) in pinned.items() if path.name == "requirements-site.txt"]
    return closure(pinned, roots)


def closure(pinned: dict[str, tuple[str, Path]], roots: list[str]) -> list[str]:
    """The pinned lines of `roots` and of everything they need, sorted by name: what the installed
    metadata says each needs, each of them pinned (a BuildError names one that is not)."""
    installed = {canonicalize_name(d.metadata["Name"]): d
                 for d in importlib_metadata.distributions(path=[str(SITE_PLUGIN_PACKAGES), *sys.path])}
    needed, todo = {}, [(canonicalize_name(r), "the site") for r in roots]
    while todo:
        name, parent = todo.pop()
        if name in needed or name in WITH_PYTHON:
            continue
        if name not in pinned:
            raise BuildError(REQUIREMENTS[0], f"{name} (needed by {parent}) is not pinned")
        dist = installed.get(name)
        line, path = pinned[name]
        if dist is None or f"=={dist.version}" not in line.replace(" ", ""):
            raise BuildError(path, f"{line} is not what is installed ({dist.version if dist else 'nothing'}): "
                                   "run `make` to install the pinned requirements")
        needed[name] = line
        for text in dist.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append((canonicalize_name(requirement.name), name))
    return [needed[name] for name in sorted(needed)]


RELEASE_FOLDER = "release"


def start_script(db_name: str, title: str, site_url: str | None, release_name: str) -> str:
    args = datasette_args(SERVER.name, db_name, "metadata.json", "inspect.json", "plugins", "templates",
                          ShellWord('"$HOST"'), ShellWord('"$PORT"'))
    command = " ".join(a if isinstance(a, ShellWord) else shlex.quote(str(a)) for a in args)
    return f"""#!/bin/sh
# {title}: the site, run from this folder (written by `make bundle`, scripts/site/build_bundle.py).
#   HOST      the address to listen on (default 0.0.0.0, for a container)
#   PORT      the port (default {DEFAULT_PORT})
#   SITE_URL  the site's public address, e.g. https://data.example.org (default: {site_url or "none"});
#             canonical links, row citations, the sitemap and the JSON-LD use it
#   RELEASE_ARCHIVE  the release archive served under /-/download (default: {RELEASE_FOLDER}/{release_name})
#   PYTHON    the Python that has requirements.txt installed (default python3)
# The database is opened immutable and read-only, with the settings and server limits of `make serve`
# ({SERVER.name}: connections, time to send a request's headers; docs/security.md).
set -eu
cd "$(dirname "$0")"
HOST="${{HOST:-0.0.0.0}}"
PORT="${{PORT:-{DEFAULT_PORT}}}"
SITE_URL="${{SITE_URL-{site_url or ""}}}"
SITE_URL="${{SITE_URL%/}}"
case "$SITE_URL" in
  "" | http://?* | https://?*) ;;
  *) echo "error: SITE_URL must be an http(s) address such as https://data.example.org, not '$SITE_URL'" >&2; exit 2 ;;
esac
export SITE_URL
RELEASE_ARCHIVE="${{RELEASE_ARCHIVE:-$PWD/{RELEASE_FOLDER}/{release_name}}}"
export RELEASE_ARCHIVE
exec "${{PYTHON:-python3}}" {command}
"""


def dockerfile(title: str) -> str:
    return f"""# {title}: the site as a container (written by `make bundle`).
#   docker build -t site . && docker run -p 8001:8001 -e SITE_URL=https://data.example.org site
# Container hosts that set PORT (Cloud Run, and others) are followed; HOST is 0.0.0.0.
FROM {PYTHON_IMAGE}
WORKDIR /site
COPY requirements.txt .
RUN pip install --no-cache-dir --disable-pip-version-check -r requirements.txt
COPY . .
RUN useradd --system --no-create-home site && chmod -R a+rX /site
USER site
ENV HOST=0.0.0.0 PORT={DEFAULT_PORT}
EXPOSE {DEFAULT_PORT}
CMD ["./start"]
"""


def write_bundle(out: Path, db: Path, metadata: Path, inspect: Path, site_url: str | None, release: Path) -> None:
    for path in (db, metadata, inspect):
        if not path.exists():
            raise BuildError(path, "not built (run `make db`)")
    if not release.is_file():
        raise BuildError(release, "not built (run `make dist`)")
    site_metadata = json.loads(metadata.read_text(encoding="utf-8"))
    title = site_metadata.get("title", db.stem)
    inspect_data = json.loads(inspect.read_text(encoding="utf-8"))
    if db.stem not in inspect_data:
        raise BuildError(inspect, f"does not describe the database {db.stem}")
    inspect_data[db.stem]["file"] = db.name
    requirements = site_requirements()
    out.parent.mkdir(parents=True, exist_ok=True)
    umask = os.umask(0)  # the bundle's files get the modes of new files (mkdtemp's folder is 700)
    os.umask(umask)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        staging.chmod(0o777 & ~umask)
        shutil.copy2(db, staging / db.name)
        shutil.copy2(metadata, staging / "metadata.json")
        (staging / RELEASE_FOLDER).mkdir()
        (staging / RELEASE_FOLDER).chmod(0o777 & ~umask)
        shutil.copy2(release, staging / RELEASE_FOLDER / release.name)
        (staging / "inspect.json").write_text(json.dumps(inspect_data, indent=2) + "\n", encoding="utf-8")
        for source, name in ((PLUGINS_DIR, "plugins"), (TEMPLATES_DIR, "templates")):
            shutil.copytree(source, staging / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        (staging / "requirements.txt").write_text(
            "# Pinned as the project's requirements.txt and requirements-site.txt (scripts/site/build_bundle.py)\n"
            + "\n".join(requirements) + "\n", encoding="utf-8")
        (staging / "start").write_text(start_script(db.name, title, site_url, release.name), encoding="utf-8")
        (staging / "start").chmod(0o777 & ~umask | 0o111)
        shutil.copy2(SERVER, staging / SERVER.name)
        (staging / "Dockerfile").write_text(dockerfile(title), encoding="utf-8")
        (staging / ".dockerignore").write_text("Dockerfile\n.dockerignore\n", encoding="utf-8")
        old = None
        if out.exists():
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            os.replace(out, old)
        os.replace(staging, out)
        if old:
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--metadata", type=Path, required=True)
    parser.add_argument("--inspect", type=Path, required=True)
    parser.add_argument("--release", type=Path, required=True, help="the release archive (make dist)")
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "site")
    parser.add_argument("--site-url", default=os.environ.get("SITE_URL"),
                        help="the public address `start` uses when SITE_URL is not set (default: $SITE_URL)")
    args = parser.parse_args(argv)
    try:
        site_url = check_site_url(args.site_url)
        write_bundle(args.out, args.db, args.metadata, args.inspect, site_url, args.release)
    except ValueError as error:
        sys.exit(f"error: {error}")
    except BuildError as error:
        fail(error)
    print(f"build_bundle: wrote {args.out} (public address: {site_url or 'none; set SITE_URL when starting it'})")


if __name__ == "__main__":
    main()
