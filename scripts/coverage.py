"""The coverage check: every fact-bearing token of a bulletin lies inside at
least one evidence span that some table row uses.

Fact-bearing tokens are found by scripts/recognise.py (numbers in digits or
words, dates, times, time zones, weekday and relative-day phrases, phone
numbers, threat-level words, names). A token left outside every used span is a
fact the tables do not hold: the build stops and lists each one.
"""

from __future__ import annotations

from . import recognise
from .common import BuildError


def used_evidence_ids(rows: dict[str, list[dict]]) -> set[str]:
    """Evidence IDs referenced by any row of any table other than evidence itself."""
    used = set()
    for table, table_rows in rows.items():
        if table == "evidence":
            continue
        for row in table_rows:
            used.update(v for k, v in row.items() if k.endswith("evidence_id") and v)
    return used


def uncovered(text: str, spans: list[tuple[int, int]], levels) -> list[recognise.Token]:
    return [t for t in recognise.all_tokens(text, levels)
            if not any(start <= t.start and t.end <= end for start, end in spans)]


def check(bulletin, rows: dict[str, list[dict]], levels, used: set[str] | None = None) -> None:
    """Stop with every uncovered token of `bulletin` listed. `used` (the evidence IDs
    rows reference) may be passed in when checking many bulletins against one set of rows."""
    used = used_evidence_ids(rows) if used is None else used
    spans = [(r["start"], r["end"]) for r in rows["evidence"]
             if r["source_id"] == bulletin.source_id and r["evidence_id"] in used]
    missing = uncovered(bulletin.text, spans, levels)
    if missing:
        lines = []
        for token in missing:
            line = bulletin.text.count("\n", 0, token.start) + 1
            column = token.start - (bulletin.text.rfind("\n", 0, token.start) + 1) + 1
            lines.append(f"  {bulletin.source_path.name}:{line}:{column} {token.kind} {token.text!r} "
                         f"(characters {token.start}-{token.end})")
        raise BuildError(bulletin.annotations_path,
                         f"{len(missing)} fact-bearing token(s) of {bulletin.source_path.name} lie in no evidence "
                         "span that a row uses; annotate them:\n" + "\n".join(lines))
