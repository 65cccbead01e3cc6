"""What the services need from outside, as protocols: the adapters and `monitoring` provide them.

Storage is reached through `dispatcher.adapters.db.store` on a SQLAlchemy connection the
service opens itself (its unit of work); metrics only through this port, so that no service or
adapter depends on how they are exposed.
"""

from __future__ import annotations

from typing import Protocol


class Metrics(Protocol):
    """The pipeline's counters. Every argument is a bounded enumeration, never an id."""

    def case_received(self, channel: str) -> None: ...

    def case_duplicate(self, channel: str) -> None: ...

    def case_linked(self, kind: str) -> None: ...

    def case_rejected(self, reason: str) -> None: ...

    def case_routed(self, outcome: str, org_kind: str) -> None: ...

    def case_dispatched(self, channel: str, seconds: float) -> None: ...

    def event_published(self, event_type: str) -> None: ...

    def consumer_retry(self, consumer: str, kind: str) -> None: ...
