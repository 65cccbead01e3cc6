"""Broken rule files: every problem is reported at once, naming the file, the rule and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from rules import OrgDirectory, RuleFileError, default_directory_path, load_directory, load_rules

GOOD_RULE = """\
  - id: housing-elevator
    owner: 市信访办
    changed: 2026-11-20
    when:
      channel: [phone, online]
      keywords: {any: [电梯]}
    assign: {kind: housing, level: district}
"""


@pytest.fixture(scope="module")
def directory() -> OrgDirectory:
    return load_directory(default_directory_path())


def _file(tmp_path: Path, body: str, name: str = "broken.yaml") -> Path:
    path = tmp_path / name
    path.write_text("version: t1\nrules:\n" + body, encoding="utf-8")
    return path


def _problems(path: Path, directory: OrgDirectory) -> list[str]:
    with pytest.raises(RuleFileError) as info:
        load_rules(path, directory)
    assert info.value.path == path
    return list(info.value.problems)


def _rule(**fields: str) -> str:
    """GOOD_RULE with lines replaced: field name -> the new YAML line (without indentation)."""
    text = GOOD_RULE
    for old, new in fields.items():
        line = next(ln for ln in text.splitlines() if ln.strip().startswith(f"{old}:"))
        indent = line[: len(line) - len(line.lstrip())]
        text = text.replace(line, indent + new)
    return text


BROKEN: dict[str, tuple[str, str]] = {
    # name: (rule text, "field: problem" expected after the rule prefix)
    "bad channel": (
        _rule(channel="channel: [phone, fax]"),
        "when.channel: 'fax' is not one of letter, visit, online, phone, video",
    ),
    "unknown condition": (_rule(channel="chanel: [phone]"), "when.chanel: unknown field"),
    "unknown rule field": (GOOD_RULE + "    prio: high\n", "prio: unknown field"),
    "missing owner": (
        GOOD_RULE.replace("    owner: 市信访办\n", ""),
        "owner: required field is missing",
    ),
    "bad date": (_rule(changed="changed: last tuesday"), "changed:"),
    "unknown kind": (
        _rule(assign="assign: {kind: housng, level: district}"),
        "assign.kind: 'housng' is not an org unit kind of the directory",
    ),
    "kind not at level": (
        _rule(assign="assign: {kind: housing, level: town}"),
        "assign.level: no 'housing' exists at 'town' level",
    ),
    "bad level": (
        _rule(assign="assign: {kind: housing, level: county}"),
        "assign.level: 'county' is not one of village, town, district, city",
    ),
    "prefix not digits": (_rule(channel='region_prefix: ["50a1"]'), "when.region_prefix[0]"),
    "prefix too long": (_rule(channel='region_prefix: ["5001030010019"]'), "when.region_prefix[0]"),
    "prefix as number": (_rule(channel="region_prefix: [5001]"), "when.region_prefix[0]: 5001"),
    "keywords wrong type": (_rule(keywords="keywords: {any: 电梯}"), "when.keywords.any:"),
    "keywords empty": (
        _rule(keywords="keywords: {}"),
        "when.keywords: give at least one of any, all, none",
    ),
    "unknown category": (
        _rule(channel="category: [housing, weather]"),
        "when.category: 'weather' is not one of housing",
    ),
    "bad people": (_rule(channel="min_people: 0"), "when.min_people:"),
    "urgent as string": (_rule(channel='urgent: "yes"'), "when.urgent:"),
    "empty channel list": (_rule(channel="channel: []"), "when.channel:"),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_rule_names_file_rule_and_field(
    tmp_path: Path, directory: OrgDirectory, name: str
) -> None:
    text, expected = BROKEN[name]
    path = _file(tmp_path, GOOD_RULE.replace("housing-elevator", "fine-rule") + text)
    problems = _problems(path, directory)
    assert len(problems) == 1, problems
    prefix = f"{path}: rule 'housing-elevator' (#2, line "
    assert problems[0].startswith(prefix), problems[0]
    assert expected in problems[0], problems[0]


def test_bad_rule_id_is_named_by_position(tmp_path: Path, directory: OrgDirectory) -> None:
    path = _file(tmp_path, GOOD_RULE.replace("id: housing-elevator", "id: Housing_Elevator"))
    (problem,) = _problems(path, directory)
    assert problem.startswith(f"{path}: rule 'Housing_Elevator' (#1, line 3): id:")


def test_rule_without_id_is_named_by_position(tmp_path: Path, directory: OrgDirectory) -> None:
    path = _file(tmp_path, GOOD_RULE.replace("  - id: housing-elevator\n    ", "  - "))
    (problem,) = _problems(path, directory)
    assert problem == f"{path}: rule (#1, line 3): id: required field is missing"


def test_duplicate_ids_name_both_places(tmp_path: Path, directory: OrgDirectory) -> None:
    path = _file(tmp_path, GOOD_RULE + GOOD_RULE)
    (problem,) = _problems(path, directory)
    assert problem.startswith(f"{path}: rule 'housing-elevator' (#2, line 10): id: duplicate")
    assert "first defined at" in problem and "(#1, line 3)" in problem


def test_duplicate_ids_across_files_of_a_directory(tmp_path: Path, directory: OrgDirectory) -> None:
    _file(tmp_path, GOOD_RULE, "10-a.yaml")
    second = _file(tmp_path, GOOD_RULE, "20-b.yaml")
    (problem,) = _problems_of_dir(tmp_path, directory)
    assert problem.startswith(f"{second}: rule 'housing-elevator' (#1, line 3): id: duplicate")
    assert "10-a.yaml" in problem


def _problems_of_dir(path: Path, directory: OrgDirectory) -> list[str]:
    with pytest.raises(RuleFileError) as info:
        load_rules(path, directory)
    return list(info.value.problems)


def test_all_problems_of_a_file_are_collected(tmp_path: Path, directory: OrgDirectory) -> None:
    body = (
        _rule(channel="channel: [fax]").replace("housing-elevator", "one")
        + _rule(assign="assign: {kind: nope, level: district}").replace("housing-elevator", "two")
        + GOOD_RULE.replace("housing-elevator", "three")
        + _rule(channel="chanel: [phone]", changed="changed: soon").replace(
            "housing-elevator", "four"
        )
    )
    problems = _problems(_file(tmp_path, body), directory)
    assert [p.split("'")[1] for p in problems] == ["one", "two", "four", "four"]
    assert sum("when.chanel: unknown field" in p for p in problems) == 1


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path, directory: OrgDirectory) -> None:
    path = _file(tmp_path, GOOD_RULE + "  - id: [unclosed\n")
    (problem,) = _problems(path, directory)
    assert problem.startswith(f"{path}: line ")
    assert "YAML error" in problem


def test_duplicate_yaml_key_is_refused_with_its_line(
    tmp_path: Path, directory: OrgDirectory
) -> None:
    path = _file(
        tmp_path, GOOD_RULE.replace("      keywords:", "      channel: [letter]\n      keywords:")
    )
    (problem,) = _problems(path, directory)
    assert problem.startswith(f"{path}: line 8, column 7: YAML error: found duplicate key")
    assert "'channel'" in problem


def test_top_level_problems_name_the_field(tmp_path: Path, directory: OrgDirectory) -> None:
    path = tmp_path / "top.yaml"
    path.write_text("versoin: 1\nrules: []\n", encoding="utf-8")
    problems = _problems(path, directory)
    assert f"{path}: version: required field is missing" in problems
    assert f"{path}: versoin: unknown field" in problems
    assert any(p.startswith(f"{path}: rules:") for p in problems)


def test_empty_or_missing_paths(tmp_path: Path, directory: OrgDirectory) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no *.yaml rule files" in _problems_of_dir(empty, directory)[0]
    assert "no such rule file" in _problems_of_dir(tmp_path / "nope.yaml", directory)[0]
    blank = tmp_path / "blank.yaml"
    blank.write_text("", encoding="utf-8")
    assert _problems(blank, directory)


def test_a_good_file_loads(tmp_path: Path, directory: OrgDirectory) -> None:
    ruleset = load_rules(_file(tmp_path, GOOD_RULE), directory)
    assert ruleset.version.startswith("t1+")
    assert [r.id for r in ruleset.rules] == ["housing-elevator"]
