"""The one sentence splitter, shared by the package (data/sentences.csv, written by
scripts/claims/extract.py) and the database (scripts/outputs/build_db.py loads that table).

A sentence runs from a non-space character to the first . ! or ? (with any
closing quotation mark or bracket) followed by a space or the end of the text,
or to a line break. So a heading, a dateline or a caption line is a sentence of
its own, and "...said: “The public expects ..." stays one sentence.
"""

from __future__ import annotations

import re

SENTENCE = re.compile(r"[^\s].*?(?:[.!?][\"”’)]*(?=\s|$)|(?=\n)|$)", re.S)


def split(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`, in reading order (end-exclusive)."""
    return [(m.start(), m.end()) for m in SENTENCE.finditer(text)]


def sentence_id(source_id: str, number: int, total: int) -> str:
    """`<source_id>-sentence-NN`: zero-padded to 2 digits (3 when a source has more than 99
    sentences), so IDs sort in reading order and never look like evidence IDs."""
    width = 3 if total > 99 else 2
    return f"{source_id}-sentence-{number:0{width}d}"


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1
