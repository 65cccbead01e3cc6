"""The rule index only skips rules that cannot match: indexed and full-scan decisions are equal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules import OrgDirectory, RuleSet, default_directory_path, load_directory
from rules.compile import compile_rule
from rules.conditions import CaseView
from rules.index import RuleIndex
from rules.model import Rule

WORDS = [
    "电梯",
    "加装电梯",
    "电梯困人",
    "噪音",
    "工资",
    "拖欠工资",
    "学校",
    "收费",
    "养老",
    "a",
    "ab",
]
REGIONS = ["500103", "500103001", "500103001001", "500109100201", "500230", "500000", "510000"]
CHANNELS = ["letter", "visit", "online", "phone", "video"]
CATEGORIES = ["housing", "labour", "education", "transport"]
KINDS = ["housing", "labour", "education", "emergency", "petition_bureau"]


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def _words(min_size: int = 1) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(WORDS), min_size=min_size, max_size=3, unique=True)


keywords = st.builds(
    lambda any_, all_, none, fields: {"any": any_, "all": all_, "none": none, "in": fields},
    _words(0),
    _words(0),
    _words(0),
    st.sampled_from([["title"], ["content"], ["title", "content"]]),
).filter(lambda k: bool(k["any"] or k["all"] or k["none"]))

when = st.fixed_dictionaries(
    {},
    optional={
        "channel": st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=2, unique=True),
        "category": st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=2, unique=True),
        "source": st.lists(st.sampled_from(["web", "cq-12345"]), min_size=1, unique=True),
        "region_prefix": st.lists(
            st.sampled_from(["5", "5001", "500103", "500103001", "5002"]),
            min_size=1,
            max_size=2,
            unique=True,
        ),
        "region_level": st.lists(
            st.sampled_from(["village", "town", "district", "city"]),
            min_size=1,
            max_size=2,
            unique=True,
        ),
        "urgent": st.booleans(),
        "petitioner_present": st.booleans(),
        "people_count": st.fixed_dictionaries({"min": st.integers(1, 6)}),
        "keywords": keywords,
    },
)

cases = st.fixed_dictionaries(
    {
        "channel": st.sampled_from(CHANNELS),
        "source": st.sampled_from(["web", "cq-12345", "other"]),
        "category": _maybe(st.sampled_from(CATEGORIES)),
        "region": st.sampled_from(REGIONS),
        "title": st.lists(st.sampled_from([*WORDS, "的", "x"]), max_size=4).map("".join),
        "content": st.lists(st.sampled_from([*WORDS, "的", "x"]), max_size=6).map("".join),
        "urgent": st.booleans(),
        "people_count": st.integers(1, 8),
        "petitioner_present": st.booleans(),
    }
)


@pytest.fixture(scope="module")
def directory() -> OrgDirectory:
    return load_directory(default_directory_path())


def ruleset_of(whens: list[dict[str, Any]], kinds: list[str], directory: OrgDirectory) -> RuleSet:
    compiled = []
    for i, (condition, kind) in enumerate(zip(whens, kinds, strict=False)):
        rule = Rule.model_validate(
            {
                "id": f"r{i}",
                "owner": "t",
                "changed": "2026-11-20",
                "when": condition,
                "assign": {"kind": kind, "level": "district"},
            }
        )
        compiled.append(compile_rule(rule, Path("random.yaml"), i + 1))
    return RuleSet("random", compiled, directory)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    whens=st.lists(when, min_size=1, max_size=40),
    kinds=st.lists(st.sampled_from(KINDS), min_size=40, max_size=40),
    batch=st.lists(cases, min_size=1, max_size=20),
)
def test_indexed_and_scanned_decisions_are_identical(
    directory: OrgDirectory,
    whens: list[dict[str, Any]],
    kinds: list[str],
    batch: list[dict[str, Any]],
) -> None:
    ruleset = ruleset_of(whens, kinds, directory)
    for case in batch:
        assert ruleset.decide(case) == ruleset.decide(case, indexed=False)


def test_index_skips_rules_that_cannot_match(directory: OrgDirectory) -> None:
    whens = [
        {"category": ["housing"]},
        {"channel": ["phone"]},
        {"keywords": {"any": ["电梯"]}},
        {"region_prefix": ["5002"]},
        {},
    ]
    ruleset = ruleset_of(whens, ["housing"] * 5, directory)

    view = CaseView.of({"channel": "letter", "region": "500103", "title": "加装电梯"}, "district")
    assert list(RuleIndex(ruleset.rules).candidates(view)) == [2, 4]


def test_overlapping_keywords_are_all_found(directory: OrgDirectory) -> None:
    # 电梯 starts inside 加装电梯 and 电梯困人 at the same place: both rules are candidates.
    whens = [
        {"keywords": {"any": ["加装电梯"]}, "channel": ["video"]},
        {"keywords": {"any": ["电梯困人"]}, "channel": ["video"]},
        {"keywords": {"any": ["电梯"]}},
    ]
    ruleset = ruleset_of(whens, ["housing", "emergency", "labour"], directory)
    decision = ruleset.decide({"channel": "letter", "region": "500103", "title": "加装电梯困人"})
    assert decision.rule_id == "r2"
