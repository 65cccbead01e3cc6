"""Reading YAML rule and directory files: safe, duplicate keys refused, line numbers kept."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from rules.errors import RuleFileError


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping.

    PyYAML silently keeps the last value, so a doubled `when:` or `channel:` would quietly drop a
    condition; in a rule file that is a routing bug, not a style issue.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"found duplicate key {key!r}",
                        key_node.start_mark,
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


@dataclass(frozen=True)
class YamlDocument:
    """The parsed data of one file with the line (1-based) of each item of a top-level list."""

    path: Path
    data: Any
    item_lines: dict[str, tuple[int, ...]]
    digest: str = ""  # sha256 of the text parsed, to tell two versions of a file apart

    def line_of(self, key: str, index: int) -> int | None:
        lines = self.item_lines.get(key, ())
        return lines[index] if 0 <= index < len(lines) else None


def read_yaml(path: Path) -> YamlDocument:
    """Parse one YAML file; syntax errors become a RuleFileError naming the file and the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleFileError(path, [f"{path}: cannot read: {exc}"]) from exc
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise RuleFileError(path, [f"{path}: {_describe_yaml_error(exc)}"]) from exc
    finally:
        loader.dispose()
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return YamlDocument(path=path, data=data, item_lines=_top_list_lines(node), digest=digest)


def _describe_yaml_error(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is None:
        return f"YAML error: {problem}"
    return f"line {mark.line + 1}, column {mark.column + 1}: YAML error: {problem}"


def _top_list_lines(node: yaml.Node | None) -> dict[str, tuple[int, ...]]:
    """For `key: [items…]` at the top level, the 1-based line where each item starts."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    lines: dict[str, tuple[int, ...]] = {}
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and isinstance(value_node, yaml.SequenceNode):
            lines[key_node.value] = tuple(item.start_mark.line + 1 for item in value_node.value)
    return lines
