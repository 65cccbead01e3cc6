"""The system clock: the one place that reads the time of day. Everything else is given it."""

from __future__ import annotations

from datetime import UTC, datetime


def system_clock() -> datetime:
    return datetime.now(UTC)
