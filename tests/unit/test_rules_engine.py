"""The engine: first match wins, each condition type, triage, warnings and level fallback.

A small rule file written per test module keeps each expectation tied to a rule visible here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from rules import OrgDirectory, RuleSet, default_directory_path, load_directory, load_rules

RULES = """\
version: engine-test-1
rules:
  - id: urgent-fire
    owner: test
    changed: 2026-11-20
    when: {urgent: true, keywords: {any: [火灾]}}
    assign: {kind: emergency, level: district}
  - id: crowd
    owner: test
    changed: 2026-11-20
    when: {min_people: 5}
    assign: {kind: petition_bureau, level: district}
  - id: hotline-elevator
    owner: test
    changed: 2026-11-20
    when:
      channel: [phone, online]
      source: [cq-12345]
      category: [housing]
      region_prefix: ["5001"]
      keywords: {any: [电梯]}
    assign: {kind: housing, level: district}
  - id: housing-any
    owner: test
    changed: 2026-11-20
    when: {category: [housing]}
    assign: {kind: environment, level: district}
  - id: village-quarrel
    owner: test
    changed: 2026-11-20
    when: {region_level: [village], keywords: {any: [邻居]}}
    assign: {kind: village_committee, level: village}
  - id: town-quarrel
    owner: test
    changed: 2026-11-20
    when: {keywords: {any: [邻居]}}
    assign: {kind: town_government, level: town}
  - id: wages-not-pension
    owner: test
    changed: 2026-11-20
    when: {keywords: {all: [工资, 拖欠], none: [养老]}}
    assign: {kind: labour, level: district}
  - id: roads
    owner: test
    changed: 2026-11-20
    when: {keywords: {any: [道路]}}
    assign: {kind: transport, level: district}
"""


@pytest.fixture(scope="module")
def directory() -> OrgDirectory:
    return load_directory(default_directory_path())


@pytest.fixture(scope="module")
def ruleset(tmp_path_factory: pytest.TempPathFactory, directory: OrgDirectory) -> RuleSet:
    path = tmp_path_factory.mktemp("rules") / "engine.yaml"
    path.write_text(RULES, encoding="utf-8")
    return load_rules(path, directory)


def case(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "schema": "xinfang.case/v1",
        "source": "web",
        "external_id": "X1",
        "channel": "letter",
        "region": "500103",
        "title": "来信",
        "content": "内容",
        "people_count": 1,
        "urgent": False,
    }
    return base | fields


ELEVATOR = {
    "channel": "phone",
    "source": "cq-12345",
    "category": "housing",
    "title": "小区加装电梯纠纷",
}


def test_all_conditions_hold_assigns_with_reasons(ruleset: RuleSet) -> None:
    decision = ruleset.decide(case(**ELEVATOR))
    assert decision.outcome == "assigned"
    assert decision.rule_id == "hotline-elevator"
    assert decision.org_unit.id == "500103:housing"
    assert decision.ruleset_version.startswith("engine-test-1+")
    assert decision.warnings == ()
    for reason in (
        "channel phone ∈ [phone, online]",
        "source cq-12345 ∈ [cq-12345]",
        "category housing ∈ [housing]",
        "region 500103 starts with 5001",
        "keyword 电梯 in title",
        "region 500103 → 渝中区 (district)",
    ):
        assert reason in decision.reasons


@pytest.mark.parametrize(
    "change",
    [
        {"channel": "letter"},
        {"source": "visit-desk"},
        {"region": "510103"},
        {"title": "小区楼道", "content": "没有关键词"},
    ],
)
def test_each_failing_condition_falls_through_to_the_next_rule(
    ruleset: RuleSet, change: dict[str, str]
) -> None:
    decision = ruleset.decide(case(**(ELEVATOR | change)))
    # Still category housing: the later, more general rule takes it (first match wins).
    if change.get("region") == "510103":
        assert decision.outcome == "triage"  # outside the directory altogether
    else:
        assert decision.rule_id == "housing-any"
        assert decision.org_unit.id == "500103:environment"


def test_keyword_found_in_content_is_reported_as_content(ruleset: RuleSet) -> None:
    decision = ruleset.decide(case(**ELEVATOR | {"title": "投诉", "content": "电梯坏了"}))
    assert "keyword 电梯 in content" in decision.reasons


def test_first_match_wins_in_file_order(ruleset: RuleSet) -> None:
    # Matches urgent-fire, crowd and housing-any; urgent-fire is first in the file.
    fire = case(urgent=True, title="火灾隐患", people_count=8, category="housing")
    decision = ruleset.decide(fire)
    assert decision.rule_id == "urgent-fire"
    assert ruleset.decide(case(title="火灾隐患", people_count=8)).rule_id == "crowd"


def test_urgent_must_be_the_boolean_true(ruleset: RuleSet) -> None:
    assert ruleset.decide(case(urgent="yes", title="火灾")).rule_id != "urgent-fire"


def test_min_people_boundary(ruleset: RuleSet) -> None:
    assert ruleset.decide(case(people_count=5)).rule_id == "crowd"
    assert ruleset.decide(case(people_count=4)).outcome == "triage"
    assert ruleset.decide(case(people_count=True)).outcome == "triage"


def test_all_and_none_keywords(ruleset: RuleSet) -> None:
    assert ruleset.decide(case(title="拖欠工资")).rule_id == "wages-not-pension"
    assert ruleset.decide(case(title="工资")).outcome == "triage"  # 拖欠 missing
    assert ruleset.decide(case(title="拖欠工资", content="还有养老")).outcome == "triage"


def test_no_match_is_triage_at_the_district_petition_bureau(ruleset: RuleSet) -> None:
    decision = ruleset.decide(case(region="500103001001", title="咨询", content="一般问题"))
    assert decision.outcome == "triage"
    assert decision.rule_id is None
    assert decision.org_unit.id == "500103:petition_bureau"
    assert decision.org_unit.name == "渝中区信访办公室"
    assert "no rule matched" in decision.reasons


def test_unknown_region_routes_by_nearest_known_ancestor_with_warning(ruleset: RuleSet) -> None:
    decision = ruleset.decide(case(**ELEVATOR | {"region": "500103999123"}))
    assert decision.org_unit.id == "500103:housing"
    assert len(decision.warnings) == 1
    assert "500103999123 is unknown" in decision.warnings[0]
    assert "nearest known ancestor 500103" in decision.warnings[0]


def test_region_outside_the_directory_is_triaged_at_the_city(ruleset: RuleSet) -> None:
    for region in ("110101", "", None, 500103):
        decision = ruleset.decide(case(**ELEVATOR | {"region": region}))
        assert decision.outcome == "triage"
        assert decision.org_unit.id == "500000:petition_bureau"
        assert any("no known ancestor" in w for w in decision.warnings)


def test_region_level_uses_the_nearest_known_region(ruleset: RuleSet) -> None:
    village = ruleset.decide(case(region="500103001001", title="邻居吵闹"))
    assert (village.rule_id, village.org_unit.id) == (
        "village-quarrel",
        "500103001001:village_committee",
    )
    # An unknown village under a known town counts as the town.
    town = ruleset.decide(case(region="500103001999", title="邻居吵闹"))
    assert (town.rule_id, town.org_unit.id) == ("town-quarrel", "500103001:town_government")


def test_district_rule_for_a_town_case_uses_the_towns_district(ruleset: RuleSet) -> None:
    decision = ruleset.decide(case(region="500103001", title="道路破损"))
    assert (decision.outcome, decision.org_unit.id) == ("assigned", "500103:transport")
    assert decision.warnings == ()


@pytest.mark.parametrize("region", ["500000", "500199"])
def test_level_fallback_goes_up_with_a_warning(ruleset: RuleSet, region: str) -> None:
    # The case is known only at city level, so the district-level rule lands on the city.
    decision = ruleset.decide(case(region=region, title="道路破损"))
    assert decision.outcome == "assigned"
    assert decision.rule_id == "roads"
    assert decision.org_unit.id == "500000:transport"
    assert any("assigned at 重庆市 (city) instead" in w for w in decision.warnings)


def test_kind_missing_everywhere_up_the_lineage_is_triage(ruleset: RuleSet) -> None:
    # town-quarrel needs a town; a district case has none on its lineage.
    decision = ruleset.decide(case(region="500105", title="邻居吵闹"))
    assert decision.outcome == "triage"
    assert decision.org_unit.id == "500105:petition_bureau"
    assert any("town-quarrel matched but no town_government" in w for w in decision.warnings)


def test_explain_names_the_first_failing_condition(ruleset: RuleSet) -> None:
    traces = {t.rule_id: t for t in ruleset.explain(case(**ELEVATOR | {"channel": "letter"}))}
    assert [t.rule_id for t in ruleset.explain(case())] == [r.id for r in ruleset.rules]
    assert traces["hotline-elevator"].matched is False
    assert traces["hotline-elevator"].failed == "channel letter ∉ [phone, online]"
    assert traces["housing-any"].matched is True
    assert traces["housing-any"].failed is None
    assert traces["wages-not-pension"].failed == "required keyword 工资 not in title or content"
    assert traces["crowd"].failed == "people_count 1 < 5"


def test_missing_category_never_matches_a_category_condition(ruleset: RuleSet) -> None:
    fields = dict(ELEVATOR)
    del fields["category"]
    trace = {t.rule_id: t for t in ruleset.explain(case(**fields))}["hotline-elevator"]
    assert trace.failed == "category (none) ∉ [housing]"


def test_rules_from_a_directory_are_ordered_by_file_name(
    tmp_path: Path, directory: OrgDirectory
) -> None:
    (tmp_path / "20-second.yaml").write_text(_rule_text("b-rule", "housing"), encoding="utf-8")
    first = _rule_text("a-rule", "labour", when="{channel: [letter]}")
    (tmp_path / "10-first.yaml").write_text(first, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("ignored", encoding="utf-8")
    ruleset = load_rules(tmp_path, directory)
    assert [r.id for r in ruleset.rules] == ["a-rule", "b-rule"]
    assert ruleset.decide(case()).rule_id == "a-rule"
    assert re.fullmatch(r"v-a-rule\+v-b-rule\+[0-9a-f]{8}", ruleset.version)


def _rule_text(rule_id: str, kind: str, level: str = "district", when: str = "{}") -> str:
    return (
        f"version: v-{rule_id}\nrules:\n  - {{id: {rule_id}, owner: t, changed: 2026-01-01,"
        f" when: {when}, assign: {{kind: {kind}, level: {level}}}}}\n"
    )
