"""Pages everyone can use: axe-core (from npm, run in Debian's chromium through Playwright) finds no
critical or serious violation on the site's pages, every page names its language, a table page shows
its first rows within the first screen, the bulletin's legend tells every table apart by more than
colour, and the dataset's citation is printed once per page."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import ROOT, read_table

PACKAGE = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
DB = PACKAGE["name"]
# axe-core, installed by .ci/run (`npm install --prefix .ci/node axe-core@<version>`).
AXE_VERSION = "4.14.1"
AXE = ROOT / ".ci" / "node" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("critical", "serious")
SCREEN = {"width": 1280, "height": 800}


def axe_script() -> Path:
    if not AXE.exists():
        message = (f"the accessibility test needs axe-core at {AXE}: install it with "
                   f"`npm install --prefix .ci/node axe-core@{AXE_VERSION}` (.ci/run does)")
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (under CI=true the test never skips)")
        pytest.skip(message)
    version = json.loads((AXE.parent / "package.json").read_text(encoding="utf-8"))["version"]
    assert version == AXE_VERSION, f"axe-core {version} installed, {AXE_VERSION} pinned: reinstall it"
    return AXE


def pages(site: str) -> dict[str, str]:
    """The pages checked: home, a table, a row, each annotated bulletin, the codebook and the downloads."""
    claim = read_table("claims")[0]["claim_id"]
    bulletins = [row["source_id"] for row in read_table("sources") if row["path"]]
    out = {"home": "/", "table": f"/{DB}/claims", "row": f"/{DB}/claims/{claim}", "codebook": "/-/codebook",
           "download": "/-/download"}
    out.update({f"bulletin {source}": f"/{DB}/-/bulletin/{source}" for source in bulletins})
    return {name: site + path for name, path in out.items()}


def axe_violations(page) -> list[dict]:
    """axe-core run on the page open in `page`."""
    page.add_script_tag(path=str(axe_script()))
    return page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")


def summary(violations: list[dict]) -> dict[str, int]:
    """Violations (rules) and the elements they hit, by impact."""
    out = {}
    for v in violations:
        out[v["impact"]] = out.get(v["impact"], 0) + len(v["nodes"])
    return out


LEGEND = """() => ({
  tables: [...document.querySelectorAll('.legend li[data-table]')].map(e => e.dataset.table),
  looks: [...document.querySelectorAll('.legend li[data-table] .legend-swatch')].map(e => {
    const s = getComputedStyle(e); return [s.backgroundColor, s.backgroundImage]; }),
  marks: [...document.querySelectorAll('#bulletin-text mark.span[data-table]')].map(e => [e.dataset.table,
    getComputedStyle(e).getPropertyValue('--k').trim(), getComputedStyle(e).getPropertyValue('--p').trim()]),
})"""


@pytest.fixture(scope="module")
def visited(chromium, served):
    """Each page of `pages()` loaded once: {name: {"lang", "text", "legend", "axe"}}, the page's language,
    its text as shown, its legend (bulletin pages) and what axe-core finds there; the tests below read it."""
    axe_script()
    # The auditor is injected into each page after the rest is read: its script is no part of the site,
    # so the site's Content-Security-Policy (which refuses any other script, checked in
    # tests/test_browser.py) is bypassed for this page alone.
    page = chromium.new_page(viewport=SCREEN, bypass_csp=True)
    results = {}
    for name, url in pages(served).items():
        page.goto(url)
        results[name] = {"lang": page.evaluate("document.documentElement.lang"),
                         "text": page.evaluate("document.body.innerText"),
                         "legend": page.evaluate(LEGEND) if name.startswith("bulletin") else None,
                         "axe": axe_violations(page)}
    page.close()
    return results


def test_axe_finds_no_critical_or_serious_violation(visited, record_property):
    scanned = {name: seen["axe"] for name, seen in visited.items()}
    for name, violations in scanned.items():
        record_property(f"axe {name}", json.dumps(summary(violations)))
        print(f"axe-core {AXE_VERSION}, {name}: {summary(violations) or 'no violations'}")
    blocking = {name: [f"{v['impact']}: {v['id']} ({len(v['nodes'])}: {v['nodes'][0]['target']})"
                       for v in violations if v["impact"] in BLOCKING] for name, violations in scanned.items()}
    assert blocking == dict.fromkeys(scanned, [])


def test_every_page_names_its_language(visited):
    assert {name: seen["lang"] for name, seen in visited.items()} == dict.fromkeys(visited, "en-GB")


# The first row starts this far up the first screen at least (a row of long quotes may be taller
# than the rest of the screen: its first lines are shown).
FIRST_LINES = 40


def test_a_table_page_shows_its_first_row_on_the_first_screen(chromium, served):
    page = chromium.new_page(viewport=SCREEN)
    tops = {}
    for table in [r["name"] for r in PACKAGE["resources"] if r.get("type") == "table" and read_table(r["name"])]:
        page.goto(f"{served}/{DB}/{table}")  # (a table with no rows yet has no first row to show)
        box = page.locator("table.rows-and-columns tbody tr").first.bounding_box()
        tops[table] = box["y"] if box else None
    page.close()
    print("first row, px from the top at 1280x800:", tops)
    late = {t: y for t, y in tops.items() if y is None or y + FIRST_LINES > SCREEN["height"]}
    assert tops and late == {}, f"first row below the first screen: {late}"


def test_the_bulletin_legend_tells_every_table_apart_by_colour_and_pattern(visited):
    bulletins = {name: seen["legend"] for name, seen in visited.items() if name.startswith("bulletin")}
    assert bulletins
    for name, legend in bulletins.items():
        tables, looks, marks = legend["tables"], legend["looks"], legend["marks"]
        assert tables and len(set(tables)) == len(tables), name
        assert len({tuple(look) for look in looks}) == len(tables), f"{name}: two tables look the same in the legend"
        patterns = [image for _, image in looks]
        assert all(image and image != "none" for image in patterns), f"{name}: every table has a pattern, not colour alone"
        # The marks in the text wear the look of their table, so the legend reads them.
        assert marks and {m[0] for m in marks} <= set(tables), name


def test_the_citation_is_printed_once_per_page(visited):
    """The citation's opening (its author and year, as APA prints them) is counted in each page's text."""
    csl = json.loads((ROOT / "citation" / "dataset.csl.json").read_text(encoding="utf-8"))[0]
    author = csl["author"][0].get("literal") or csl["author"][0]["family"]
    cited = f"{author}. ({csl['issued']['date-parts'][0][0]})"
    counts = {name: seen["text"].count(cited) for name, seen in visited.items()}
    assert counts["home"] == 1 and counts["row"] == 1, counts
    assert all(n <= 1 for n in counts.values()), counts


def test_any_number_of_tables_get_looks_no_two_alike():
    """The legend's looks come from the tables present: for 1 to 60 tables, every (colour, pattern)
    differs, and tables that share a pattern have colours at least 360/n_sharing degrees apart."""
    import importlib.util
    import re
    spec = importlib.util.spec_from_file_location("provenance_plugin", ROOT / "site" / "plugins" / "provenance.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for n in range(1, 61):
        names = [f"t{i}" for i in range(n)]
        info = {"uses": {f"e{i}": [{"table": name, "id": "x"}] for i, name in enumerate(names)}}
        looks = module.kind_looks(info, names)
        assert list(looks) == names
        assert len({(look["colour"], look["pattern"]) for look in looks.values()}) == n, n
        by_pattern = {}
        for look in looks.values():
            by_pattern.setdefault(look["pattern"], []).append(float(re.match(r"hsl\(([\d.]+)", look["colour"])[1]))
        for hues in by_pattern.values():
            hues = sorted(hues)
            gaps = [b - a for a, b in zip(hues, hues[1:])] + ([360 - hues[-1] + hues[0]] if len(hues) > 1 else [])
            assert not gaps or min(gaps) >= 360 / len(hues) - 1, (n, hues)
