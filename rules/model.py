"""The schema of a rule file (pydantic v2). Validation only; compile.py turns rules into matchers.

Checks that need the org directory (does a kind exist, at that level?) live in loader.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    field_validator,
    model_validator,
)

from rules.regions import Level

__all__ = ["Level"]  # re-exported: rules.model is where rule files' types are read from

CHANNELS: tuple[str, ...] = ("letter", "visit", "online", "phone", "video")
# The case taxonomy shared with the demo data and intake; a rule naming another category would
# never match, so it is refused at load time.
CATEGORIES: tuple[str, ...] = (
    "housing",
    "public_security",
    "labour",
    "education",
    "health",
    "transport",
    "environment",
    "market",
    "civil_affairs",
    "land",
    "agriculture",
    "urban_management",
    "emergency",
    "commerce",
    "culture_tourism",
)

RuleId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=80)]
Word = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
Prefix = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,12}$")]


class _Strict(BaseModel):
    # Unknown fields are errors: a misspelt condition must not silently widen a rule.
    model_config = ConfigDict(extra="forbid", frozen=True)


def _one_of(values: list[str], allowed: tuple[str, ...]) -> list[str]:
    bad = [value for value in values if value not in allowed]
    if bad:
        shown = ", ".join(repr(value) for value in bad)
        verb = "is" if len(bad) == 1 else "are"
        raise ValueError(f"{shown} {verb} not one of {', '.join(allowed)}")
    return values


TextField = Literal["title", "content"]
Priority = Literal["normal", "high", "urgent"]
# The legal channels of Art 31 (1)–(4) and Art 22 (discipline inspection); the same list as
# dispatcher.domain.decisions.Diversion, which a test keeps equal.
DivertChannel = Literal[
    "litigation",
    "arbitration",
    "party_appeal",
    "administrative_procedure",
    "discipline_inspection",
]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+([-_.][a-z0-9]+)*$", max_length=64)]
# Org unit ids of named units: "nyc:HPD", "500103:housing"; ≤ 64 like the cases.org_unit_id column.
UnitId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$", max_length=64)]
Weekday = Annotated[int, Field(strict=True, ge=1, le=7)]
Hour = Annotated[int, Field(strict=True, ge=0, le=24)]
# Extra values compare by type and value with the case's `extra` entry (true is not 1); floats
# are left out on purpose: identifiers and codes are strings, whole numbers or booleans.
ExtraValue = StrictStr | StrictInt | StrictBool


class Keywords(_Strict):
    any: list[Word] = Field(default_factory=list)
    all: list[Word] = Field(default_factory=list)
    none: list[Word] = Field(default_factory=list)
    # Which text fields are searched; both by default.
    fields: list[TextField] = Field(default=["title", "content"], alias="in", min_length=1)

    @model_validator(mode="after")
    def _not_empty(self) -> Keywords:
        if not (self.any or self.all or self.none):
            raise ValueError("give at least one of any, all, none")
        return self


class PeopleCount(_Strict):
    """min ≤ people_count ≤ max, both bounds inclusive and optional."""

    min: StrictInt | None = Field(default=None, ge=1)
    max: StrictInt | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _bounds(self) -> PeopleCount:
        if self.min is None and self.max is None:
            raise ValueError("give at least one of min, max")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class Received(_Strict):
    """When the case was received, in Asia/Shanghai local time.

    weekdays are ISO (1 = Monday … 7 = Sunday); hours [start, end) in whole hours, wrapping over
    midnight when start > end ([18, 8] is the night shift).
    """

    weekdays: list[Weekday] | None = Field(default=None, min_length=1)
    hours: tuple[Hour, Hour] | None = None

    @model_validator(mode="after")
    def _sensible(self) -> Received:
        if self.weekdays is None and self.hours is None:
            raise ValueError("give at least one of weekdays, hours")
        if self.hours is not None and self.hours[0] == self.hours[1]:
            raise ValueError("hours [start, end) is empty: start equals end")
        return self


class When(_Strict):
    """All given conditions must hold; an omitted condition holds for every case."""

    channel: list[str] | None = Field(default=None, min_length=1)
    source: list[Word] | None = Field(default=None, min_length=1)
    category: list[str] | None = Field(default=None, min_length=1)
    region_prefix: list[Prefix] | None = Field(default=None, min_length=1)
    # Level of the case's region as known to the directory (an unknown village code under a known
    # town counts as "town"), so grassroots rules still fire for sample-sized directories.
    region_level: list[Level] | None = Field(default=None, min_length=1)
    keywords: Keywords | None = None
    # Strict: YAML "yes" or "5" in quotes is a typo to report, not a value to coerce.
    urgent: StrictBool | None = None
    petitioner_present: StrictBool | None = None
    people_count: PeopleCount | None = None
    min_people: StrictInt | None = Field(default=None, ge=1)  # alias of people_count.min
    received: Received | None = None
    extra: dict[Word, list[ExtraValue]] | None = Field(default=None, min_length=1)

    @field_validator("channel")
    @classmethod
    def _known_channels(cls, values: list[str] | None) -> list[str] | None:
        return None if values is None else _one_of(values, CHANNELS)

    @field_validator("category")
    @classmethod
    def _known_categories(cls, values: list[str] | None) -> list[str] | None:
        return None if values is None else _one_of(values, CATEGORIES)

    @field_validator("extra")
    @classmethod
    def _values_given(cls, values: dict[str, list[Any]] | None) -> dict[str, list[Any]] | None:
        empty = [key for key, listed in (values or {}).items() if not listed]
        if empty:
            raise ValueError(f"{', '.join(empty)}: give at least one value")
        return values

    @model_validator(mode="after")
    def _one_people_condition(self) -> When:
        if self.min_people is not None and self.people_count is not None:
            raise ValueError("give people_count or its old alias min_people, not both")
        return self

    def people_bounds(self) -> tuple[int | None, int | None] | None:
        """(min, max) from people_count or min_people; None when people are not a condition."""
        if self.people_count is not None:
            return self.people_count.min, self.people_count.max
        if self.min_people is not None:
            return self.min_people, None
        return None


class Target(_Strict):
    """An org unit: a kind at a level of the case's region lineage, or a named unit."""

    kind: Annotated[str, StringConstraints(pattern=r"^[a-z_]+$")] | None = None
    level: Level | None = None
    unit: UnitId | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Target:
        by_kind = self.kind is not None or self.level is not None
        if self.unit is not None and by_kind:
            raise ValueError("give either {kind, level} or {unit}, not both")
        if self.unit is None and (self.kind is None or self.level is None):
            raise ValueError("give both kind and level, or a named unit")
        return self

    def label(self) -> str:
        return f"unit {self.unit}" if self.unit else f"{self.kind} at {self.level} level"


class Divert(_Strict):
    """Diversion to a legal channel (诉访分离); the petition bureau tells the petitioner."""

    channel: DivertChannel
    note: str | None = None


class Rule(_Strict):
    id: RuleId
    owner: Word
    changed: dt.date
    note: str | None = None
    when: When = Field(default_factory=When)
    assign: Target | None = None
    co_handlers: list[Target] = Field(default_factory=list)  # 协办 beside the main handler
    priority: Priority = "normal"
    policy: Slug | None = None  # clock policy id, e.g. cn-2022, hotline-12345
    ladder: Slug | None = None
    tags: list[Slug] = Field(default_factory=list)
    fast_lane: StrictBool = False  # major or urgent matter: notify upward at once
    divert: Divert | None = None

    @model_validator(mode="after")
    def _assign_or_divert(self) -> Rule:
        if (self.assign is None) == (self.divert is None):
            raise ValueError("give exactly one of assign, divert")
        return self


class RuleFileHeader(_Strict):
    """The top level of a rule file; each rule is validated on its own so errors can name it."""

    version: Word
    rules: list[Any] = Field(min_length=1)
