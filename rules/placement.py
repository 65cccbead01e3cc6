"""Where a case's region sits in the directory, and which org unit a rule's target names there."""

from __future__ import annotations

from dataclasses import dataclass

from rules.directory import OrgDirectory, OrgUnit
from rules.model import Target
from rules.regions import LEVEL_RANK

TRIAGE_KIND = "petition_bureau"


@dataclass(frozen=True)
class Place:
    """The known regions of a case's lineage, nearest first; () if none is known."""

    lineage: tuple[str, ...]
    reasons: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def level_region(self) -> str | None:
        return self.lineage[0] if self.lineage else None


def place_of(directory: OrgDirectory, region: object) -> Place:
    code = region if isinstance(region, str) else ""
    lineage = directory.lineage(code)
    if not lineage:
        warning = f"region {region!r} is unknown to the directory and has no known ancestor"
        return Place((), (), (warning,))
    nearest = lineage[0]
    reason = f"region {code} → {label(directory, nearest)}"
    if nearest == code:
        return Place(lineage, (reason,), ())
    warning = (
        f"region {code} is unknown to the directory; "
        f"routed by nearest known ancestor {nearest} ({directory.region_name(nearest)})"
    )
    return Place(lineage, (reason,), (warning,))


def label(directory: OrgDirectory, code: str) -> str:
    return f"{directory.region_name(code)} ({directory.level_of(code)})"


def resolve(
    directory: OrgDirectory, target: Target, place: Place, rule_id: str
) -> tuple[OrgUnit | None, tuple[str, ...]]:
    """The unit a target names for this case, with warnings; None when there is none."""
    if target.unit is not None:
        unit = directory.named_unit(target.unit)
        if unit is None:  # load_rules checks units, so only a directory swapped under the rules
            return None, (f"rule {rule_id} names unit {target.unit}, unknown to the directory",)
        return unit, ()
    assert target.kind is not None and target.level is not None
    return _by_kind(directory, target.kind, target.level, place, rule_id)


def _by_kind(
    directory: OrgDirectory, kind: str, level: str, place: Place, rule_id: str
) -> tuple[OrgUnit | None, tuple[str, ...]]:
    """The kind at its level of the lineage, else at the nearest ancestor above that has it."""
    if not place.lineage:
        return None, (f"rule {rule_id} matched but the region is unknown; triage",)
    floor = LEVEL_RANK[level]
    eligible = [c for c in place.lineage if LEVEL_RANK[directory.level_of(c) or "city"] >= floor]
    for code in eligible:
        unit = directory.unit(code, kind)
        if unit is None:
            continue
        if unit.level == level:
            return unit, ()
        return unit, (
            f"rule {rule_id} asks for {kind} at {level} level, which the lineage "
            f"of {place.lineage[0]} lacks; assigned at {label(directory, code)} instead",
        )
    return None, (
        f"rule {rule_id} matched but no {kind} exists at or above {level} level "
        f"on the lineage of {place.lineage[0]}; triage",
    )


def petition_bureau(directory: OrgDirectory, place: Place) -> OrgUnit:
    """The nearest petition bureau up the lineage; the root (a city) always has one."""
    lineage = (*place.lineage, directory.root)
    return next(u for code in lineage if (u := directory.unit(code, TRIAGE_KIND)) is not None)
