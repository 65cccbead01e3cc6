"""Shadowed rules (an earlier rule matches every case a later one does) are load errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from rules import OrgDirectory, RuleFileError, default_directory_path, load_directory, load_rules
from rules.model import When
from rules.shadowing import implies


@pytest.fixture(scope="module")
def directory() -> OrgDirectory:
    return load_directory(default_directory_path())


def when(**conditions: object) -> When:
    return When.model_validate(conditions)


SHADOWED = [
    # (earlier, later): every case matching `later` matches `earlier`
    ({}, {"category": ["housing"]}),
    ({"category": ["housing", "labour"]}, {"category": ["housing"]}),
    ({"channel": ["phone", "online"]}, {"channel": ["phone"], "source": ["x"]}),
    ({"region_level": ["town", "village"]}, {"region_level": ["village"]}),
    ({"region_prefix": ["5001"]}, {"region_prefix": ["500103", "50010"]}),
    ({"urgent": True}, {"urgent": True, "category": ["housing"]}),
    ({"petitioner_present": False}, {"petitioner_present": False}),
    ({"min_people": 5}, {"people_count": {"min": 10}}),
    ({"people_count": {"max": 10}}, {"people_count": {"min": 2, "max": 3}}),
    ({"extra": {"k": ["a", "b"]}}, {"extra": {"k": ["a"], "j": [1]}}),
    ({"received": {"weekdays": [6, 7]}}, {"received": {"weekdays": [7], "hours": [9, 12]}}),
    ({"received": {"hours": [18, 8]}}, {"received": {"hours": [22, 6]}}),
    ({"keywords": {"any": ["电梯"]}}, {"keywords": {"any": ["加装电梯", "电梯困人"]}}),
    ({"keywords": {"any": ["电梯"]}}, {"keywords": {"all": ["加装电梯", "纠纷"]}}),
    ({"keywords": {"all": ["学校"]}}, {"keywords": {"all": ["学校收费"]}}),
    ({"keywords": {"none": ["养老保险"]}}, {"keywords": {"any": ["x"], "none": ["养老"]}}),
    ({"keywords": {"any": ["a"]}}, {"keywords": {"any": ["a"], "in": ["title"]}}),
]

NOT_SHADOWED = [
    ({"category": ["housing"]}, {}),
    ({"category": ["housing"]}, {"category": ["housing", "labour"]}),
    ({"region_prefix": ["500103"]}, {"region_prefix": ["5001"]}),
    ({"urgent": True}, {"urgent": False}),
    ({"min_people": 5}, {}),
    ({"people_count": {"max": 10}}, {"people_count": {"min": 2}}),
    ({"extra": {"k": ["a"]}}, {"extra": {"k": ["a", "b"]}}),
    ({"received": {"hours": [9, 17]}}, {"received": {"hours": [8, 12]}}),
    ({"received": {"weekdays": [1]}}, {}),
    ({"keywords": {"any": ["电梯"]}}, {}),
    ({"keywords": {"any": ["加装电梯"]}}, {"keywords": {"any": ["电梯"]}}),
    ({"keywords": {"any": ["a"], "in": ["title"]}}, {"keywords": {"any": ["a"]}}),
    ({"keywords": {"none": ["养老"]}}, {"keywords": {"any": ["x"], "none": ["养老保险"]}}),
    ({"keywords": {"all": ["学校", "收费"]}}, {"keywords": {"any": ["学校"]}}),
]


@pytest.mark.parametrize(("earlier", "later"), SHADOWED)
def test_implied(earlier: dict[str, object], later: dict[str, object]) -> None:
    assert implies(when(**later), when(**earlier))


@pytest.mark.parametrize(("earlier", "later"), NOT_SHADOWED)
def test_not_implied(earlier: dict[str, object], later: dict[str, object]) -> None:
    assert not implies(when(**later), when(**earlier))


def test_load_reports_the_shadowed_rule_with_file_rule_and_field(
    tmp_path: Path, directory: OrgDirectory
) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        "version: s1\nrules:\n"
        "  - {id: any-housing, owner: t, changed: 2026-11-20, when: {category: [housing]},\n"
        "     assign: {kind: housing, level: district}}\n"
        "  - {id: housing-elevator, owner: t, changed: 2026-11-20,\n"
        "     when: {category: [housing], keywords: {any: [电梯]}},\n"
        "     assign: {kind: emergency, level: district}}\n",
        encoding="utf-8",
    )
    with pytest.raises(RuleFileError) as info:
        load_rules(path, directory)
    assert info.value.problems == (
        f"{path}: rule 'housing-elevator' (#2, line 5): when: shadowed by rule 'any-housing' "
        "(rules.yaml#1), which comes first and matches every case this rule matches",
    )


def test_shipped_rules_have_no_shadowed_rule(directory: OrgDirectory) -> None:
    from rules import default_rules_path

    assert len(load_rules(default_rules_path(), directory)) > 0
