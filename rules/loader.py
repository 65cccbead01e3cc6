"""Loading rule files: parse, validate everything (collecting all problems), then compile."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rules.compile import CompiledRule, compile_rule
from rules.directory import OrgDirectory, default_directory_path
from rules.engine import RuleSet
from rules.errors import RuleFileError
from rules.model import Rule, RuleFileHeader, Target
from rules.shadowing import shadowing_pairs
from rules.validation import problems
from rules.yamlio import YamlDocument, read_yaml

# A rule-set folder may carry what belongs with its rules: its own org directory, and the CSV
# import mapping of the system its cases come from (examples/nyc311). Neither is a rule file.
FOLDER_DIRECTORY = "directory.yaml"
FOLDER_MAPPING = "mapping.yaml"
NOT_RULE_FILES = frozenset({FOLDER_DIRECTORY, FOLDER_MAPPING})


def default_rules_path() -> Path:
    return Path(str(resources.files("rules") / "data" / "rules" / "default.yaml"))


def folder_directory(rules_path: Path) -> Path | None:
    """The org directory a rule-set folder carries (its directory.yaml), else None."""
    candidate = rules_path / FOLDER_DIRECTORY
    return candidate if rules_path.is_dir() and candidate.is_file() else None


def directory_path_for(rules_path: Path | None, directory_path: Path | None) -> Path:
    """The directory file to load with `rules_path`: the one given, else the rule-set
    folder's own directory.yaml, else the bundled one."""
    if directory_path is not None:
        return directory_path
    own = folder_directory(rules_path) if rules_path is not None else None
    return own or default_directory_path()


def rule_files(path: Path) -> list[Path]:
    """The rule files of `path`: the file itself, or a folder's *.yaml in file-name order
    without its directory.yaml and mapping.yaml. RuleFileError when there are none."""
    if path.is_dir():
        files = sorted(
            p
            for p in path.iterdir()
            if p.suffix == ".yaml" and p.is_file() and p.name not in NOT_RULE_FILES
        )
        if not files:
            others = " and ".join(sorted(NOT_RULE_FILES))
            why = f"{path}: no *.yaml rule files in this folder ({others} are not rule files)"
            raise RuleFileError(path, [why])
        return files
    if not path.is_file():
        raise RuleFileError(path, [f"{path}: no such rule file or folder"])
    return [path]


def load_rules(path: Path, directory: OrgDirectory) -> RuleSet:
    """Load one rule file, or every rule file of a folder in file-name order (rule_files()),
    as one rule set. Which directory goes with a folder is the caller's: directory_path_for().

    Raises RuleFileError listing every problem of every file; nothing half-loaded is returned.
    The version is the files' `version`s joined by "+", then "+" and 8 hex digits of a hash of
    the files and the directory, so two edits without a version bump are told apart.
    """
    files = rule_files(path)
    compiled: list[CompiledRule] = []
    wheres: list[str] = []
    versions: list[str] = []
    found: list[str] = []
    digest = hashlib.sha256(directory.digest.encode())
    seen: dict[str, str] = {}  # rule id -> where it was first defined, across files
    for file in files:
        loaded = _load_file(file, directory, seen)
        found += loaded.problems
        compiled += loaded.rules
        wheres += loaded.wheres
        if loaded.version is not None:
            versions.append(loaded.version)
        digest.update(f"{file.name}\0{loaded.digest}\0".encode())
    found += _shadow_problems(compiled, wheres)
    if found:
        raise RuleFileError(path, found)
    return RuleSet("+".join(versions) + "+" + digest.hexdigest()[:8], compiled, directory)


def _shadow_problems(rules: list[CompiledRule], wheres: list[str]) -> list[str]:
    return [
        f"{wheres[later]}: when: shadowed by rule {rules[earlier].id!r} "
        f"({rules[earlier].source}), which comes first and matches every case this rule matches"
        for later, earlier in shadowing_pairs(rules)
    ]


@dataclass
class _Loaded:
    version: str | None = None
    rules: list[CompiledRule] = field(default_factory=list)
    wheres: list[str] = field(default_factory=list)  # the problem prefix of each rule
    problems: list[str] = field(default_factory=list)
    digest: str = ""


def _load_file(path: Path, directory: OrgDirectory, seen: dict[str, str]) -> _Loaded:
    """One file's rules and problems; a YAML syntax error is its only problem."""
    try:
        document = read_yaml(path)
    except RuleFileError as exc:
        return _Loaded(problems=list(exc.problems))
    try:
        header = RuleFileHeader.model_validate(document.data)
    except ValidationError as exc:
        return _Loaded(problems=problems(exc, str(path)), digest=document.digest)
    loaded = _Loaded(version=header.version, digest=document.digest)
    for index, raw in enumerate(header.rules):
        where = _where(document, index, raw)
        rule, rule_problems = _check_rule(raw, where, directory, seen)
        loaded.problems += rule_problems
        if rule is not None and not rule_problems:
            loaded.rules.append(compile_rule(rule, path, index + 1))
            loaded.wheres.append(where)
    return loaded


def _where(document: YamlDocument, index: int, raw: Any) -> str:
    """'rules/default.yaml: rule 'housing-elevator' (#3, line 40)' — the prefix of each problem."""
    line = document.line_of("rules", index)
    at = f"#{index + 1}" + (f", line {line}" if line else "")
    rule_id = raw.get("id") if isinstance(raw, dict) else None
    name = f"rule {rule_id!r}" if isinstance(rule_id, str) else "rule"
    return f"{document.path}: {name} ({at})"


def _check_rule(
    raw: Any, where: str, directory: OrgDirectory, seen: dict[str, str]
) -> tuple[Rule | None, list[str]]:
    try:
        rule = Rule.model_validate(raw)
    except ValidationError as exc:
        return None, problems(exc, where)
    found = [f"{where}: {problem}" for problem in _directory_problems(rule, directory)]
    if rule.id in seen:
        found.append(f"{where}: id: duplicate rule id, first defined at {seen[rule.id]}")
    else:
        seen[rule.id] = where
    return rule, found


def _directory_problems(rule: Rule, directory: OrgDirectory) -> Iterable[str]:
    targets = [("assign", rule.assign)] + [
        (f"co_handlers[{i}]", target) for i, target in enumerate(rule.co_handlers)
    ]
    for field_name, target in targets:
        if target is not None:
            yield from _target_problems(field_name, target, directory)


def _target_problems(field_name: str, target: Target, directory: OrgDirectory) -> Iterable[str]:
    if target.unit is not None:
        if directory.named_unit(target.unit) is None:
            yield f"{field_name}.unit: {target.unit!r} is not a named unit of the directory"
        return
    kind, level = target.kind, target.level
    assert kind is not None and level is not None
    if kind not in directory.all_kinds():
        known = ", ".join(sorted(directory.all_kinds()))
        yield f"{field_name}.kind: {kind!r} is not an org unit kind of the directory ({known})"
    elif kind not in directory.kinds_at(level):
        levels = ", ".join(directory.levels_of(kind))
        yield f"{field_name}.level: no {kind!r} exists at {level!r} level (it exists at: {levels})"
