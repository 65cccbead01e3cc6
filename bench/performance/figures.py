"""The arithmetic of the figures: a rate over completion times, a percentile, a unit."""

from __future__ import annotations

import math
from collections.abc import Sequence


def rate(times: Sequence[float]) -> float:
    """Completions per second over a run: (count − 1) / (last − first), so that the time the
    first completion took (start-up) is not counted. 0 with fewer than two."""
    if len(times) < 2:
        return 0.0
    span = max(times) - min(times)
    return (len(times) - 1) / span if span > 0 else math.inf


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (share 0.99: the value 99 % of the values are at most)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def seconds(value: float) -> str:
    """A duration in the unit that reads best."""
    if value >= 10:
        return f"{value:.1f} s"
    if value >= 1:
        return f"{value:.2f} s"
    return f"{value * 1000:.1f} ms"


def per_second(value: float, unit: str) -> str:
    return f"{value:,.0f} {unit}/s" if value >= 100 else f"{value:.1f} {unit}/s"
