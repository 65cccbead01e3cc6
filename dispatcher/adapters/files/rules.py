"""The adapter from the rules package's decisions to the domain's assignments."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from dispatcher.domain.case import Assignment
from dispatcher.domain.policy import DEFAULT_POLICY
from dispatcher.domain.stages import Stage
from rules import (
    OrgUnit,
    RuleFileError,
    RuleSet,
    default_rules_path,
    directory_path_for,
    load_directory,
    load_rules,
)


class RuleDecider:
    """Decides with whatever rule set is current; swapping it is how a new version goes live."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset

    def __call__(self, facts: Mapping[str, Any]) -> Assignment:
        decision = self.ruleset.decide(facts)
        unit = decision.org_unit
        divert = decision.divert
        return Assignment(
            # A diverted case goes to the petition bureau, which tells the petitioner where
            # the matter belongs (Art 31) by not accepting it with that channel.
            outcome=Stage.TRIAGE if decision.outcome == "triage" else Stage.ASSIGNED,
            org_unit_id=unit.id,
            org_unit_name=unit.name,
            org_kind=unit.kind,
            rule_id=decision.rule_id,
            reasons=tuple(decision.reasons),
            warnings=tuple(decision.warnings),
            ruleset_version=decision.ruleset_version,
            policy=decision.policy or DEFAULT_POLICY,
            priority=decision.priority,
            co_handlers=tuple(_unit(u) for u in decision.co_handlers),
            tags=decision.tags,
            fast_lane=decision.fast_lane,
            ladder=decision.ladder,
            divert={"channel": divert.channel, "note": divert.note} if divert else None,
        )


def _unit(unit: OrgUnit) -> dict[str, str]:
    return {"id": unit.id, "name": unit.name, "kind": unit.kind}


def load_ruleset(rules_path: Path | None, directory_path: Path | None) -> RuleSet:
    """The rule set and its directory, validated through and through: every problem of the
    files, and every policy a rule names (RuleFileError).

    The directory is `directory_path` when given, else the rule-set folder's own
    directory.yaml (examples/nyc311), else the bundled one; the rules default to the bundled."""
    from dispatcher.adapters.files.policies import load_policy

    rules_path = rules_path or default_rules_path()
    directory = load_directory(directory_path_for(rules_path, directory_path))
    ruleset = load_rules(rules_path, directory)
    check_policies(ruleset, load_policy)
    return ruleset


def check_policies(ruleset: RuleSet, known: Callable[[str], object]) -> None:
    """Every policy a rule names must load: a typo stops start-up, naming the rule."""
    for rule in ruleset.rules:
        if rule.action.policy is None:
            continue
        try:
            known(rule.action.policy)
        except ValueError as error:
            path = rule.source.rsplit("#", 1)[0]
            raise RuleFileError(
                path, (f"{rule.source}: rule {rule.id!r}: policy: {error}",)
            ) from None
