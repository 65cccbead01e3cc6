"""Domain events: every change to a case is one; the event table is audit trail and outbox."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    REGISTERED = "registered"
    ASSIGNED = "assigned"
    REJECTED = "rejected"  # an intake message that is not a valid case
    ACCEPTED = "accepted"
    NOT_ACCEPTED = "not_accepted"
    OBJECTED = "objected"
    REROUTED = "rerouted"
    ASSIGNMENT_CONFIRMED = "assignment_confirmed"
    EXTENDED = "extended"
    HEARING_STARTED = "hearing_started"
    HEARING_ENDED = "hearing_ended"
    REPLIED = "replied"
    EVALUATED = "evaluated"
    REHANDLING = "rehandling"
    REVIEW_REQUESTED = "review_requested"
    REREVIEW_REQUESTED = "rereview_requested"
    CLOSED = "closed"
    FINALIZED = "finalized"
    COMMAND_REJECTED = "command_rejected"
    # The petitioner's query code (查询码) drawn again at the counter, replacing any earlier one
    # (dispatcher/services/petitioner.py issue_code). Never the code: only who issued it.
    QUERY_CODE_ISSUED = "query_code_issued"
    # Repeat and collective petitions (dispatcher.domain.repeats): on the existing case.
    REPEAT_LINKED = "repeat_linked"  # the same petitioner again on the same matter (Art 19)
    REPEAT_REFUSED = "repeat_refused"  # the matter was re-reviewed: not accepted again (Art 36)
    PARTY_ADDED = "party_added"  # another petitioner joined a collective case (Art 20)
    # Escalation ladders (dispatcher.domain.ladders): a step taken, and a ladder stopped.
    ESCALATED = "escalated"
    DEESCALATED = "deescalated"

    @property
    def routing_key(self) -> str:
        return f"case.{self.value}"


@dataclass(frozen=True)
class Event:
    """What happened, when, and the facts others need. Never a petitioner's identity."""

    type: EventType
    at: datetime
    case_id: str | None
    source: str | None
    external_id: str | None
    data: dict[str, Any] = field(default_factory=dict)
