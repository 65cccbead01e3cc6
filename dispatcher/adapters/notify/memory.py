"""The senders' in-memory twin: it records what it is given, and fails when told to."""

from __future__ import annotations

from datetime import datetime

from dispatcher.domain.notifications import DeliveryFailed, Notification


class MemorySender:
    def __init__(self) -> None:
        self.sent: list[tuple[Notification, datetime]] = []
        self._failures: list[bool] = []

    def fail_next(self, times: int, retryable: bool = True) -> None:
        self._failures += [retryable] * times

    def send(self, notification: Notification, now: datetime) -> None:
        if self._failures:
            raise DeliveryFailed("told to fail", retryable=self._failures.pop(0))
        self.sent.append((notification, now))
