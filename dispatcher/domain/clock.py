"""Time as an argument: a Clock is any callable giving the current instant. Production injects
the system clock (`dispatcher.bootstrap.clock`); tests and the demo inject a FixedClock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

Clock = Callable[[], datetime]


class FixedClock:
    """A clock that moves only when told to."""

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def parse_timestamp(text: str) -> datetime:
    """An RFC 3339 timestamp (which allows lower-case t and z) as a datetime."""
    return datetime.fromisoformat(text.upper())
