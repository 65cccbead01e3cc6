"""The schema of an org directory file (pydantic v2) and the checks that span entries."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from rules.model import Level, UnitId
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


class UnitSpec(_Strict):
    """A named org unit (an agency of a 311 city, a bureau known by name, not by template)."""

    id: UnitId
    name: Name
    kind: Kind
    region: Code


class DirectoryFile(_Strict):
    version: Name
    kinds: dict[Level, dict[Kind, Template]]
    # By level ({city: [...], district: [...]}) or as one list of {code, name, level}.
    regions: dict[Level, list[RegionSpec]]
    units: list[UnitSpec] = Field(default_factory=list)

    @field_validator("regions", mode="before")
    @classmethod
    def _group_by_level(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        grouped: dict[str, list[Any]] = {}
        for index, item in enumerate(value):
            level = item.get("level") if isinstance(item, dict) else None
            if not isinstance(level, str):
                levels = "city, district, town, village"
                raise ValueError(f"[{index}].level: required in a list of regions ({levels})")
            rest = {key: field for key, field in item.items() if key != "level"}
            grouped.setdefault(level, []).append(rest)
        return grouped


def check_directory(spec: DirectoryFile) -> list[str]:
    """Cross-entry problems as "field: problem" lines; [] when the directory is usable."""
    found = _check_templates(spec) + _check_codes(spec) + _check_units(spec)
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
    level: Level,
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


def _check_units(spec: DirectoryFile) -> list[str]:
    found: list[str] = []
    levels = {region.code: level for level, rs in spec.regions.items() for region in rs}
    seen: set[str] = set()
    for index, unit in enumerate(spec.units):
        where = f"units[{index}] ({unit.id})"
        if unit.id in seen:
            found.append(f"{where}.id: duplicate unit id")
        seen.add(unit.id)
        level = levels.get(unit.region)
        if level is None:
            found.append(f"{where}.region: {unit.region} is not a region of this directory")
        elif _templated_id(spec, unit.id):
            found.append(f"{where}.id: clashes with the id of a unit from kinds ('<code>:<kind>')")
    return found


def _templated_id(spec: DirectoryFile, unit_id: str) -> bool:
    code, _, kind = unit_id.partition(":")
    return any(
        kind in spec.kinds.get(level, {}) and any(r.code == code for r in regions)
        for level, regions in spec.regions.items()
    )
