"""The site in a real browser: Debian's chromium driven by Playwright, against the
site as `make serve` runs it (scripts.site.serve, a Datasette process on 127.0.0.1)."""

from __future__ import annotations

import json
import re

import pytest
from conftest import ROOT, read_table

from scripts.tools.screenshots import FIGURE


PACKAGE = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
DB = PACKAGE["name"]


@pytest.fixture(scope="module")
def site(served):
    """The site served by scripts.site.serve on a free port of 127.0.0.1 (conftest's `served`)."""
    return served


# Content-Security-Policy violations (site/plugins/guard.py sends the policy): chromium reports each
# as a console error and as a securitypolicyviolation event on the document.
CSP_LISTENER = """document.addEventListener("securitypolicyviolation", function (e) {
  (window.__csp = window.__csp || []).push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile);
});"""


def watch_csp(page) -> list[str]:
    """Every CSP violation on `page`'s documents, as they happen (a list the test reads at the end)."""
    violations = []
    page.add_init_script(CSP_LISTENER)
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    return violations


def csp_events(page) -> list[str]:
    return page.evaluate("window.__csp || []")


@pytest.fixture(scope="module")
def route(site):
    """The database's route on the served site, `<name>-<hash>` (datasette-hashed-urls): the site's
    links carry it, and its plain name redirects there."""
    import httpx
    answer = httpx.get(f"{site}/{DB}", follow_redirects=False)
    assert answer.status_code == 302 and answer.headers["location"].startswith(f"/{DB}-")
    return answer.headers["location"].lstrip("/")


def test_browse_follow_evidence_run_timeline_and_search(chromium, site, route, tmp_path):
    evidence = {row["evidence_id"]: row["quote"] for row in read_table("evidence")}
    page = chromium.new_page(viewport={"width": 1280, "height": 1000})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    violations = watch_csp(page)

    page.goto(f"{site}/")
    assert page.locator("h1").inner_text() == PACKAGE["title"]
    assert page.locator(f"a[href='{PACKAGE['licenses'][0]['path']}']").first.inner_text() == \
        PACKAGE["licenses"][0]["name"]

    page.click(f"a[href='/{route}']")
    page.wait_for_url(f"{site}/{route}")
    page.click(f"a[href='/{route}/personnel']")
    page.wait_for_url(f"{site}/{route}/personnel")
    figures = read_table("personnel")
    assert page.locator("table.rows-and-columns tbody tr").count() == len(figures)

    link = page.locator("table.rows-and-columns td.col-evidence_id a").first
    target = link.get_attribute("href")
    evidence_id = target.rsplit("/", 1)[1]
    assert evidence_id in {f["evidence_id"] for f in figures}
    link.click()  # Datasette's own label links name the database, which redirects to its route
    page.wait_for_url(f"{site}/{route}/evidence/{evidence_id}")
    assert page.locator("td.col-quote").inner_text() == evidence[evidence_id]

    page.goto(f"{site}/{route}")
    page.click("text=Timeline of every bulletin, in one order")
    page.wait_for_url(f"{site}/{route}/timeline")
    shown = page.locator("table.rows-and-columns td.col-event_id").all_inner_texts()
    # Every bulletin's events on the one timeline the build computes (column timeline).
    assert shown == [e["event_id"] for e in sorted(read_table("events"), key=lambda e: int(e["timeline"]))]

    page.goto(f"{site}/{route}/evidence")
    page.fill("#_search", "officers")
    page.press("#_search", "Enter")
    page.wait_for_url("**_search=officers**")
    quotes = page.locator("table.rows-and-columns td.col-quote").all_inner_texts()
    # The search ignores case and stems the word (porter): "Officers", "officer" and "officers" all match.
    word = re.compile(r"\bofficers?\b", re.IGNORECASE)
    assert quotes and all(word.search(q) for q in quotes)
    assert len(quotes) == sum(bool(word.search(q)) for q in evidence.values())

    shot = tmp_path / "evidence-search.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not errors, f"JavaScript errors on the pages: {errors}"
    assert not violations + csp_events(page), f"Content-Security-Policy violations: {violations + csp_events(page)}"


SCREENSHOTS = ROOT / "build" / "screenshots"


def test_from_the_home_page_to_a_figure_in_its_words_and_back_to_its_evidence(chromium, site, route):
    """Open the annotated bulletin from the home page, click the 3,800 figure's words, land on its
    personnel row, see the quote marked in its sentences, and follow the evidence link."""
    figure = next(row for row in read_table("personnel") if row["count_max"] == "3800")
    (span,) = [row for row in read_table("evidence") if row["evidence_id"] == figure["evidence_id"]]
    quote, source_id = span["quote"], span["source_id"]
    page = chromium.new_page(viewport={"width": 1280, "height": 1000})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    violations = watch_csp(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{site}/")
    page.locator(f"a.bulletin-link[href='/{route}/-/bulletin/{source_id}']").click()  # the figure's bulletin
    page.wait_for_url(f"{site}/{route}/-/bulletin/{source_id}")
    text = page.locator("#bulletin-text")
    assert text.locator("mark").count() >= sum(row["source_id"] == source_id for row in read_table("evidence"))
    words = text.locator("a", has_text="3,800")
    words.hover()  # the side panel lists the spans under the pointer
    assert figure["personnel_id"] in page.locator("#focus-list").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "bulletin.png"), full_page=True)
    words.click()
    page.wait_for_url(f"{site}/{route}/personnel/{figure['personnel_id']}")

    context = page.locator(f".evidence-item[data-evidence='{figure['evidence_id']}'] blockquote.in-context")
    assert context.locator("mark").inner_text() == quote
    assert len(context.inner_text()) > len(quote) + 40, "the quote is shown with the sentences around it"
    page.screenshot(path=str(SCREENSHOTS / "row.png"), full_page=True)
    page.locator(f".evidence-item[data-evidence='{figure['evidence_id']}'] a.evidence-link").click()
    page.wait_for_url(f"{site}/{route}/evidence/{figure['evidence_id']}")
    assert page.locator("td.col-quote").inner_text() == quote
    assert page.locator(f"section.used-by a[href='/{route}/personnel/{figure['personnel_id']}']").count() == 1
    assert f"]({FIGURE.as_posix()})" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert (ROOT / FIGURE).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", "run `make screenshots`"
    for shot in ("bulletin.png", "row.png"):
        assert (SCREENSHOTS / shot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not errors, f"JavaScript errors on the pages: {errors}"
    assert not violations, f"Content-Security-Policy violations: {violations}"


def test_the_content_security_policy_refuses_an_injected_script(chromium, site, route):
    """The policy is enforced, and the watcher the tests above rely on sees a violation: a script
    added to a page (as an injection would) does not run and is reported."""
    page = chromium.new_page()
    violations = watch_csp(page)
    page.goto(f"{site}/{route}")
    ran = page.evaluate("""() => { const s = document.createElement("script");
        s.textContent = "window.__injected = true"; document.body.appendChild(s); return window.__injected || false; }""")
    page.wait_for_timeout(200)
    assert ran is False
    assert violations and any("script-src" in v for v in csp_events(page)), (violations, csp_events(page))

