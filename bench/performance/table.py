"""One row per measurement, and the one table they are printed in."""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Goal:
    """A bound on a ratio: at least (≥) or at most (≤) a value."""

    symbol: str  # "≥" or "≤"
    value: float

    def met(self, ratio: float) -> bool:
        compare: Callable[[float, float], bool] = operator.ge if self.symbol == "≥" else operator.le
        return compare(ratio, self.value)

    def __str__(self) -> str:
        return f"{self.symbol} {self.value:g}"


def at_least(value: float) -> Goal:
    return Goal("≥", value)


def at_most(value: float) -> Goal:
    return Goal("≤", value)


@dataclass(frozen=True)
class Row:
    name: str
    xinfang: str  # the figure with its unit
    baseline: str
    ratio: float | None  # None: the measurement failed
    goal: Goal

    @property
    def verdict(self) -> str:
        if self.ratio is None:
            return "failed"
        return "met" if self.goal.met(self.ratio) else "missed"


def failed(name: str, goal: Goal) -> Row:
    """A measurement that could not be taken (why is printed above the table)."""
    return Row(name, "-", "-", None, goal)


HEADER = ("measurement", "xinfang", "baseline", "ratio", "goal", "")


def render(rows: Sequence[Row]) -> str:
    cells = [HEADER] + [
        (
            row.name,
            row.xinfang,
            row.baseline,
            "-" if row.ratio is None else f"{row.ratio:.2f}",
            str(row.goal),
            row.verdict,
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADER))]
    lines = []
    for number, line in enumerate(cells):
        left, *rest = line
        right = [f"{cell:>{width}}" for cell, width in zip(rest, widths[1:], strict=True)]
        lines.append("  ".join([f"{left:<{widths[0]}}", *right]).rstrip())
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)
