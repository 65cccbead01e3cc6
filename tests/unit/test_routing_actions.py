"""What a rule decides beside the unit reaches the case: its clock policy, priority,
co-handlers, tags, fast lane and diversion; a policy no one knows stops start-up."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dispatcher.bootstrap.app import build
from dispatcher.bootstrap.settings import Settings
from dispatcher.domain.clock import FixedClock
from dispatcher.services.intake import Registered
from rules import RuleFileError

RULES = """
version: actions-test
rules:
  - id: hotline-housing
    owner: 市信访办
    changed: 2026-11-20
    when: {source: [cq-12345], category: [housing]}
    assign: {kind: housing, level: district}
    co_handlers: [{kind: urban_management, level: district}]
    priority: high
    policy: hotline-12345
    tags: [elevator]
    fast_lane: true
  - id: in-litigation
    owner: 市信访办
    changed: 2026-11-20
    when: {keywords: {any: [法院已受理]}}
    divert: {channel: litigation, note: 已进入诉讼程序}
"""


def _app(tmp_path: Path, settings: Settings, clock: FixedClock, rules: str) -> Any:
    path = tmp_path / "rules.yaml"
    path.write_text(rules, "utf-8")
    return build(Settings(**{**settings.__dict__, "rules_path": path}), clock=clock)


def _route(app: Any, message: dict[str, Any], encode: Callable[..., bytes]) -> dict[str, Any]:
    outcome = app.intake.receive(encode(message), "application/json", "case.phone")
    assert isinstance(outcome, Registered)
    app.routing.route(outcome.case_id)
    return app.commands.timeline(outcome.case_id)


def test_rule_actions_reach_the_event_and_the_case(
    tmp_path: Path,
    settings: Settings,
    clock: FixedClock,
    memory_queues: None,
    make_case: Callable[..., dict[str, Any]],
    encode: Callable[..., bytes],
) -> None:
    app = _app(tmp_path, settings, clock, RULES)
    timeline = _route(app, make_case(), encode)
    assigned = timeline.events[-1]["data"]
    assert assigned["outcome"] == "assigned" and assigned["org_unit"]["id"] == "500103:housing"
    assert assigned["priority"] == "high" and assigned["fast_lane"] is True
    assert assigned["tags"] == ["elevator"]
    assert [unit["id"] for unit in assigned["co_handlers"]] == ["500103:urban_management"]
    assert timeline.case["policy"] == "hotline-12345"
    acceptance = next(c for c in timeline.clocks if c.name == "acceptance")
    assert acceptance.article.startswith("北京接诉即办条例")  # the hotline policy's clocks
    app.close()


def test_a_diverted_case_goes_to_the_petition_bureau_with_the_channel(
    tmp_path: Path,
    settings: Settings,
    clock: FixedClock,
    memory_queues: None,
    make_case: Callable[..., dict[str, Any]],
    encode: Callable[..., bytes],
) -> None:
    app = _app(tmp_path, settings, clock, RULES)
    message = make_case(source="cq-wsxf", content="此案法院已受理，要求信访部门督促")
    assigned = _route(app, message, encode).events[-1]["data"]
    assert assigned["outcome"] == "diverted"
    assert assigned["org_unit"]["kind"] == "petition_bureau"
    assert assigned["divert"] == {"channel": "litigation", "note": "已进入诉讼程序"}
    app.close()


def test_an_unknown_policy_stops_start_up_naming_the_rule(
    tmp_path: Path, settings: Settings, clock: FixedClock
) -> None:
    with pytest.raises(RuleFileError, match=r"hotline-housing.*policy.*hotline-99999"):
        _app(tmp_path, settings, clock, RULES.replace("hotline-12345", "hotline-99999"))
