"""Administrative division codes: levels and candidate ancestors by prefix.

12 digits (village) -> first 9 (town) -> first 6 (district/county) -> code[:4]+"00" (prefecture)
-> code[:2]+"0000" (province or municipality). Which candidates exist is for a directory to say:
Chongqing has no body at 500100 (市辖区), so a district's parent is 500000.
"""

from __future__ import annotations

from typing import Literal

Level = Literal["village", "town", "district", "city"]

# Ordered from the bottom up; the position is the rank used for "at or above a level".
LEVELS: tuple[Level, ...] = ("village", "town", "district", "city")
LEVEL_RANK: dict[str, int] = {level: rank for rank, level in enumerate(LEVELS)}
CODE_LENGTH: dict[str, int] = {"village": 12, "town": 9, "district": 6, "city": 6}


def is_code(value: object) -> bool:
    """True for a string of 6, 9 or 12 ASCII digits."""
    return (
        isinstance(value, str) and len(value) in (6, 9, 12) and value.isascii() and value.isdigit()
    )


def candidate_ancestors(code: str) -> tuple[str, ...]:
    """Possible parents of `code`, nearest first, without the code itself; () if not a code."""
    if not is_code(code):
        return ()
    chain: list[str] = []
    if len(code) == 12:
        chain.append(code[:9])
    if len(code) >= 9:
        chain.append(code[:6])
    chain += [code[:4] + "00", code[:2] + "0000"]
    ordered: list[str] = []
    for candidate in chain:
        if candidate != code and candidate not in ordered:
            ordered.append(candidate)
    return tuple(ordered)
