"""The timeline figure is drawn from the tables, reproducibly, and the committed one is current."""

from __future__ import annotations


import pytest
from conftest import ROOT, copy_package

from scripts import build_figures


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
