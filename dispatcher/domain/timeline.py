"""Every clock of a case, recomputed from its folded events, the policy and the calendar.

Nothing is remembered between calls: a restart, a rule change or a calendar update gives the
same answer from the same history (DESIGN.md, "Statutory clocks").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from dispatcher.domain.calendar import WorkCalendar
from dispatcher.domain.clocks import ClockSpec, Pause, due
from dispatcher.domain.policy import Policy
from dispatcher.domain.stages import TERMINAL, CaseKind
from dispatcher.domain.state import Lifecycle

# Windows are rights of a party (to object, to ask for review), not duties: they are "used"
# or "lapse" rather than being met or overdue.
WINDOWS = frozenset({"objection", "review_request", "rereview_request"})
_HANDLING_CLOCK = {
    CaseKind.ORIGINAL: "handling",
    CaseKind.REVIEW: "review",
    CaseKind.REREVIEW: "rereview",
}
_NEXT_WINDOW = {CaseKind.ORIGINAL: "review_request", CaseKind.REVIEW: "rereview_request"}


@dataclass(frozen=True)
class ClockView:
    name: str
    started_at: datetime
    due_at: datetime | None  # None while a hearing pauses it
    met_at: datetime | None
    status: str  # running, paused, met, met_late, overdue | open, used, lapsed, closed
    article: str
    basis: str
    extension_days: int = 0
    # The stretch of the clock that escalation steps belong to: a new one when the clock
    # starts again (a new assignment, handling anew), is extended or resumes after a hearing.
    period: str = ""

    @property
    def is_open(self) -> bool:
        return self.status in {"running", "paused", "overdue", "open"}


def clocks_of(
    state: Lifecycle, policy: Policy, calendar: WorkCalendar, now: datetime
) -> list[ClockView]:
    """The clocks the policy defines for this case's history so far (a policy without, say,
    a review stage simply has no such clock)."""
    if state.tracked_by_source and state.kind is CaseKind.ORIGINAL:
        # The source's own deadline replaces the policy's periods; none: it set no deadline.
        return [_source_clock(state, now)] if state.source_due_at else []
    views: list[ClockView] = []
    spec = policy.clocks
    original = state.kind is CaseKind.ORIGINAL
    if original and state.received_at and "forwarding" in spec:
        views.append(
            _duty(spec["forwarding"], state.received_at, state.first_assigned_at, calendar, now)
        )
    if original and state.assigned_at and "acceptance" in spec:
        decided = _since(state.decided_at, state.assigned_at)
        views.append(_duty(spec["acceptance"], state.assigned_at, decided, calendar, now))
    if original and state.assigned_at and "objection" in spec:
        views.append(_objection(state, spec["objection"], calendar, now))
    handling = _HANDLING_CLOCK[state.kind]
    if state.handling_started_at and handling in spec:
        views.append(_handling(state, spec[handling], calendar, now))
    window = _NEXT_WINDOW.get(state.kind)
    if window and window in spec and state.replied_at:
        views.append(
            _window(
                spec[window],
                state.replied_at,
                state.next_requested_at,
                state.stage in TERMINAL,
                calendar,
                now,
            )
        )
    return views


SOURCE_CLOCK = "source_due"


def _source_clock(state: Lifecycle, now: datetime) -> ClockView:
    """A source that tracks the case itself gave its own deadline (a 311 SLA, a hotline's
    time limit on the work order): the case is held to that one clock, from receipt, met when
    the source closed it or the department replied here."""
    assert state.source_due_at is not None and state.received_at is not None
    ends = [t for t in (state.source_closed_at, state.replied_at) if t is not None and t <= now]
    met = min(ends) if ends else None
    due_at = state.source_due_at
    if met is not None:
        status = "met_late" if met > due_at else "met"
    else:
        status = "overdue" if now > due_at else "running"
    period = f"{state.received_at.astimezone(UTC):%Y%m%dT%H%M%SZ}+source"
    basis = "the source's own due date for this case"
    return ClockView(
        SOURCE_CLOCK, state.received_at, due_at, met, status, "source", basis, 0, period
    )


def _since(moment: datetime | None, start: datetime) -> datetime | None:
    return moment if moment is not None and moment >= start else None


def _duty(
    spec: ClockSpec,
    start: datetime,
    met_at: datetime | None,
    calendar: WorkCalendar,
    now: datetime,
    extension_days: int = 0,
    pauses: tuple[Pause, ...] = (),
) -> ClockView:
    due_at = due(start, spec, calendar, extension_days=extension_days, pauses=pauses)
    if met_at is not None:
        status = "met_late" if due_at is not None and met_at > due_at else "met"
    elif due_at is None:
        status = "paused"
    else:
        status = "overdue" if now > due_at else "running"
    period = f"{start.astimezone(UTC):%Y%m%dT%H%M%SZ}+{extension_days}d/{len(pauses)}"
    return ClockView(
        spec.name, start, due_at, met_at, status, spec.article, spec.basis, extension_days, period
    )


def _handling(
    state: Lifecycle, spec: ClockSpec, calendar: WorkCalendar, now: datetime
) -> ClockView:
    assert state.handling_started_at is not None
    # Only a pausable clock stops for a hearing (Art 36: hearing time is not counted).
    pauses = tuple(Pause(start, end) for start, end in state.pauses) if spec.pausable else ()
    met = _since(state.replied_at, state.handling_started_at)
    return _duty(spec, state.handling_started_at, met, calendar, now, state.extension_days, pauses)


def _objection(
    state: Lifecycle, spec: ClockSpec, calendar: WorkCalendar, now: datetime
) -> ClockView:
    assert state.assigned_at is not None
    used = _since(state.objected_at, state.assigned_at)
    closed = state.decided_at is not None or (state.objection_used and used is None)
    return _window(spec, state.assigned_at, used, closed, calendar, now)


def _window(
    spec: ClockSpec,
    start: datetime,
    used_at: datetime | None,
    closed: bool,
    calendar: WorkCalendar,
    now: datetime,
) -> ClockView:
    due_at = due(start, spec, calendar)
    if used_at is not None:
        status = "used"
    elif closed:
        status = "closed"
    else:
        status = "lapsed" if due_at is not None and now > due_at else "open"
    return ClockView(spec.name, start, due_at, used_at, status, spec.article, spec.basis)


def deadlines(views: list[ClockView]) -> dict[str, datetime | None]:
    return {view.name: view.due_at for view in views}
