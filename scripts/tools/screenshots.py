"""The README's picture of the site: the annotated bulletin, as `make serve` serves it, taken in
Debian's chromium driven by Playwright (`make screenshots`).

Serves build/<name>.db with scripts.site.serve on a free port of 127.0.0.1, opens the annotated
bulletin, points at the 3,800 figure's words (the side panel lists the rows that use them), and
writes the top of the page to figures/site-bulletin.png. Stops the site afterwards.

    python -m scripts.tools.screenshots [--root DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..common import ROOT, atomic_write_bytes
from ..site.serve import start_on_a_free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
FIGURE = Path("figures") / "site-bulletin.png"
VIEWPORT = {"width": 1280, "height": 1100}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--out", type=Path, help=f"PNG file (default: ROOT/{FIGURE})")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        sys.exit(f"error: {CHROMIUM} not found: install Debian's chromium (`apt-get install -y chromium`)")
    name = json.loads((args.root / "datapackage.json").read_text(encoding="utf-8"))["name"]
    build = args.root / "build"
    from playwright.sync_api import sync_playwright
    try:
        process, base = start_on_a_free_port(build / f"{name}.db", build / "metadata.json", build / "inspect.json",
                                             build / "screenshots-serve.log")
    except RuntimeError as error:
        sys.exit(f"error: {error}")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(f"{base}/")
            page.locator("a.bulletin-link").first.click()
            page.wait_for_url(f"{base}/{name}*/-/bulletin/**")  # under its hashed route
            words = page.locator("#bulletin-text a", has_text="3,800")
            words.hover()
            page.evaluate("window.scrollTo(0, 0)")
            data = page.screenshot()
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=20)
    out = args.out or args.root / FIGURE
    atomic_write_bytes(out, data)
    out.chmod(0o644)
    print(f"screenshots: wrote {out}")


if __name__ == "__main__":
    main()
