"""Deciding a case: the first matching rule wins; no match (or no unit to assign) is triage.

Triage always lands on a real body, the nearest petition bureau up the case's lineage, so no case
is ever routed "nowhere".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rules.compile import CompiledRule
from rules.conditions import CaseView
from rules.directory import OrgDirectory, OrgUnit
from rules.regions import LEVEL_RANK

TRIAGE_KIND = "petition_bureau"


@dataclass(frozen=True)
class Decision:
    outcome: str  # "assigned" or "triage"
    org_unit: OrgUnit
    rule_id: str | None  # None for triage
    reasons: tuple[str, ...]
    warnings: tuple[str, ...]
    ruleset_version: str


@dataclass(frozen=True)
class RuleTrace:
    rule_id: str
    matched: bool
    reasons: tuple[str, ...]  # the conditions checked, in order
    failed: str | None  # the first failing condition, None when matched
    source: str  # "<file>#<position>"


@dataclass(frozen=True)
class _Place:
    """Where a case's region sits in the directory."""

    lineage: tuple[str, ...]  # known regions, nearest first; () if none is known
    reasons: tuple[str, ...]
    warnings: tuple[str, ...]


class RuleSet:
    def __init__(
        self, version: str, rules: Sequence[CompiledRule], directory: OrgDirectory
    ) -> None:
        self.version = version
        self.rules: tuple[CompiledRule, ...] = tuple(rules)
        self.directory = directory

    def __len__(self) -> int:
        return len(self.rules)

    def decide(self, case: Mapping[str, Any]) -> Decision:
        place = self._place(case.get("region"))
        view = CaseView.of(case, self._level(place))
        for rule in self.rules:
            if rule.matches(view):
                return self._assign(rule, view, place)
        return self._triage(place, ("no rule matched",), ())

    def explain(self, case: Mapping[str, Any]) -> list[RuleTrace]:
        """Every rule in order, matched or with the first condition that failed."""
        view = CaseView.of(case, self._level(self._place(case.get("region"))))
        traces = []
        for rule in self.rules:
            matched, reasons = rule.explain(view)
            failed = None if matched else reasons[-1]
            traces.append(RuleTrace(rule.id, matched, reasons, failed, rule.source))
        return traces

    def _level(self, place: _Place) -> str | None:
        return self.directory.level_of(place.lineage[0]) if place.lineage else None

    def _place(self, region: object) -> _Place:
        code = region if isinstance(region, str) else ""
        lineage = self.directory.lineage(code)
        if not lineage:
            warning = f"region {region!r} is unknown to the directory and has no known ancestor"
            return _Place((), (), (warning,))
        nearest = lineage[0]
        reason = f"region {code} → {self._label(nearest)}"
        if nearest == code:
            return _Place(lineage, (reason,), ())
        warning = (
            f"region {code} is unknown to the directory; "
            f"routed by nearest known ancestor {nearest} ({self.directory.region_name(nearest)})"
        )
        return _Place(lineage, (reason,), (warning,))

    def _label(self, code: str) -> str:
        return f"{self.directory.region_name(code)} ({self.directory.level_of(code)})"

    def _assign(self, rule: CompiledRule, view: CaseView, place: _Place) -> Decision:
        _, matched = rule.explain(view)
        why = (f"rule {rule.id} ({rule.source})", *matched)
        unit, warnings = self._unit_for(rule, place)
        if unit is None:
            return self._triage(place, why, warnings)
        reasons = (*why, *place.reasons, f"assigned to {unit.name} ({unit.id})")
        return Decision(
            "assigned", unit, rule.id, reasons, (*place.warnings, *warnings), self.version
        )

    def _unit_for(
        self, rule: CompiledRule, place: _Place
    ) -> tuple[OrgUnit | None, tuple[str, ...]]:
        """The rule's kind at its level, else at the nearest ancestor above that has it."""
        if not place.lineage:
            return None, (f"rule {rule.id} matched but the region is unknown; triage",)
        floor = LEVEL_RANK[rule.level]
        eligible = [c for c in place.lineage if LEVEL_RANK[self._level_of(c)] >= floor]
        for code in eligible:
            unit = self.directory.unit(code, rule.kind)
            if unit is None:
                continue
            if unit.level == rule.level:
                return unit, ()
            return unit, (
                f"rule {rule.id} asks for {rule.kind} at {rule.level} level, which the lineage "
                f"of {place.lineage[0]} lacks; assigned at {self._label(code)} instead",
            )
        return None, (
            f"rule {rule.id} matched but no {rule.kind} exists at or above {rule.level} level "
            f"on the lineage of {place.lineage[0]}; triage",
        )

    def _level_of(self, code: str) -> str:
        return self.directory.level_of(code) or "city"

    def _triage(self, place: _Place, why: tuple[str, ...], warnings: tuple[str, ...]) -> Decision:
        # The root (a city) always has a petition bureau: load_directory() checks it.
        lineage = (*place.lineage, self.directory.root)
        unit = next(
            u for code in lineage if (u := self.directory.unit(code, TRIAGE_KIND)) is not None
        )
        reasons = (*why, *place.reasons, f"triage at {unit.name} ({unit.id})")
        return Decision("triage", unit, None, reasons, (*place.warnings, *warnings), self.version)
