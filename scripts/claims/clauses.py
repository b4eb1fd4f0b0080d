"""Words and runs of words: the unit of coverage by clause (scripts/claims/extract.py, `add_sentences`).

A word is a run of letters and digits, with inner apostrophes, hyphens, full stops, commas and
colons kept inside it (so 3,800, 20:15, day-to-day and doesn't are one word each). A bulletin is
coded when every word of it lies in the words of some claim or in an excuse.
"""

from __future__ import annotations

import re

WORD = re.compile(r"\w+(?:[’'.,:\-]\w+)*")


def words(text: str) -> list[tuple[int, int]]:
    """The (start, end) offsets of every word of `text`."""
    return [m.span() for m in WORD.finditer(text)]


def inside(spans_of_words: list[tuple[int, int]], covering: list[tuple[int, int]]) -> list[bool]:
    """For each word, whether it lies wholly inside one of the `covering` spans."""
    ordered = sorted(covering)
    flags = []
    for start, end in spans_of_words:
        flags.append(any(s <= start and end <= e for s, e in ordered if s <= start))
    return flags


def runs(flags: list[bool], spans_of_words: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The (start, end) of every run of consecutive words whose flag is true."""
    found, current = [], None
    for flag, (start, end) in zip(flags, spans_of_words):
        if flag:
            current = (current[0], end) if current else (start, end)
        elif current:
            found.append(current)
            current = None
    if current:
        found.append(current)
    return found


def coding_tables(fields: dict[str, list[str]]) -> list[str]:
    """The tables whose words code a bulletin, from their columns (table -> column names): every table
    keyed to a claim (claim_id, or from_claim_id for a link) but table claims itself, which only indexes
    them. An entity (a contact) is no claim, and codes nothing."""
    return [name for name, columns in fields.items()
            if name != "claims" and ("claim_id" in columns or "from_claim_id" in columns)]


def covering_evidence(rows: dict[str, list[dict]], claim_tables: list[str]) -> set[str]:
    """The evidence IDs whose words count as coded: the words of claims and of their attributes, items
    and links (each evidence column of a row of a fact kind in `claim_tables`, and of claim_items). A
    mention, an organisation's first mention, a statement's copy of its paragraph or attribution, or a
    source's title codes nothing by itself (a title or an attribution is excused with its kind)."""
    used = {value for table in [*claim_tables, "claim_items"] for r in rows.get(table, [])
            for key, value in r.items() if key.endswith("evidence_id") and value}
    return used


def covering_spans(rows: dict[str, list[dict]], claim_tables: list[str]) -> dict[str, list[tuple[int, int]]]:
    """Source ID -> the spans of `covering_evidence` (offsets as integers)."""
    used = covering_evidence(rows, claim_tables)
    spans: dict[str, list[tuple[int, int]]] = {}
    for ev in rows.get("evidence", []):
        if ev.get("evidence_id") in used:
            try:
                spans.setdefault(ev["source_id"], []).append((int(ev["start"]), int(ev["end"])))
            except (TypeError, ValueError, KeyError):
                continue  # a broken offset is reported by the checks of the evidence table
    return spans
