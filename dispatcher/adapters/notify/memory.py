"""The senders' in-memory twin: it records what it is given, and fails when told to.

It stands in for both the webhook and the e-mail sender (same `send(notification, now)`),
in tests and in the demo. Like a real receiver, it sees a failed attempt too: `attempts`
holds every call, `sent` only those that succeeded.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime

from dispatcher.domain.notifications import DeliveryFailed, Notification


class MemorySender:
    def __init__(self) -> None:
        self.sent: list[tuple[Notification, datetime]] = []
        self.attempts: list[tuple[Notification, datetime]] = []
        self._failures: deque[bool] = deque()

    def fail_next(self, n: int, retryable: bool = True) -> None:
        """The next `n` sends raise DeliveryFailed (after those already queued)."""
        if n < 0:
            raise ValueError(f"fail_next takes a count >= 0, not {n}")
        self._failures.extend([retryable] * n)

    def send(self, notification: Notification, now: datetime) -> None:
        self.attempts.append((notification, now))
        if self._failures:
            retryable = self._failures.popleft()
            kind = "retryable" if retryable else "permanent"
            raise DeliveryFailed(f"told to fail ({kind})", retryable=retryable)
        self.sent.append((notification, now))
