"""Deciding a case: the first matching rule wins; no match (or no unit to assign) is triage.

Triage always lands on a real body, the nearest petition bureau up the case's lineage, so no case
is ever routed "nowhere". A diverted case (to litigation, arbitration, …) also names that bureau:
it is the body that tells the petitioner where to go.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from rules.compile import CompiledRule
from rules.conditions import CaseView
from rules.directory import OrgDirectory, OrgUnit
from rules.index import RuleIndex
from rules.placement import TRIAGE_KIND, Place, petition_bureau, place_of, resolve

__all__ = ["TRIAGE_KIND", "Decision", "Diversion", "RuleSet", "RuleTrace"]


@dataclass(frozen=True)
class Diversion:
    channel: str  # litigation, arbitration, party_appeal, administrative_procedure, discipline_…
    note: str | None


@dataclass(frozen=True)
class Decision:
    outcome: str  # "assigned", "triage" or "diverted"
    org_unit: OrgUnit  # the main handler (主办); for triage and diversion the petition bureau
    rule_id: str | None  # None for triage
    reasons: tuple[str, ...]
    warnings: tuple[str, ...]
    ruleset_version: str
    co_handlers: tuple[OrgUnit, ...] = ()  # 协办
    priority: str = "normal"  # normal, high, urgent
    policy: str | None = None  # clock policy id; None: the caller's default
    ladder: str | None = None  # escalation ladder id; None: the caller's default
    tags: tuple[str, ...] = ()
    fast_lane: bool = False  # major or urgent: notify upward at once
    divert: Diversion | None = None


@dataclass(frozen=True)
class RuleTrace:
    rule_id: str
    matched: bool
    reasons: tuple[str, ...]  # the conditions checked, in order
    failed: str | None  # the first failing condition, None when matched
    source: str  # "<file>#<position>"


class RuleSet:
    def __init__(
        self, version: str, rules: Sequence[CompiledRule], directory: OrgDirectory
    ) -> None:
        self.version = version
        self.rules: tuple[CompiledRule, ...] = tuple(rules)
        self.directory = directory
        self._index = RuleIndex(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def decide(self, case: Mapping[str, Any], *, indexed: bool = True) -> Decision:
        """The decision for a case; indexed=False scans every rule (same result, for tests)."""
        place = place_of(self.directory, case.get("region"))
        view = CaseView.of(case, self._level(place))
        order: Iterable[int] = self._index.candidates(view) if indexed else range(len(self.rules))
        for position in order:
            rule = self.rules[position]
            if rule.matches(view):
                return self._apply(rule, view, place)
        return self._triage(place, ("no rule matched",), ())

    def explain(self, case: Mapping[str, Any]) -> list[RuleTrace]:
        """Every rule in order, matched or with the first condition that failed."""
        view = CaseView.of(case, self._level(place_of(self.directory, case.get("region"))))
        traces = []
        for rule in self.rules:
            matched, reasons = rule.explain(view)
            failed = None if matched else reasons[-1]
            traces.append(RuleTrace(rule.id, matched, reasons, failed, rule.source))
        return traces

    def _level(self, place: Place) -> str | None:
        return self.directory.level_of(place.lineage[0]) if place.lineage else None

    def _apply(self, rule: CompiledRule, view: CaseView, place: Place) -> Decision:
        _, matched = rule.explain(view)
        why = (f"rule {rule.id} ({rule.source})", *matched)
        action = rule.action
        if action.divert is not None:
            return self._divert(rule, why, place)
        assert action.assign is not None
        unit, warnings = resolve(self.directory, action.assign, place, rule.id)
        if unit is None:
            return self._annotated(self._triage(place, why, warnings), rule)
        co_handlers, co_warnings = self._co_handlers(rule, place, unit)
        reasons = (*why, *place.reasons, f"assigned to {unit.name} ({unit.id})")
        reasons += tuple(f"co-handler {u.name} ({u.id})" for u in co_handlers)
        decision = Decision(
            "assigned",
            unit,
            rule.id,
            reasons,
            (*place.warnings, *warnings, *co_warnings),
            self.version,
            co_handlers,
        )
        return self._annotated(decision, rule)

    def _co_handlers(
        self, rule: CompiledRule, place: Place, main: OrgUnit
    ) -> tuple[tuple[OrgUnit, ...], tuple[str, ...]]:
        units: list[OrgUnit] = []
        warnings: list[str] = []
        for target in rule.action.co_handlers:
            unit, found = resolve(self.directory, target, place, rule.id)
            if unit is None:
                warnings += [*found, f"co-handler {target.label()} left out"]
            elif unit != main and unit not in units:
                units.append(unit)
                warnings += found
        return tuple(units), tuple(warnings)

    def _divert(self, rule: CompiledRule, why: tuple[str, ...], place: Place) -> Decision:
        divert = rule.action.divert
        assert divert is not None
        unit = petition_bureau(self.directory, place)
        told = f"diverted to {divert.channel}" + (f": {divert.note}" if divert.note else "")
        reasons = (*why, *place.reasons, told, f"notice sent by {unit.name} ({unit.id})")
        decision = Decision(
            "diverted",
            unit,
            rule.id,
            reasons,
            place.warnings,
            self.version,
            divert=Diversion(divert.channel, divert.note),
        )
        return self._annotated(decision, rule)

    def _annotated(self, decision: Decision, rule: CompiledRule) -> Decision:
        """The rule's priority, policy, ladder, tags and fast lane hold even when its unit is
        missing and the case falls to triage: an urgent matter stays urgent."""
        action = rule.action
        return replace(
            decision,
            priority=action.priority,
            policy=action.policy,
            ladder=action.ladder,
            tags=action.tags,
            fast_lane=action.fast_lane,
        )

    def _triage(self, place: Place, why: tuple[str, ...], warnings: tuple[str, ...]) -> Decision:
        unit = petition_bureau(self.directory, place)
        reasons = (*why, *place.reasons, f"triage at {unit.name} ({unit.id})")
        return Decision("triage", unit, None, reasons, (*place.warnings, *warnings), self.version)
