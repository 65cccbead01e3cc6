"""Sending at a fixed rate: message i goes at start + i / rate (late ones go at once, so the
rate holds on average)."""

from __future__ import annotations

import time
from collections.abc import Callable


def pace(count: int, per_second: float, send: Callable[[int], None]) -> float:
    """Call send(0 … count-1) on schedule; the rate achieved."""
    start = time.perf_counter()
    for index in range(count):
        delay = start + index / per_second - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        send(index)
    elapsed = time.perf_counter() - start
    return count / elapsed if elapsed > 0 else float("inf")
