"""Administrative division codes (GB/T 2260 and the statistical codes below it).

A code of 6 digits names a county-level division (district, county); 9 digits a town or street;
12 digits a village or community. Prefixes give the hierarchy: village -> town -> county ->
prefecture city -> province (or a municipality such as Chongqing, 500000).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from dispatcher.domain.errors import XinfangError

_CODE = re.compile(r"[0-9]{6}|[0-9]{9}|[0-9]{12}")


class Level(StrEnum):
    VILLAGE = "village"
    TOWN = "town"
    DISTRICT = "district"  # county level: 区, 县, 县级市
    CITY = "city"  # prefecture level, or the municipality itself
    PROVINCE = "province"


class InvalidRegion(XinfangError, ValueError):
    pass


@dataclass(frozen=True, order=True)
class Region:
    code: str

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not _CODE.fullmatch(self.code):
            raise InvalidRegion(f"region {self.code!r} is not a code of 6, 9 or 12 digits")

    @property
    def level(self) -> Level:
        if len(self.code) == 12:
            return Level.VILLAGE
        if len(self.code) == 9:
            return Level.TOWN
        if self.code.endswith("0000"):
            return Level.PROVINCE
        if self.code.endswith("00"):
            return Level.CITY
        return Level.DISTRICT

    def ancestors(self) -> list[Region]:
        """Candidate parents, nearest first. A directory decides which of them exist:
        a municipality's districts (5001xx) have 500100 (市辖区, no body) and 500000 above them."""
        code = self.code
        chain: list[str] = []
        if len(code) == 12:
            chain.append(code[:9])
        if len(code) >= 9:
            chain.append(code[:6])
        six = code[:6]
        chain += [six[:4] + "00", six[:2] + "0000"]
        own = {code}
        ordered: list[Region] = []
        for candidate in chain:
            if candidate not in own:
                own.add(candidate)
                ordered.append(Region(candidate))
        return ordered

    def lineage(self) -> list[Region]:
        """This region followed by its ancestors, nearest first."""
        return [self, *self.ancestors()]

    def __str__(self) -> str:
        return self.code
