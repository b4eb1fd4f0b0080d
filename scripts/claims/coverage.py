"""The coverage check: every fact-bearing token of a bulletin lies inside at
least one evidence span that some table row uses.

Fact-bearing tokens are found by scripts/claims/recognise.py (numbers in digits or
words, dates, times, time zones, weekday and relative-day phrases, phone
numbers, threat-level words, names). A token left outside every used span is a
fact the tables do not hold: the build stops and lists each one.

A span that only copies words covers no fact inside them: a statement row
copies a paragraph, so the numbers, dates and names in it need rows of their
own (COPIES). And some facts have a table of their own: a phone number is
covered only by a contacts row (OWN_TABLE), not by the advice or the
statement that quotes it, so deleting the contacts leaves it uncovered.
"""

from __future__ import annotations

from . import recognise
from ..common import BuildError


# Tables whose evidence does not code a sentence: a mention only says that a name is printed there
# (unless it records a rank or role as printed, a fact about the person as of that bulletin).
NOT_CODING = {"evidence", "mentions", "sentences"}
# Tables whose evidence only copies the text (a statement's paragraph): it covers no token.
COPIES = ("evidence", "statements")
# Kinds of token that only a row of their own table covers, or a mention of such a row (a later bulletin's
# printing of a contact's number is a mention of the contact, found by code).
OWN_TABLE = {"phone": "contacts"}
OWN_MENTIONS = {"phone": "contact_id"}


def coding_mention(row: dict) -> bool:
    """A mention that records a person's rank or role codes its sentence."""
    return bool(row.get("rank") or row.get("role"))


def used_evidence_ids(rows: dict[str, list[dict]], skip=("evidence",)) -> set[str]:
    """Evidence IDs referenced by any row of any table other than evidence itself (and `skip`)."""
    used = set()
    for table, table_rows in rows.items():
        if table in skip:
            continue
        for row in table_rows:
            used.update(v for k, v in row.items() if k.endswith("evidence_id") and v)
    return used


def uncovered(text: str, spans: list[tuple[int, int]], levels, own: dict | None = None) -> list[recognise.Token]:
    """Tokens in none of `spans`; a token whose kind is in `own` (kind -> spans of its own
    table's rows) must lie in one of those instead."""
    own = own or {}
    return [t for t in recognise.all_tokens(text, levels)
            if not any(start <= t.start and t.end <= end for start, end in own.get(t.kind, spans))]


def fact_spans(rows: dict[str, list[dict]]) -> tuple[dict, dict]:
    """The spans that cover facts, per source: (source -> spans of every row but copies,
    source -> {token kind -> spans of the rows of its own table})."""
    spans = used_spans(rows, skip=COPIES)
    own: dict[str, dict[str, list]] = {}
    for kind, table in OWN_TABLE.items():
        mentioned = [r for r in rows.get("mentions", []) if r.get(OWN_MENTIONS.get(kind, ""))]
        for source, found in used_spans({table: rows.get(table, []), "mention_of": mentioned,
                                         "evidence": rows["evidence"]}).items():
            own.setdefault(source, {})[kind] = found
    for source in spans:
        for kind in OWN_TABLE:
            own.setdefault(source, {}).setdefault(kind, [])
    return spans, own


def used_spans(rows: dict[str, list[dict]], skip=("evidence",)) -> dict[str, list[tuple[int, int]]]:
    """Source ID -> the (start, end) spans of the evidence rows that some row uses (rows of
    tables in `skip` aside; NOT_CODING gives the spans that code a sentence)."""
    used = used_evidence_ids(rows, skip)
    if "mentions" in skip and "evidence" in skip and "sentences" in skip:
        used |= {r["evidence_id"] for r in rows.get("mentions", []) if coding_mention(r)}
    spans: dict[str, list[tuple[int, int]]] = {}
    for r in rows["evidence"]:
        if r["evidence_id"] in used:
            spans.setdefault(r["source_id"], []).append((r["start"], r["end"]))
    return spans


def check(bulletin, spans: list[tuple[int, int]], levels, own: dict | None = None) -> None:
    """Stop with every token of `bulletin` that lies in none of `spans` (see fact_spans)."""
    missing = uncovered(bulletin.text, spans, levels, own)
    if missing:
        lines = []
        for token in missing:
            line = bulletin.text.count("\n", 0, token.start) + 1
            column = token.start - (bulletin.text.rfind("\n", 0, token.start) + 1) + 1
            lines.append(f"  {bulletin.source_path.name}:{line}:{column} {token.kind} {token.text!r} "
                         f"(characters {token.start}-{token.end})")
        raise BuildError(bulletin.annotations_path,
                         f"{len(missing)} fact-bearing token(s) of {bulletin.source_path.name} lie in no evidence "
                         "span that a row uses (a statement's copy of its paragraph does not count; a phone "
                         "number needs a contacts row); annotate them:\n" + "\n".join(lines))
