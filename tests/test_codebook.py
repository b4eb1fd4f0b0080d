"""The codebook (codebook.html) is generated from the package and current: every table, field,
allowed value (with its label) and row rule of the descriptor is in it, and its worked examples
are rows of the data."""

from __future__ import annotations

import html
import json

from conftest import ROOT, read_table

from scripts.outputs import build_codebook
from scripts.common import package_spec

DESCRIPTOR = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
PAGE = (ROOT / build_codebook.OUTPUT).read_text(encoding="utf-8")


def test_the_codebook_is_current():
    assert build_codebook.codebook_html(DESCRIPTOR, package_spec(ROOT), ROOT) == PAGE, \
        "codebook.html is stale (run `make docs`)"


def test_every_table_field_value_and_rule_is_in_it():
    for res in DESCRIPTOR["resources"]:
        if res.get("type") != "table":
            continue
        assert f"<code>{res['name']}</code>" in PAGE
        for field in res["schema"]["fields"]:
            assert f"<code>{field['name']}</code>" in PAGE, (res["name"], field["name"])
            for category in field.get("categories", []):
                if isinstance(category, dict):
                    assert f"<code>{category['value']}</code>: {category['label']}" in html.unescape(PAGE), category
        for rule in res.get("rules", []):
            assert rule["name"] in PAGE


def test_the_worked_examples_are_rows_of_the_data():
    advice = {row["advice_id"] for row in read_table("advice")}
    claims = read_table("claims")
    assert any(f"advice <code>{a}</code>" in PAGE for a in advice)
    assert sum(f"claim <code>{c['claim_id']}</code>" in PAGE for c in claims) >= 4
    # the worked count: every modality of the claims, and the number of claims, in the count's table
    assert f"This version has {len(claims)} claims from {len({c['evidence_id'] for c in claims})} distinct passages" \
        in PAGE
    assert all(f"<th style=\"text-align:right\"><code>{m}</code></th>" in PAGE for m in {c["modality"] for c in claims})
    words = sum(int(s["words"]) for s in read_table("sentences"))
    assert f"of {words} words" in PAGE, "the coverage figure"
    assert "Unit of analysis" in PAGE and "the <strong>claim</strong>" in PAGE


def test_a_contents_list_leads_to_every_section_and_table():
    import re
    from lxml import html as lxml_html
    page = lxml_html.fromstring(PAGE)
    (nav,) = page.xpath("//nav[@class='contents']")
    targets = [href[1:] for href in nav.xpath(".//a/@href")]
    headings = page.xpath("//h2[@id][not(@id='contents')]|//h3[@id]")
    assert targets == [h.get("id") for h in headings], "the contents list every section and subsection, in order"
    assert len(set(targets)) == len(targets)
    for res in DESCRIPTOR["resources"]:
        if res.get("type") == "table":
            assert any(re.search(rf"<code>{res['name']}</code>", lxml_html.tostring(a, encoding="unicode"))
                       for a in nav.xpath(".//a")), res["name"]


def test_it_says_which_values_a_plain_csv_read_would_damage():
    """Every integer field with an empty cell and every text field holding a number is named."""
    section = PAGE[PAGE.index('id="reading-the-files"'):PAGE.index('id="tables-and-fields"')]
    for res in DESCRIPTOR["resources"]:
        if res.get("type") != "table":
            continue
        rows = read_table(res["name"])
        for field in res["schema"]["fields"]:
            values = [r[field["name"]] for r in rows]
            numeric = any(v.replace(" ", "").lstrip("+-").replace(".", "", 1).isdigit() for v in values if v)
            if (field["type"] == "integer" and "" in values) or \
                    (field["type"] == "string" and "categories" not in field and numeric):
                assert f"<code>{res['name']}.{field['name']}</code>" in section, (res["name"], field["name"])
    assert "read_parquet" in section and "keep_default_na=False" in section
