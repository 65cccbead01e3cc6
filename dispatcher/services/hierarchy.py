"""The government hierarchy as the lifecycle and the ladders need it: which body is one level
up, and how far above the handler a ladder can climb."""

from __future__ import annotations

from dispatcher.domain.state import Lifecycle
from rules import OrgDirectory


def next_higher_body(directory: OrgDirectory, unit_id: str) -> dict[str, str]:
    """The body one level up from a unit, for review (Art 35) and re-review (Art 36): the same
    kind of body in the parent region, else the parent region's petition bureau; at the top of
    the directory, its own petition bureau."""
    unit = directory.named_unit(unit_id)
    region, kind = (unit.region, unit.kind) if unit else _split(unit_id)
    parent = directory.parent(region) if region else None
    candidates = [(parent, kind), (parent, "petition_bureau")] if parent else []
    candidates.append((directory.root, "petition_bureau"))
    for code, wanted in candidates:
        found = directory.unit(code, wanted) if code else None
        if found is not None and found.id != unit_id:
            return {"id": found.id, "name": found.name, "kind": found.kind}
    raise LookupError(f"no body above {unit_id} in directory {directory.version}")


def _split(unit_id: str) -> tuple[str | None, str]:
    region, _, kind = unit_id.partition(":")
    return (region, kind) if region.isdigit() else (None, kind)


def handler_region(directory: OrgDirectory, state: Lifecycle) -> str | None:
    """The region of the unit handling the case (its own region before it is routed)."""
    unit = state.org_unit
    if not unit:
        return state.region
    named = directory.named_unit(unit["id"])
    return named.region if named else (_split(unit["id"])[0] or state.region)


def height_above(directory: OrgDirectory, state: Lifecycle) -> int:
    """How many known regions lie above the handler's: how far its ladder can climb."""
    region = handler_region(directory, state)
    lineage = directory.lineage(region) if region else ()
    return max(len(lineage) - 1, 0)
