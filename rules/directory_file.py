"""The schema of an org directory file (pydantic v2) and the checks that span entries."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from rules.model import Level
from rules.regions import CODE_LENGTH, LEVELS, candidate_ancestors

Kind = Annotated[str, StringConstraints(pattern=r"^[a-z_]+$")]
Name = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
Code = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}([0-9]{3}){0,2}$")]
# A name template: a string with "{region}", or a map from a region-name ending (街道, 社区, …)
# to a template with a `default`, because a street's office and a town's government differ.
Template = Name | dict[Name, Name]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LeaderSpec(_Strict):
    role: Kind
    name: Name
    unit: Kind | None = None  # the org unit kind they lead; None = the region's leadership
    email: Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    webhook: Annotated[str, StringConstraints(pattern=r"^https?://\S+$")] | None = None

    @model_validator(mode="after")
    def _reachable(self) -> LeaderSpec:
        if self.email is None and self.webhook is None:
            raise ValueError("a leader needs at least one of email, webhook")
        return self


class RegionSpec(_Strict):
    code: Code
    name: Name
    leaders: list[LeaderSpec] = Field(default_factory=list)


class DirectoryFile(_Strict):
    version: Name
    kinds: dict[Level, dict[Kind, Template]]
    regions: dict[Level, list[RegionSpec]]


def check_directory(spec: DirectoryFile) -> list[str]:
    """Cross-entry problems as "field: problem" lines; [] when the directory is usable."""
    found = _check_templates(spec) + _check_codes(spec)
    if "petition_bureau" not in spec.kinds.get("city", {}):
        found.append("kinds.city.petition_bureau: required (cases with no other home go there)")
    if not spec.regions.get("city"):
        found.append("regions.city: at least one city-level region is required")
    return found


def _check_templates(spec: DirectoryFile) -> list[str]:
    found: list[str] = []
    for level, kinds in spec.kinds.items():
        for kind, template in kinds.items():
            if isinstance(template, dict) and "default" not in template:
                found.append(f"kinds.{level}.{kind}: a template map needs a 'default' entry")
    return found


def _check_codes(spec: DirectoryFile) -> list[str]:
    found: list[str] = []
    known = {region.code for regions in spec.regions.values() for region in regions}
    seen: set[str] = set()
    for level in LEVELS:
        for index, region in enumerate(spec.regions.get(level, [])):
            where = f"regions.{level}[{index}] ({region.code} {region.name})"
            found += _check_region(spec, level, region, where, known, seen)
            seen.add(region.code)
    return found


def _check_region(
    spec: DirectoryFile,
    level: str,
    region: RegionSpec,
    where: str,
    known: set[str],
    seen: set[str],
) -> list[str]:
    found: list[str] = []
    if region.code in seen:
        found.append(f"{where}.code: duplicate region code")
    if len(region.code) != CODE_LENGTH[level]:
        found.append(f"{where}.code: a {level} code has {CODE_LENGTH[level]} digits")
    if level != "city" and not any(code in known for code in candidate_ancestors(region.code)):
        found.append(f"{where}.code: no known ancestor region")
    level_kinds = spec.kinds.get(level, {})
    for index, leader in enumerate(region.leaders):
        if leader.unit is not None and leader.unit not in level_kinds:
            found.append(f"{where}.leaders[{index}].unit: no kind {leader.unit!r} at {level} level")
    return found
