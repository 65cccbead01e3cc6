"""Scoring a rule set against cases with known answers (`xinfang rules test`). Pure: no I/O.

A case's expected value (a string) matches the decided org unit when it equals the unit's id,
else its kind, else the part of the id after the last ":" ("HPD" for "nyc:HPD"), else its name
(ignoring case and surrounding spaces). A case decided as triage that does not match is counted as
triage, not as misrouted: sending an unknown matter to people is the safe outcome.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rules.directory import OrgUnit
from rules.engine import RuleSet

TRIAGE = "(triage)"


def dotted(case: Mapping[str, Any], path: str) -> Any:
    """case["a"]["b"] for "a.b"; None when any step is missing or not a mapping."""
    value: Any = case
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def unit_matches(unit: OrgUnit, expected: str) -> bool:
    wanted = expected.strip()
    return (
        wanted in (unit.id, unit.kind, unit.id.rpartition(":")[2])
        or wanted.casefold() == unit.name.strip().casefold()
    )


@dataclass(frozen=True)
class Misrouted:
    external_id: str | None
    expected: str
    got: str
    rule: str | None


@dataclass
class Score:
    total: int = 0
    correct: int = 0
    triage: int = 0
    skipped: int = 0  # cases without a value at the expected field
    misrouted: list[Misrouted] = field(default_factory=list)
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "correct": self.correct,
            "accuracy": round(self.accuracy, 4),
            "triage": self.triage,
            "misrouted_count": len(self.misrouted),
            "skipped": self.skipped,
            "misrouted": [m.__dict__ for m in self.misrouted],
            "confusion": [
                {"expected": e, "got": g, "count": n} for (e, g), n in self.confusion.most_common()
            ],
        }


def score(ruleset: RuleSet, cases: Iterable[Mapping[str, Any]], expect: str) -> Score:
    result = Score()
    for case in cases:
        expected = dotted(case, expect)
        if expected is None or expected == "":
            result.skipped += 1
            continue
        _score_one(result, ruleset, case, str(expected))
    return result


def _score_one(result: Score, ruleset: RuleSet, case: Mapping[str, Any], expected: str) -> None:
    decision = ruleset.decide(case)
    result.total += 1
    if unit_matches(decision.org_unit, expected):
        result.correct += 1
        result.confusion[(expected, expected)] += 1
        return
    if decision.outcome == "triage":
        result.triage += 1
        result.confusion[(expected, TRIAGE)] += 1
        return
    got = decision.org_unit.id
    result.confusion[(expected, got)] += 1
    external_id = case.get("external_id")
    result.misrouted.append(
        Misrouted(
            external_id if isinstance(external_id, str) else None,
            expected,
            got,
            decision.rule_id,
        )
    )
