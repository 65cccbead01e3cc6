"""The extended rule language: every condition kind and every action, on the Chongqing directory."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from rules import OrgDirectory, RuleFileError, default_directory_path, load_directory, load_rules
from rules.engine import Decision

HEAD = "version: lang-1\nrules:\n"


@pytest.fixture(scope="module")
def directory() -> OrgDirectory:
    return load_directory(default_directory_path())


def decide(tmp_path: Path, directory: OrgDirectory, rule: str, **fields: Any) -> Decision:
    path = tmp_path / "r.yaml"
    path.write_text(HEAD + rule, encoding="utf-8")
    return load_rules(path, directory).decide(case(**fields))


def case(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "source": "web",
        "channel": "letter",
        "region": "500103",
        "title": "来信",
        "content": "内容",
        "people_count": 1,
        "urgent": False,
        "received_at": "2026-05-26T09:30:00+08:00",  # a Tuesday
    }
    return base | fields


def rule(when: str, extra: str = "assign: {kind: housing, level: district}") -> str:
    return f"  - {{id: r1, owner: t, changed: 2026-11-20, when: {when}, {extra}}}\n"


@pytest.mark.parametrize(
    ("when", "hit", "miss"),
    [
        ("{channel: [phone]}", {"channel": "phone"}, {"channel": "letter"}),
        ("{source: [cq-12345]}", {"source": "cq-12345"}, {"source": "web"}),
        ("{category: [housing]}", {"category": "housing"}, {}),
        ('{region_prefix: ["5001"]}', {"region": "500103"}, {"region": "500230"}),
        ("{region_level: [town]}", {"region": "500103001"}, {"region": "500103"}),
        ("{urgent: true}", {"urgent": True}, {"urgent": "yes"}),
        ("{petitioner_present: true}", {"petitioner_present": True}, {}),
        ("{petitioner_present: true}", {"petitioner": {"name": "x"}}, {"petitioner": {}}),
        ("{petitioner_present: false}", {}, {"petitioner_present": True}),
        ("{people_count: {min: 5}}", {"people_count": 5}, {"people_count": 4}),
        ("{people_count: {max: 4}}", {"people_count": 4}, {"people_count": 5}),
        ("{people_count: {min: 2, max: 4}}", {"people_count": 2}, {"people_count": 1}),
        ("{min_people: 5}", {"people_count": 9}, {"people_count": True}),
        ("{keywords: {any: [电梯], in: [title]}}", {"title": "电梯"}, {"content": "电梯"}),
        ("{keywords: {any: [电梯], in: [content]}}", {"content": "电梯"}, {"title": "电梯"}),
        (
            "{keywords: {all: [学校, 收费], in: [title]}}",
            {"title": "学校收费"},
            {"title": "学校", "content": "收费"},
        ),
        ("{keywords: {none: [养老], in: [title]}}", {"content": "养老"}, {"title": "养老"}),
        ("{extra: {line: [A, 7]}}", {"extra": {"line": 7}}, {"extra": {"line": "7"}}),
        ("{extra: {vip: [true]}}", {"extra": {"vip": True}}, {"extra": {"vip": 1}}),
        ("{extra: {line: [A]}}", {"extra": {"line": "A"}}, {"extra": {"line": ["A"]}}),
    ],
)
def test_each_condition_matches_and_misses(
    tmp_path: Path,
    directory: OrgDirectory,
    when: str,
    hit: dict[str, Any],
    miss: dict[str, Any],
) -> None:
    assert decide(tmp_path, directory, rule(when), **hit).outcome == "assigned"
    assert decide(tmp_path, directory, rule(when), **miss).outcome == "triage"


SHANGHAI_TUESDAY_9 = "2026-05-26T09:30:00+08:00"


@pytest.mark.parametrize(
    ("received", "received_at", "matches"),
    [
        ("{weekdays: [2]}", SHANGHAI_TUESDAY_9, True),
        ("{weekdays: [6, 7]}", SHANGHAI_TUESDAY_9, False),
        ("{hours: [9, 17]}", SHANGHAI_TUESDAY_9, True),
        ("{hours: [10, 17]}", SHANGHAI_TUESDAY_9, False),
        ("{hours: [9, 17]}", "2026-05-26T17:00:00+08:00", False),  # end excluded
        ("{hours: [18, 8]}", "2026-05-26T23:10:00+08:00", True),  # wraps over midnight
        ("{hours: [18, 8]}", "2026-05-26T03:10:00+08:00", True),
        # 01:30 UTC on Tuesday is 09:30 in Shanghai: evaluated in local time.
        ("{hours: [9, 10], weekdays: [2]}", "2026-05-26T01:30:00Z", True),
        ("{hours: [9, 10]}", datetime(2026, 5, 26, 1, 30, tzinfo=UTC), True),
        ("{weekdays: [1, 2, 3, 4, 5, 6, 7]}", "not a time", False),
        ("{weekdays: [1, 2, 3, 4, 5, 6, 7]}", None, False),
    ],
)
def test_received_weekdays_and_hours_in_shanghai_time(
    tmp_path: Path, directory: OrgDirectory, received: str, received_at: Any, matches: bool
) -> None:
    decision = decide(
        tmp_path, directory, rule(f"{{received: {received}}}"), received_at=received_at
    )
    assert (decision.outcome == "assigned") is matches


def test_actions_are_carried_on_the_decision(tmp_path: Path, directory: OrgDirectory) -> None:
    actions = (
        "assign: {kind: housing, level: district}, "
        "co_handlers: [{kind: emergency, level: district}, {kind: housing, level: district}], "
        "priority: urgent, policy: hotline-12345, ladder: fast, tags: [elevator, safety], "
        "fast_lane: true"
    )
    decision = decide(tmp_path, directory, rule("{}", actions))
    assert decision.org_unit.id == "500103:housing"
    # the main handler is not repeated as its own co-handler
    assert [u.id for u in decision.co_handlers] == ["500103:emergency"]
    assert (decision.priority, decision.policy, decision.ladder) == (
        "urgent",
        "hotline-12345",
        "fast",
    )
    assert decision.tags == ("elevator", "safety")
    assert decision.fast_lane is True
    assert "co-handler 渝中区应急管理局 (500103:emergency)" in decision.reasons


def test_defaults_keep_old_callers_working(tmp_path: Path, directory: OrgDirectory) -> None:
    decision = decide(tmp_path, directory, rule("{}"))
    assert decision.co_handlers == () and decision.priority == "normal"
    assert decision.policy is None and decision.ladder is None and decision.tags == ()
    assert decision.fast_lane is False and decision.divert is None


def test_divert_names_the_petition_bureau(tmp_path: Path, directory: OrgDirectory) -> None:
    actions = "divert: {channel: litigation, note: 已进入诉讼程序}, priority: high"
    decision = decide(tmp_path, directory, rule("{}", actions), region="500103001")
    assert decision.outcome == "diverted"
    assert decision.org_unit.id == "500103:petition_bureau"
    assert decision.rule_id == "r1"
    assert decision.divert is not None and decision.divert.channel == "litigation"
    assert decision.priority == "high"
    assert "diverted to litigation: 已进入诉讼程序" in decision.reasons


def test_urgent_rule_falling_to_triage_stays_urgent(
    tmp_path: Path, directory: OrgDirectory
) -> None:
    # village_committee exists only at village level: a district case has none on its lineage.
    actions = "assign: {kind: village_committee, level: village}, fast_lane: true"
    decision = decide(tmp_path, directory, rule("{}", actions))
    assert decision.outcome == "triage" and decision.fast_lane is True


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (rule("{}", "assign: {kind: housing}"), "assign: give both kind and level"),
        (rule("{}", "assign: {unit: x, kind: housing, level: city}"), "not both"),
        (
            rule("{}", "co_handlers: [{kind: housing, level: district}]"),
            "give exactly one of assign, divert",
        ),
        (rule("{}", "assign: {unit: 'nyc:HPD'}"), "assign.unit: 'nyc:HPD' is not a named unit"),
        (
            rule(
                "{}",
                "assign: {kind: housing, level: district}, "
                "co_handlers: [{kind: nope, level: city}]",
            ),
            "co_handlers[0].kind: 'nope'",
        ),
        (rule("{}", "divert: {channel: court}"), "divert.channel: 'court' is not one of"),
        (rule("{}", "assign: {kind: housing, level: district}, priority: top"), "priority:"),
        (rule("{}", "assign: {kind: housing, level: district}, policy: 'Bad Id'"), "policy:"),
        (rule("{}", "assign: {kind: housing, level: district}, fast_lane: 'yes'"), "fast_lane:"),
        (rule("{people_count: {min: 5, max: 2}}"), "when.people_count: min 5 is above max 2"),
        (rule("{people_count: {min: 2}, min_people: 2}"), "not both"),
        (rule("{received: {weekdays: [8]}}"), "when.received.weekdays[0]"),
        (rule("{received: {hours: [9, 9]}}"), "when.received: hours [start, end) is empty"),
        (rule("{received: {}}"), "give at least one of weekdays, hours"),
        (rule("{keywords: {any: [a], in: [body]}}"), "when.keywords.in[0]"),
        (rule("{extra: {line: []}}"), "line: give at least one value"),
        (rule("{extra: {line: [1.5]}}"), "when.extra.line[0]"),
        (rule("{petitioner_present: 1}"), "when.petitioner_present"),
    ],
)
def test_bad_actions_and_conditions_name_the_field(
    tmp_path: Path, directory: OrgDirectory, text: str, field: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(HEAD + text, encoding="utf-8")
    with pytest.raises(RuleFileError) as info:
        load_rules(path, directory)
    message = str(info.value)
    assert f"{path}: rule 'r1' (#1, line 3): " in message
    assert field in message
