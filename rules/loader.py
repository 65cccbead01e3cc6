"""Loading rule files: parse, validate everything (collecting all problems), then compile."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rules.compile import CompiledRule, compile_rule
from rules.directory import OrgDirectory
from rules.engine import RuleSet
from rules.errors import RuleFileError
from rules.model import Rule, RuleFileHeader
from rules.validation import problems
from rules.yamlio import YamlDocument, read_yaml


def default_rules_path() -> Path:
    return Path(str(resources.files("rules") / "data" / "rules" / "default.yaml"))


def load_rules(path: Path, directory: OrgDirectory) -> RuleSet:
    """Load one rule file, or every *.yaml of a directory in file-name order, as one rule set.

    Raises RuleFileError listing every problem of every file; nothing half-loaded is returned.
    """
    files = _rule_files(path)
    compiled: list[CompiledRule] = []
    versions: list[str] = []
    found: list[str] = []
    seen: dict[str, str] = {}  # rule id -> where it was first defined, across files
    for file in files:
        version, rules, file_problems = _load_file(file, directory, seen)
        found += file_problems
        compiled += rules
        if version is not None:
            versions.append(version)
    if found:
        raise RuleFileError(path, found)
    return RuleSet("+".join(versions), compiled, directory)


def _rule_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix == ".yaml" and p.is_file())
        if not files:
            raise RuleFileError(path, [f"{path}: no *.yaml rule files in this directory"])
        return files
    if not path.is_file():
        raise RuleFileError(path, [f"{path}: no such rule file or directory"])
    return [path]


def _load_file(
    path: Path, directory: OrgDirectory, seen: dict[str, str]
) -> tuple[str | None, list[CompiledRule], list[str]]:
    """(version, compiled rules, problems) of one file; a YAML syntax error is its only problem."""
    try:
        document = read_yaml(path)
    except RuleFileError as exc:
        return None, [], list(exc.problems)
    try:
        header = RuleFileHeader.model_validate(document.data)
    except ValidationError as exc:
        return None, [], problems(exc, str(path))
    compiled: list[CompiledRule] = []
    found: list[str] = []
    for index, raw in enumerate(header.rules):
        where = _where(document, index, raw)
        rule, rule_problems = _check_rule(raw, where, directory, seen)
        found += rule_problems
        if rule is not None and not rule_problems:
            compiled.append(compile_rule(rule, path, index + 1))
    return header.version, compiled, found


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
    kind, level = rule.assign.kind, rule.assign.level
    if kind not in directory.all_kinds():
        known = ", ".join(sorted(directory.all_kinds()))
        yield f"assign.kind: {kind!r} is not an org unit kind of the directory ({known})"
    elif kind not in directory.kinds_at(level):
        levels = ", ".join(directory.levels_of(kind))
        yield f"assign.level: no {kind!r} exists at {level!r} level (it exists at: {levels})"
