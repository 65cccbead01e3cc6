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
    StringConstraints,
    field_validator,
    model_validator,
)

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
Level = Literal["village", "town", "district", "city"]

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


class Keywords(_Strict):
    any: list[Word] = Field(default_factory=list)
    all: list[Word] = Field(default_factory=list)
    none: list[Word] = Field(default_factory=list)

    @model_validator(mode="after")
    def _not_empty(self) -> Keywords:
        if not (self.any or self.all or self.none):
            raise ValueError("give at least one of any, all, none")
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
    min_people: StrictInt | None = Field(default=None, ge=1)

    @field_validator("channel")
    @classmethod
    def _known_channels(cls, values: list[str] | None) -> list[str] | None:
        return None if values is None else _one_of(values, CHANNELS)

    @field_validator("category")
    @classmethod
    def _known_categories(cls, values: list[str] | None) -> list[str] | None:
        return None if values is None else _one_of(values, CATEGORIES)


class Assign(_Strict):
    kind: Annotated[str, StringConstraints(pattern=r"^[a-z_]+$")]
    level: Level


class Rule(_Strict):
    id: RuleId
    owner: Word
    changed: dt.date
    note: str | None = None
    when: When = Field(default_factory=When)
    assign: Assign


class RuleFileHeader(_Strict):
    """The top level of a rule file; each rule is validated on its own so errors can name it."""

    version: Word
    rules: list[Any] = Field(min_length=1)
