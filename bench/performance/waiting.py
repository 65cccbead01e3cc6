"""Waiting for work to be done: until a count is reached, or until it stops moving."""

from __future__ import annotations

import time
from collections.abc import Callable

STALL_S = 120.0  # no progress for this long: report what arrived
POLL_S = 0.05


def until(
    count: Callable[[], int],
    target: int,
    check: Callable[[], None] = lambda: None,
    stall: float = STALL_S,
) -> int:
    """Poll `count` until it reaches `target` or makes no progress for `stall` seconds; `check`
    raises if what does the work has died. Returns the last count."""
    last, moved = count(), time.monotonic()
    while last < target:
        check()
        time.sleep(POLL_S)
        now = count()
        if now != last:
            last, moved = now, time.monotonic()
        elif time.monotonic() - moved > stall:
            break
    return last
