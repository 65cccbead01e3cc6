"""Folding a case's events into its state (信访工作条例 2022, Arts 22–36): `Recorded` (one
stored event), `Lifecycle` (the state, never stored on its own), `fold`, `advance`, and the
petitioner's `Rating` that the state keeps.

Pure functions of the history; the decisions a command makes on that state are in
`decisions.py`. Nothing here touches I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from dispatcher.domain.events import EventType
from dispatcher.domain.stages import CaseKind, Stage


class Rating(StrEnum):
    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    DISSATISFIED = "dissatisfied"


@dataclass(frozen=True)
class Recorded:
    """One stored event of a case, as the lifecycle needs it."""

    type: EventType
    at: datetime
    data: Mapping[str, Any]


@dataclass(frozen=True)
class TakenStep:
    """An escalation step taken on a clock: its key and the level of government it reached."""

    key: str
    level: str
    at: datetime


@dataclass
class Lifecycle:
    """The state of one case, folded from its events (never stored on its own)."""

    stage: Stage = Stage.REGISTERED
    kind: CaseKind = CaseKind.ORIGINAL
    received_at: datetime | None = None
    first_assigned_at: datetime | None = None
    assigned_at: datetime | None = None
    org_unit: Mapping[str, Any] | None = None
    objected_at: datetime | None = None
    objection_used: bool = False
    decided_at: datetime | None = None  # accepted or not accepted
    handling_started_at: datetime | None = None
    extension_days: int = 0
    extensions: int = 0
    pauses: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    replied_at: datetime | None = None
    rating: Rating | None = None
    next_requested_at: datetime | None = None  # review (or re-review) requested of this case
    linked_case_id: str | None = None  # the review/re-review case opened from this one
    final_case_id: str | None = None
    last_at: datetime | None = None  # the latest event: nothing may be back-dated before it
    # What the escalation ladders need (dispatcher.domain.ladders):
    ladder: str | None = None  # the ladder a rule chose; None: the policy's defaults
    rule_fast_lane: bool = False
    urgent: bool = False
    people: int = 1
    region: str | None = None  # the case's region code, from its registration
    # A source that tracks the case itself (docs/escalation.md): its deadline and closing time.
    source_tracked: bool = False
    source_due_at: datetime | None = None
    source_closed_at: datetime | None = None
    # Steps taken, by (clock, period): from the case.escalated events.
    escalated: dict[tuple[str, str], list[TakenStep]] = field(default_factory=dict)

    @property
    def tracked_by_source(self) -> bool:
        """Another system tracks the case: it gave a due date (perhaps none) or a closing time."""
        return self.source_tracked or self.source_closed_at is not None

    def steps_taken(self, clock: str, period: str) -> list[TakenStep]:
        return self.escalated.get((clock, period), [])

    @property
    def hearing_open(self) -> bool:
        return bool(self.pauses) and self.pauses[-1][1] is None


def fold(history: Sequence[Recorded]) -> Lifecycle:
    state = Lifecycle()
    for event in history:
        advance(state, event)
    return state


def advance(state: Lifecycle, event: Recorded) -> None:
    """Apply one more event to a folded state (what fold does for each event). Only the
    lifecycle's own events move `last_at`: a repeat petition joining the case says nothing
    about when the department acted."""
    apply = _APPLY.get(event.type)
    if apply is not None:
        apply(state, event)
        state.last_at = max(state.last_at or event.at, event.at)
    facts = _FACTS.get(event.type)
    if facts is not None:
        facts(state, event)


def _registered(state: Lifecycle, event: Recorded) -> None:
    state.kind = CaseKind(event.data.get("kind", CaseKind.ORIGINAL))
    received = event.data.get("received_at")
    state.received_at = datetime.fromisoformat(received) if received else event.at


def _assigned(state: Lifecycle, event: Recorded) -> None:
    if event.data.get("outcome") == "triage":
        _triaged(state, event)
        return
    state.stage = Stage.ASSIGNED
    state.first_assigned_at = state.first_assigned_at or event.at
    state.assigned_at = event.at
    state.org_unit = event.data.get("org_unit")
    # A new assignment starts the body's own acceptance and objection periods (Art 23);
    # a confirmed one leaves the body no second objection.
    state.objection_used = event.type is EventType.ASSIGNMENT_CONFIRMED
    state.objected_at = state.decided_at = None


def _triaged(state: Lifecycle, event: Recorded) -> None:
    state.stage = Stage.TRIAGE
    state.org_unit = event.data.get("org_unit")


def _accepted(state: Lifecycle, event: Recorded) -> None:
    state.stage = Stage.ACCEPTED
    state.decided_at = event.at
    state.handling_started_at = event.at


def _not_accepted(state: Lifecycle, event: Recorded) -> None:
    state.stage = Stage.NOT_ACCEPTED
    state.decided_at = event.at


def _objected(state: Lifecycle, event: Recorded) -> None:
    state.stage = Stage.OBJECTED
    state.objected_at = event.at
    state.objection_used = True


def _extended(state: Lifecycle, event: Recorded) -> None:
    state.extension_days += int(event.data["days"])
    state.extensions += 1


def _hearing_started(state: Lifecycle, event: Recorded) -> None:
    state.pauses.append((event.at, None))


def _hearing_ended(state: Lifecycle, event: Recorded) -> None:
    start, _ = state.pauses[-1]
    state.pauses[-1] = (start, event.at)


def _replied(state: Lifecycle, event: Recorded) -> None:
    state.stage = Stage.REPLIED
    state.replied_at = event.at
    state.rating = None


def _evaluated(state: Lifecycle, event: Recorded) -> None:
    state.rating = Rating(event.data["rating"])


def _rehandling(state: Lifecycle, event: Recorded) -> None:
    # Dissatisfied, and the policy sends the case back: handling starts over.
    state.stage = Stage.ACCEPTED
    state.handling_started_at = event.at
    state.replied_at = None
    state.extension_days = state.extensions = 0
    state.pauses = []


def _next_requested(state: Lifecycle, event: Recorded) -> None:
    state.stage = Stage.UNDER_REVIEW
    state.next_requested_at = event.at
    state.linked_case_id = event.data.get("linked_case_id")


def _closed(state: Lifecycle, event: Recorded) -> None:
    state.stage = Stage.CLOSED


def _finalized(state: Lifecycle, event: Recorded) -> None:
    state.stage = Stage.FINAL
    state.final_case_id = event.data.get("final_case_id")


def _registered_facts(state: Lifecycle, event: Recorded) -> None:
    state.urgent = bool(event.data.get("urgent", False))
    state.people = int(event.data.get("people_count", 1) or 1)
    state.region = event.data.get("region")
    state.source_tracked = bool(event.data.get("source_tracked", False))
    for name in ("source_due_at", "source_closed_at"):
        if isinstance(event.data.get(name), str):
            setattr(state, name, datetime.fromisoformat(event.data[name]))


def _assigned_facts(state: Lifecycle, event: Recorded) -> None:
    if event.type is EventType.ASSIGNED:
        state.ladder = event.data.get("ladder")
        state.rule_fast_lane = bool(event.data.get("fast_lane", False))


def _party_added(state: Lifecycle, event: Recorded) -> None:
    people = event.data.get("people_count_now")
    if isinstance(people, int):
        state.people = max(state.people, people)


def _escalated(state: Lifecycle, event: Recorded) -> None:
    clock, step = event.data["clock"], event.data["step"]
    taken = TakenStep(step["key"], event.data["level"], event.at)
    state.escalated.setdefault((clock["name"], clock["period"]), []).append(taken)


# Facts that are not the department's doing: they never move `last_at`.
_FACTS = {
    EventType.REGISTERED: _registered_facts,
    EventType.ASSIGNED: _assigned_facts,
    EventType.PARTY_ADDED: _party_added,
    EventType.ESCALATED: _escalated,
}

_APPLY = {
    EventType.REGISTERED: _registered,
    EventType.ASSIGNED: _assigned,
    EventType.REROUTED: _assigned,
    EventType.ASSIGNMENT_CONFIRMED: _assigned,
    EventType.ACCEPTED: _accepted,
    EventType.NOT_ACCEPTED: _not_accepted,
    EventType.OBJECTED: _objected,
    EventType.EXTENDED: _extended,
    EventType.HEARING_STARTED: _hearing_started,
    EventType.HEARING_ENDED: _hearing_ended,
    EventType.REPLIED: _replied,
    EventType.EVALUATED: _evaluated,
    EventType.REHANDLING: _rehandling,
    EventType.REVIEW_REQUESTED: _next_requested,
    EventType.REREVIEW_REQUESTED: _next_requested,
    EventType.CLOSED: _closed,
    EventType.FINALIZED: _finalized,
}
