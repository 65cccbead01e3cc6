"""Open311's service list from the current rule set: a service per category that its rules
route by (service_code = the category key), grouped by the kind of department it goes to."""

from __future__ import annotations

from dataclasses import dataclass

from rules import RuleSet
from rules.model import CATEGORIES

# What each category of the taxonomy (rules/model.py) is called, for people.
NAMES = {
    "housing": "住房和城乡建设",
    "public_security": "公安与治安",
    "labour": "劳动和社会保障",
    "education": "教育",
    "health": "卫生健康",
    "transport": "交通运输",
    "environment": "生态环境",
    "market": "市场监管",
    "civil_affairs": "民政",
    "land": "规划和自然资源",
    "agriculture": "农业农村",
    "urban_management": "城市管理",
    "emergency": "应急管理",
    "commerce": "商务",
    "culture_tourism": "文化和旅游",
}


@dataclass(frozen=True)
class Service:
    code: str
    name: str
    group: str

    def as_open311(self) -> dict[str, object]:
        return {
            "service_code": self.code,
            "service_name": self.name,
            "description": f"信访事项：{self.name}",
            "metadata": False,  # nothing beyond the standard arguments is asked
            "type": "realtime",  # the case number is returned at once
            "keywords": f"{self.code}, {self.name}",
            "group": self.group,
        }


def services_of(ruleset: RuleSet) -> list[Service]:
    """The categories the rules name, in the taxonomy's order; the whole taxonomy when no
    rule routes by category (every case is then classified from its text)."""
    groups: dict[str, str] = {}
    for rule in ruleset.rules:
        target = rule.action.assign
        for category in rule.when.category or ():
            groups.setdefault(category, (target.kind if target else None) or category)
    named = [c for c in CATEGORIES if c in groups] or list(CATEGORIES)
    return [Service(c, NAMES.get(c, c.replace("_", " ")), groups.get(c, c)) for c in named]
