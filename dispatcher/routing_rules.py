"""The adapter from the rules package's decisions to the domain's assignments."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dispatcher.domain.case import Assignment
from dispatcher.domain.stages import Stage
from rules import RuleSet


class RuleDecider:
    """Decides with whatever rule set is current; swapping it is how a new version goes live."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset

    def __call__(self, facts: Mapping[str, Any]) -> Assignment:
        decision = self.ruleset.decide(facts)
        unit = decision.org_unit
        return Assignment(
            outcome=Stage.ASSIGNED if decision.outcome == "assigned" else Stage.TRIAGE,
            org_unit_id=unit.id, org_unit_name=unit.name, org_kind=unit.kind,
            rule_id=decision.rule_id, reasons=tuple(decision.reasons),
            warnings=tuple(decision.warnings), ruleset_version=decision.ruleset_version,
        )
