"""Turn validated rule models into compiled rules, once, at load time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rules.conditions import (
    AllKeywords,
    AnyKeyword,
    CaseView,
    Condition,
    MinPeople,
    NoKeyword,
    OneOf,
    RegionPrefix,
    Urgent,
)
from rules.model import Rule, When


@dataclass(frozen=True)
class CompiledRule:
    id: str
    kind: str
    level: str
    conditions: tuple[Condition, ...]
    source: str  # "<file>#<position>", for traces and reports
    note: str | None = None

    def matches(self, view: CaseView) -> bool:
        return all(condition.holds(view) for condition in self.conditions)

    def explain(self, view: CaseView) -> tuple[bool, tuple[str, ...]]:
        """(matched, reasons): every reason when matched, else those up to the first failure."""
        reasons: list[str] = []
        for condition in self.conditions:
            ok, reason = condition.explain(view)
            reasons.append(reason)
            if not ok:
                return False, tuple(reasons)
        return True, tuple(reasons)


def compile_rule(rule: Rule, path: Path, position: int) -> CompiledRule:
    return CompiledRule(
        id=rule.id,
        kind=rule.assign.kind,
        level=rule.assign.level,
        conditions=compile_when(rule.when),
        source=f"{path.name}#{position}",
        note=rule.note,
    )


def compile_when(when: When) -> tuple[Condition, ...]:
    """Conditions in a fixed order, cheapest first; the trace names the first that fails."""
    found: list[Condition] = []
    for attribute in ("channel", "source", "category", "region_level"):
        values = getattr(when, attribute)
        if values is not None:
            found.append(OneOf(attribute, frozenset(values), tuple(values)))
    if when.region_prefix is not None:
        found.append(RegionPrefix(tuple(when.region_prefix)))
    if when.urgent is not None:
        found.append(Urgent(when.urgent))
    if when.min_people is not None:
        found.append(MinPeople(when.min_people))
    if when.keywords is not None:
        found += _keyword_conditions(when)
    return tuple(found)


def _keyword_conditions(when: When) -> list[Condition]:
    assert when.keywords is not None
    words = when.keywords
    found: list[Condition] = []
    if words.any:
        found.append(AnyKeyword.of(tuple(words.any)))
    if words.all:
        found.append(AllKeywords(tuple(words.all)))
    if words.none:
        found.append(NoKeyword.of(tuple(words.none)))
    return found
