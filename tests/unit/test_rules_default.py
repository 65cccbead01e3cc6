"""The shipped default rule set routes realistic cases where the comments in it say it does."""

from __future__ import annotations

import re
from typing import Any

import pytest

from rules import RuleSet, default_directory_path, default_rules_path, load_directory, load_rules
from rules.model import CATEGORIES


@pytest.fixture(scope="module")
def default() -> RuleSet:
    return load_rules(default_rules_path(), load_directory(default_directory_path()))


def case(title: str, content: str = "详见附件。", **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "channel": "online",
        "source": "cq-web",
        "region": "500106",
        "title": title,
        "content": content,
        "people_count": 1,
    }
    return base | fields


def test_size_and_version(default: RuleSet) -> None:
    assert 25 <= len(default) <= 40
    assert re.fullmatch(r"default-2026\.11\+[0-9a-f]{8}", default.version)


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_category_goes_to_its_district_department(default: RuleSet, category: str) -> None:
    decision = default.decide(case("情况反映", "请有关部门处理。", category=category))
    assert decision.outcome == "assigned"
    assert decision.rule_id == f"category-{category.replace('_', '-')}"
    assert decision.org_unit.id == f"500106:{category}"


@pytest.mark.parametrize(
    ("title", "content", "kind", "rule_id"),
    [
        ("公司拖欠工资三个月", "老板失联", "labour", "labour-wage-arrears"),
        ("单位不交社保", "入职一年没有社保", "labour", "keywords-labour"),
        ("夜间施工噪音扰民", "每天到凌晨", "environment", "keywords-environment"),
        ("工厂偷偷排污", "河水发黑", "environment", "keywords-environment"),
        ("物业不作为", "小区门禁坏了", "housing", "keywords-housing"),
        ("老旧小区加装电梯", "一楼住户反对", "housing", "housing-elevator"),
        ("孩子入学问题", "学位不够", "education", "keywords-education"),
        ("医院乱收费", "检查费重复收取", "health", "keywords-health"),
        ("公交线路调整不合理", "上班要换乘三次", "transport", "keywords-transport"),
        ("接到电信诈骗电话", "被骗两万元", "public_security", "public-security-fraud"),
        ("超市卖过期食品", "有小票", "market", "keywords-market"),
        ("低保申请被拒", "家里困难", "civil_affairs", "keywords-civil-affairs"),
        ("征地补偿不到位", "补偿标准偏低", "land", "land-takings"),
        ("门口占道经营", "晚上烧烤摊", "urban_management", "keywords-urban-management"),
        ("小区路灯坏了", "一直没人修", "urban_management", "keywords-urban-management"),
        ("健身房预付卡无法退费", "老板跑路", "commerce", "keywords-commerce"),
        ("景区强制消费", "导游带去购物", "culture_tourism", "keywords-culture-tourism"),
        ("买到假种子", "今年绝收", "agriculture", "keywords-agriculture"),
        ("学校收费不合理", "要求交资料费", "education", "education-school-fees"),
        ("楼道堆放杂物有火灾隐患", "物业不管", "emergency", "emergency-safety-hazard"),
    ],
)
def test_keyword_rules_for_cases_without_category(
    default: RuleSet, title: str, content: str, kind: str, rule_id: str
) -> None:
    decision = default.decide(case(title, content))
    assert (decision.rule_id, decision.org_unit.id) == (rule_id, f"500106:{kind}")


def test_pension_insurance_is_labour_not_civil_affairs(default: RuleSet) -> None:
    decision = default.decide(case("养老保险断缴", "想补缴"))
    assert decision.org_unit.kind == "labour"
    trace = {t.rule_id: t for t in default.explain(case("养老保险断缴", "想补缴"))}
    assert trace["keywords-civil-affairs"].failed == "excluded keyword 养老保险 in title"


def test_wage_arrears_override_the_category(default: RuleSet) -> None:
    decision = default.decide(case("工地拖欠农民工工资", category="housing"))
    assert decision.org_unit.kind == "labour"


def test_small_matters_stay_in_the_village(default: RuleSet) -> None:
    decision = default.decide(case("邻里纠纷", "邻居占用公共过道", region="500103001001"))
    assert decision.org_unit.id == "500103001001:village_committee"
    assert decision.org_unit.name == "金汤街社区居民委员会"


def test_big_ones_stay_in_the_town(default: RuleSet) -> None:
    decision = default.decide(case("邻里纠纷", "邻居占用公共过道", region="500105100"))
    assert decision.org_unit.id == "500105100:town_government"
    assert decision.org_unit.name == "鱼嘴镇人民政府"


def test_homestead_at_village_goes_to_the_town_unless_it_is_a_taking(default: RuleSet) -> None:
    village = "500229200201"
    homestead = default.decide(case("宅基地边界纠纷", region=village))
    assert homestead.org_unit.id == "500229200:town_government"
    taking = default.decide(case("宅基地征地补偿", region=village))
    assert (taking.rule_id, taking.org_unit.id) == ("land-takings", "500229:land")


def test_collective_petition_goes_to_the_petition_bureau(default: RuleSet) -> None:
    decision = default.decide(case("小区物业问题", people_count=12, category="housing"))
    assert (decision.rule_id, decision.org_unit.id) == (
        "collective-petition",
        "500106:petition_bureau",
    )


def test_nothing_recognisable_is_triaged_at_the_district(default: RuleSet) -> None:
    decision = default.decide(case("感谢信", "感谢工作人员", region="500106004"))
    assert decision.outcome == "triage"
    assert decision.org_unit.id == "500106:petition_bureau"
    assert decision.org_unit.name == "沙坪坝区信访办公室"


def test_rule_ids_are_unique_and_every_rule_can_be_explained(default: RuleSet) -> None:
    ids = [rule.id for rule in default.rules]
    assert len(ids) == len(set(ids))
    traces = default.explain(case("情况反映"))
    assert len(traces) == len(ids)
    assert all(t.matched or t.failed for t in traces)
