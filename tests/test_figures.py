"""The timeline figure is drawn from the tables, reproducibly, and the committed one is current."""

from __future__ import annotations


import pytest
from conftest import ROOT, copy_package

from scripts.outputs import build_figures


def png_chunks(data: bytes) -> list[bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = [], 8
    while at < len(data):
        length = int.from_bytes(data[at:at + 4], "big")
        chunks.append(data[at + 4:at + 8])
        at += 12 + length
    return chunks


@pytest.fixture(scope="module")
def drawn() -> bytes:
    return build_figures.render(ROOT)


def test_drawing_twice_gives_the_same_bytes(drawn):
    assert build_figures.render(ROOT) == drawn


def test_the_committed_figure_is_current(drawn):
    assert (ROOT / build_figures.FIGURE).read_bytes() == drawn, "figure is stale (run `make figures`)"


def test_no_software_name_or_time_in_the_file(drawn):
    assert set(png_chunks(drawn)) <= {b"IHDR", b"pHYs", b"IDAT", b"IEND"}
    assert b"matplotlib" not in drawn.lower()


def test_the_figure_follows_the_data(tmp_path, drawn):
    root = copy_package(tmp_path / "package")
    personnel = root / "data" / "personnel.csv"
    text = personnel.read_text(encoding="utf-8")
    assert ",3800," in text
    personnel.write_text(text.replace(",3800,", ",3900,"), encoding="utf-8")
    assert build_figures.render(root) != drawn


def test_part_of_day_is_drawn_as_that_part_and_nothing_after_publication(archived_tables):
    from datetime import datetime
    from conftest import read_table
    events = {e["event_type"]: e for e in archived_tables["events"]}  # the archived bulletin's
    published = build_figures.publication_times(read_table("sources"))["met-2017-05-24"]
    assert published == datetime(2017, 5, 24, 20, 15)
    night = build_figures.drawn_span(events["operation_activated"], published)
    assert night == (datetime(2017, 5, 23, 18), datetime(2017, 5, 24, 0))  # the night of 23 May, not the day
    freed = build_figures.drawn_span(events["officers_freed_up"], published)
    assert freed == (datetime(2017, 5, 24), published)  # a day cut at the bulletin's publication


def test_counts_and_capacities_never_share_an_axis():
    from conftest import read_table
    rows = read_table("personnel")
    panels = build_figures.personnel_panels(rows)
    statuses = sorted({r["status"] for r in rows})
    assert {"freed_up", "mobilisable"} <= set(statuses)  # the archived bulletin's count and capacity
    assert [status for status, _ in panels] == statuses  # one panel, with its own axis, per status
    assert all({r["status"] for r in members} == {status} for status, members in panels)
    assert sorted(r["personnel_id"] for _, members in panels for r in members) == sorted(r["personnel_id"] for r in rows)
    assert set(statuses) <= set(build_figures.PERSONNEL_KIND), "a status the figure does not say is a count or a capacity"
    assert build_figures.PERSONNEL_KIND["freed_up"] != build_figures.PERSONNEL_KIND["mobilisable"]
