"""Who in the console may see and do what (issue: the online channel, 网上办 and 网上督).

Two kinds of officer log in. A department's officer works the cases assigned to their own
unit: they see those and act on them, and only they see the petitioner's identity (the
handling unit needs it to reply; the regulation keeps it from everyone else). A petition
bureau supervises a region: it sees every case of its region and of everything below it, and
acts on none (its work is routing and supervision, done through the dispatcher).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dispatcher.domain.regions import Level, Region


class Role(StrEnum):
    DEPARTMENT = "department"  # 承办单位: one org unit of the directory
    BUREAU = "bureau"  # 信访局: a region and all below it


@dataclass(frozen=True)
class Officer:
    username: str
    display_name: str
    role: Role
    unit_id: str | None  # the department's org unit (500103:housing); None for a bureau
    region: str  # the unit's region, or the bureau's
    locale: str = "zh"

    @property
    def region_prefix(self) -> str:
        return region_prefix(self.region)

    def sees(self, case_region: str, case_unit_id: str | None) -> bool:
        """Whether the case is this officer's to look at."""
        if self.role is Role.DEPARTMENT:
            return case_unit_id is not None and case_unit_id == self.unit_id
        return case_region.startswith(self.region_prefix)

    def handles(self, case_unit_id: str | None) -> bool:
        """Whether this officer's unit is the case's handling unit: it acts on the case and
        it alone is shown who the petitioner is."""
        return self.role is Role.DEPARTMENT and case_unit_id == self.unit_id


def region_prefix(code: str) -> str:
    """The prefix that every code of the region and below it starts with: 500000 (a
    municipality) → 50, 500100 → 5001, 500103 → 500103, a town or village → itself."""
    level = Region(code).level
    if level is Level.PROVINCE:
        return code[:2]
    if level is Level.CITY:
        return code[:4]
    return code
