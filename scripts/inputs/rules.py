"""Row rules: each stated once in schema/package.yaml and checked in two places.

A rule is a formula over the columns of one row (a Python expression evaluated with simpleeval,
the evaluator frictionless's `row-constraint` check uses): empty cells are None, integers are
int, booleans bool. `quote(evidence_id)` gives the quote of an evidence row. The build checks
the rows it makes from the curator's input (scripts/claims/extract.py: an error names the annotation
file and line) and the validation gate checks the published tables (scripts/checks/validate.py: an
error names the CSV, row and column).
"""

from __future__ import annotations

from dataclasses import dataclass

from simpleeval import EvalWithCompoundTypes, InvalidExpression


@dataclass(frozen=True)
class Rule:
    table: str
    name: str
    formula: str
    message: str

    def columns(self, fields: list[str]) -> tuple[str, ...]:
        """The columns the formula reads (to report a failure on them)."""
        import re
        words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", self.formula))
        return tuple(f for f in fields if f in words) or tuple(fields[:1])


def rules_of(resources: list[dict]) -> dict[str, list[Rule]]:
    """Table name -> its rules, from the resources of the spec or of the descriptor."""
    return {res["name"]: [Rule(res["name"], r["name"], " ".join(r["formula"].split()), r["message"])
                          for r in res.get("rules", [])]
            for res in resources if res.get("rules")}


def typed(value, field_type: str):
    """A published cell (text) as the value a formula sees."""
    if value is None or value == "":
        return None
    if field_type == "integer":
        try:
            return int(value)
        except (TypeError, ValueError):
            return value
    if field_type == "number":
        try:
            return float(value)
        except (TypeError, ValueError):
            return value
    if field_type == "boolean":
        return {"true": True, "false": False}.get(value, value)
    return value


def holds(rule: Rule, row: dict, quotes: dict | None = None) -> bool:
    """Whether the rule holds for the row; a formula that cannot be evaluated on it does not."""
    quotes = quotes or {}
    evaluator = EvalWithCompoundTypes(names=dict(row), functions={"quote": lambda e: quotes.get(e), "bool": bool,
                                                                       "abs": abs, "round": round})
    try:
        return bool(evaluator.eval(rule.formula))
    except (InvalidExpression, TypeError, ValueError, KeyError, NameError, SyntaxError):
        return False


def broken(rules: list[Rule], row: dict, quotes: dict | None = None) -> list[Rule]:
    return [rule for rule in rules if not holds(rule, row, quotes)]
