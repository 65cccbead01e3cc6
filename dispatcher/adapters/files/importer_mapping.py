"""The mapping file of `xinfang import csv`: how another system's CSV columns become contract v1.

Validated with pydantic; every problem is reported as `<mapping file>: <field>: <problem>`.
Reading the file happens only in load_mapping(); nothing is read at import.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from dispatcher.domain.errors import XinfangError

Channel = Literal["letter", "visit", "online", "phone", "video"]
Column = Annotated[str, StringConstraints(min_length=1)]
Code = Annotated[str, StringConstraints(pattern=r"^([0-9]{6}|[0-9]{9}|[0-9]{12})$")]
CategoryKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
SourceName = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"\S")]

# "{Complaint Type}" is a column; "{{" and "}}" are literal braces.
_TEMPLATE_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


class MappingError(XinfangError):
    """A mapping file that cannot be used; each problem names the file and the field."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(problems))


def template_columns(template: str) -> list[str]:
    """The columns a template names, in order; ValueError on an unbalanced brace or `{}`."""
    columns: list[str] = []
    for match in _TEMPLATE_TOKEN.finditer(template):
        token = match.group(0)
        if token in ("{{", "}}"):
            continue
        name = match.group(1)
        if name is None or not name.strip():
            raise ValueError(f"unbalanced or empty brace at position {match.start()}")
        columns.append(name)
    return columns


def render_template(template: str, row: dict[str, str]) -> str:
    """Replace each `{column}` by the row's value (missing or empty: nothing).

    In a template of several lines, a line whose columns are all empty is left out, so
    "Address: {Incident Address}" does not become a dangling "Address: ".
    """
    lines = [_render_line(line, row) for line in template.split("\n")]
    return "\n".join(line for line in lines if line is not None)


def _render_line(line: str, row: dict[str, str]) -> str | None:
    values: list[str] = []

    def one(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        values.append((row.get(match.group(1)) or "").strip())
        return values[-1]

    rendered = _TEMPLATE_TOKEN.sub(one, line)
    return None if values and not any(values) else rendered


def _fold(table: dict[str, Any]) -> dict[str, Any]:
    """Map keys compared without case and surrounding blanks."""
    return {key.strip().casefold(): value for key, value in table.items()}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChannelSpec(_Strict):
    """`map` keys are the source's values, compared without case; `default` for empty/unmapped."""

    column: Column | None = None
    map: dict[str, Channel] = Field(default_factory=dict)
    default: Channel | None = None

    @model_validator(mode="after")
    def _usable(self) -> ChannelSpec:
        if self.column is None and self.default is None:
            raise ValueError("give a column, a default, or both")
        return self

    def lookup(self, value: str | None) -> str | None:
        if value is None or not value.strip():
            return self.default
        return _fold(self.map).get(value.strip().casefold(), self.default)


class ReceivedAtSpec(_Strict):
    column: Column
    format: str | list[str] = Field(description="strptime format(s), tried in order")
    timezone: str = "UTC"

    @field_validator("format")
    @classmethod
    def _formats(cls, value: str | list[str]) -> str | list[str]:
        if not value or (isinstance(value, list) and not all(value)):
            raise ValueError("give at least one non-empty strptime format")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Asia/Shanghai)") from None
        return value

    @property
    def formats(self) -> list[str]:
        return [self.format] if isinstance(self.format, str) else list(self.format)


class TimeSpec(_Strict):
    """A time column written into `extra` as RFC 3339 (the source's own due date, or when it
    closed the case); formats and time zone default to received_at's. An empty cell: absent."""

    column: Column
    format: str | list[str] | None = None
    timezone: str | None = None


class RegionSpec(_Strict):
    """Either a constant code, or a column whose values are mapped to codes (or are codes)."""

    constant: Code | None = None
    column: Column | None = None
    map: dict[str, Code] = Field(default_factory=dict)
    default: Code | None = None

    @model_validator(mode="after")
    def _one_source(self) -> RegionSpec:
        if (self.constant is None) == (self.column is None):
            raise ValueError("give exactly one of constant, column")
        if self.constant is not None and (self.map or self.default):
            raise ValueError("map and default go with column, not with constant")
        return self


class CategorySpec(_Strict):
    """Without `map` the value is turned into a taxonomy key (lower case, `_` for the rest)."""

    column: Column
    map: dict[str, CategoryKey] | None = None
    default: CategoryKey | None = None


class ImportMapping(_Strict):
    source: SourceName
    external_id: Column
    channel: ChannelSpec
    received_at: ReceivedAtSpec
    # The source's own deadline and closing time, for cases that another system tracks:
    # extra.due_at and extra.closed_at (docs/escalation.md, "Sources with their own due date").
    due_at: TimeSpec | None = None
    closed_at: TimeSpec | None = None
    region: RegionSpec
    category: CategorySpec | None = None
    title: Annotated[str, StringConstraints(min_length=1)]
    content: Annotated[str, StringConstraints(min_length=1)]
    extra: dict[Annotated[str, StringConstraints(min_length=1)], Column] = Field(
        default_factory=dict
    )

    @field_validator("title", "content")
    @classmethod
    def _template(cls, value: str) -> str:
        template_columns(value)
        return value

    def columns(self) -> list[str]:
        """Every column the mapping reads, once each, in a stable order."""
        named = [
            self.external_id,
            self.channel.column,
            self.received_at.column,
            self.due_at.column if self.due_at else None,
            self.closed_at.column if self.closed_at else None,
            self.region.column,
            self.category.column if self.category else None,
            *template_columns(self.title),
            *template_columns(self.content),
            *self.extra.values(),
        ]
        return list(dict.fromkeys(c for c in named if c is not None))


def load_mapping(path: Path) -> ImportMapping:
    """Read and validate a mapping file; MappingError lists every problem."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise MappingError(path, [f"{path}: cannot read: {error}"]) from None
    except yaml.YAMLError as error:
        raise MappingError(path, [f"{path}: YAML error {_yaml_problem(error)}"]) from None
    try:
        return ImportMapping.model_validate(data)
    except ValidationError as error:
        raise MappingError(
            path, [f"{path}: {_where(e['loc'])}: {_say(e)}" for e in error.errors()]
        ) from None


def _yaml_problem(error: yaml.YAMLError) -> str:
    """Where and what, in one line: 'at line 1, column 11: expected ...'."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        what = error.problem or error.context or "cannot be parsed"
        return f"at line {mark.line + 1}, column {mark.column + 1}: {what}"
    return ": " + " ".join(str(error).split())


def _where(loc: tuple[Any, ...]) -> str:
    parts = [str(part) for part in loc if not str(part).startswith(("function-", "literal["))]
    return ".".join(parts) or "(top level)"


def _say(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown field"
    if error["type"] == "missing":
        return "required field is missing"
    if error["type"] == "model_type":
        return "must be a mapping"
    return str(error["msg"]).removeprefix("Value error, ")
