"""The org directory: regions, the org unit kinds at each level, and the leaders to notify.

Data, not code: the shipped directory is rules/data/directory/chongqing.yaml. Lookups are pure and
in memory; the file is read only by load_directory().
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rules.directory_file import DirectoryFile, RegionSpec, Template, check_directory
from rules.errors import RuleFileError
from rules.regions import LEVEL_RANK, LEVELS, candidate_ancestors
from rules.validation import problems
from rules.yamlio import read_yaml


@dataclass(frozen=True)
class OrgUnit:
    id: str  # "<region code>:<kind>", e.g. "500103:housing"
    region: str
    kind: str
    level: str
    name: str


@dataclass(frozen=True)
class Leader:
    region: str
    role: str  # head, deputy_head, petition_chief, …: escalation ladders name roles, not people
    name: str
    unit_id: str | None  # the org unit they lead, or None for the region's own leadership
    email: str | None
    webhook: str | None


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: str


class OrgDirectory:
    """Read-only lookups over one loaded directory file."""

    def __init__(
        self,
        version: str,
        regions: dict[str, Region],
        templates: dict[str, dict[str, Template]],
        leaders: dict[str, list[Leader]],
        units: dict[str, OrgUnit] | None = None,
        digest: str = "",
    ) -> None:
        self.version = version
        self.digest = digest  # sha256 of the file, so rule set versions change with it
        self._units = dict(units or {})
        self._regions = regions
        self._templates = templates
        self._leaders = leaders
        self._kinds: dict[str, frozenset[str]] = {
            level: frozenset(templates.get(level, {})) for level in LEVELS
        }
        # The first city-level region, where cases from codes with no known ancestor are triaged.
        self.root: str = next(code for code, r in regions.items() if r.level == "city")

    def __len__(self) -> int:
        return len(self._regions)

    def region_name(self, code: str) -> str | None:
        region = self._regions.get(code)
        return region.name if region else None

    def region_named_in(self, text: str) -> str | None:
        """The known region a text names (an address such as 重庆市渝中区解放碑街道…): of the
        names found in it, the one whose lineage the text names most of, then the deepest;
        None when no name is found, or when two regions tie and the text cannot tell them
        apart (their common ancestor then, if the text names it)."""
        named = {code for code, region in self._regions.items() if region.name in text}
        if not named:
            return None

        def weight(code: str) -> tuple[int, int]:
            support = sum(1 for known in self.lineage(code) if known in named)
            return support, -LEVEL_RANK[self._regions[code].level]

        best = max(weight(code) for code in named)
        tied = [code for code in named if weight(code) == best]
        if len(tied) == 1:
            return tied[0]
        shared = set.intersection(*(set(self.lineage(code)[1:]) for code in tied))
        return next((code for code in self.lineage(tied[0]) if code in shared & named), None)

    def level_of(self, code: str) -> str | None:
        region = self._regions.get(code)
        return region.level if region else None

    def knows(self, code: str) -> bool:
        return code in self._regions

    def regions_at(self, level: str) -> list[str]:
        """Codes of the known regions at `level`, in file order."""
        return [code for code, region in self._regions.items() if region.level == level]

    def lineage(self, code: str) -> tuple[str, ...]:
        """The known regions on the code's lineage, nearest first (the code itself if known)."""
        return tuple(c for c in (code, *candidate_ancestors(code)) if c in self._regions)

    def nearest_known(self, code: str) -> str | None:
        known = self.lineage(code)
        return known[0] if known else None

    def parent(self, code: str) -> str | None:
        """The nearest known strict ancestor."""
        known = [c for c in candidate_ancestors(code) if c in self._regions]
        return known[0] if known else None

    def ancestor_at(self, code: str, level: str) -> str | None:
        return next((c for c in self.lineage(code) if self._regions[c].level == level), None)

    def unit(self, region_code: str, kind: str) -> OrgUnit | None:
        region = self._regions.get(region_code)
        if region is None:
            return None
        template = self._templates.get(region.level, {}).get(kind)
        if template is None:
            return None
        name = _render(template, region.name)
        return OrgUnit(f"{region.code}:{kind}", region.code, kind, region.level, name)

    def named_unit(self, unit_id: str) -> OrgUnit | None:
        """A unit listed by name under `units:` (e.g. "nyc:HPD"); None if there is none."""
        return self._units.get(unit_id)

    def named_units(self) -> tuple[OrgUnit, ...]:
        return tuple(self._units.values())

    def kinds_at(self, level: str) -> frozenset[str]:
        return self._kinds.get(level, frozenset())

    def all_kinds(self) -> frozenset[str]:
        return frozenset().union(*self._kinds.values())

    def levels_of(self, kind: str) -> tuple[str, ...]:
        return tuple(level for level in LEVELS if kind in self._kinds[level])

    def leaders(self, region_code: str) -> list[Leader]:
        """Leaders recorded for exactly this region (the caller walks up with parent())."""
        return list(self._leaders.get(region_code, ()))


def _render(template: Template, region_name: str) -> str:
    if isinstance(template, dict):
        ending = next((e for e in template if e != "default" and region_name.endswith(e)), None)
        template = template[ending or "default"]
    # str.replace rather than format(): a stray brace in a name must not raise at lookup time.
    return template.replace("{region}", region_name)


def default_directory_path() -> Path:
    return Path(str(resources.files("rules") / "data" / "directory" / "chongqing.yaml"))


def load_directory(path: Path) -> OrgDirectory:
    """Read and validate a directory file; every problem found is reported in one RuleFileError."""
    document = read_yaml(path)
    try:
        spec = DirectoryFile.model_validate(document.data)
    except ValidationError as exc:
        raise RuleFileError(path, problems(exc, str(path))) from None
    found = check_directory(spec)
    if found:
        raise RuleFileError(path, [f"{path}: {problem}" for problem in found])
    return _build(spec, document.digest)


def _build(spec: DirectoryFile, digest: str) -> OrgDirectory:
    regions: dict[str, Region] = {}
    leaders: dict[str, list[Leader]] = {}
    # Top-down, so regions_at() and the root follow the hierarchy whatever the YAML key order.
    for level in sorted(spec.regions, key=LEVEL_RANK.__getitem__, reverse=True):
        for entry in spec.regions[level]:
            regions[entry.code] = Region(entry.code, entry.name, level)
            leaders[entry.code] = _leaders_of(entry)
    templates: dict[str, dict[str, Any]] = {
        level: dict(kinds) for level, kinds in spec.kinds.items()
    }
    units = {
        u.id: OrgUnit(u.id, u.region, u.kind, regions[u.region].level, u.name) for u in spec.units
    }
    return OrgDirectory(spec.version, regions, templates, leaders, units, digest)


def _leaders_of(entry: RegionSpec) -> list[Leader]:
    return [
        Leader(
            region=entry.code,
            role=spec.role,
            name=spec.name,
            unit_id=f"{entry.code}:{spec.unit}" if spec.unit else None,
            email=spec.email,
            webhook=spec.webhook,
        )
        for spec in entry.leaders
    ]
