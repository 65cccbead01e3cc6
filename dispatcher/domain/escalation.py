"""Where each clock of a case stands on its ladder, and the events of taking a step and of a
ladder that stops. Pure: the case's folded history, its policy's ladders and the calendar
in, plans and events out; the directory's answers come in as plain values.

A step belongs to one *period* of its clock (ClockView.period): an extension, a hearing or a
fresh start opens a new period, whose ladder runs against the new deadline. A ladder stops,
with a `case.deescalated` event, when its clock is met (accepted, replied), paused by a
hearing, extended or restarted, or when the case is closed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dispatcher.domain.calendar import WorkCalendar
from dispatcher.domain.clocks import days_late
from dispatcher.domain.events import Event, EventType
from dispatcher.domain.ladders import (
    CLOCK_TITLES,
    Ladder,
    Ladders,
    Plan,
    PlannedStep,
    is_fast_lane,
    plan,
)
from dispatcher.domain.state import Lifecycle
from dispatcher.domain.timeline import ClockView


@dataclass(frozen=True)
class ClockLadder:
    """One clock and its ladder; `plan` is None when nothing escalates (no ladder for the
    clock, clock met or paused, case closed)."""

    view: ClockView
    ladder: Ladder | None
    plan: Plan | None
    fast_lane: bool = False


@dataclass(frozen=True)
class Position:
    """What the `clocks` index keeps of a ladder."""

    ladder: str | None = None
    next_step: str | None = None
    next_step_at: datetime | None = None
    escalated_step: str | None = None
    escalated_level: str | None = None
    escalated_at: datetime | None = None


@dataclass(frozen=True)
class Indexed:
    """A clock's row as the index held it before this change."""

    name: str
    period: str | None
    escalated_step: str | None
    escalated_level: str | None


def ladder_of(
    view: ClockView,
    state: Lifecycle,
    ladders: Ladders | None,
    calendar: WorkCalendar,
    *,
    height: int,
    closed: bool,
) -> ClockLadder:
    ladder = ladders.for_clock(view.name, state.ladder) if ladders else None
    if ladder is None or ladders is None:
        return ClockLadder(view, None, None)
    fast = is_fast_lane(state.rule_fast_lane, state.urgent, state.people, ladder)
    if closed or view.due_at is None or view.status not in {"running", "overdue"}:
        return ClockLadder(view, ladder, None, fast)
    steps = plan(
        ladder,
        view.started_at,
        view.due_at,
        calendar,
        fast_lane=fast,
        height=height,
        working_hours=ladders.working_hours,
    )
    done = frozenset(t.key for t in state.steps_taken(view.name, view.period))
    return ClockLadder(view, ladder, Plan(steps, done), fast)


def position(clock: ClockLadder, state: Lifecycle) -> Position:
    if clock.plan is None:
        return Position(ladder=clock.ladder.id if clock.ladder else None)
    taken = state.steps_taken(clock.view.name, clock.view.period)
    last = taken[-1] if taken else None
    following = clock.plan.next()
    return Position(
        ladder=clock.ladder.id if clock.ladder else None,
        next_step=following.key if following else None,
        next_step_at=following.at if following else None,
        escalated_step=last.key if last else None,
        escalated_level=last.level if last else None,
        escalated_at=last.at if last else None,
    )


def stop_reason(before: Indexed, now: ClockView | None, closed: bool) -> str | None:
    """Why a ladder that had taken steps stops with this change, or None if it goes on."""
    if before.escalated_step is None:
        return None
    if closed:
        return "closed"
    if now is None:
        return "restarted"
    if now.due_at is None and now.is_open:
        return "paused"  # a hearing (Art 36: its time is not counted)
    if not now.is_open:
        return "met"
    if now.period != before.period:
        same_start = (before.period or "").split("+")[0] == now.period.split("+")[0]
        return "extended" if same_start and now.extension_days else "restarted"
    return None


def deescalated(
    case: tuple[str, str | None, str | None],
    before: Indexed,
    reason: str,
    view: ClockView | None,
    at: datetime,
) -> Event:
    data: dict[str, Any] = {
        "clock": {"name": before.name, "period": before.period},
        "reason": reason,
        "last_step": before.escalated_step,
        "level": before.escalated_level,
    }
    if view is not None and view.due_at is not None and reason in {"extended", "restarted"}:
        data["new_due_at"] = view.due_at.isoformat()
    case_id, source, external_id = case
    return Event(EventType.DEESCALATED, at, case_id, source, external_id, data)


@dataclass(frozen=True)
class Target:
    """Where a step lands, as the directory resolved it."""

    region: Mapping[str, str]  # code, name
    level: str
    unit: Mapping[str, str]  # the handling unit: id, name
    roles: Sequence[str]
    recipients: Sequence[Mapping[str, str]]  # role, name (job titles, never a petitioner)


def escalated(
    case: tuple[str, str | None, str | None],
    clock: ClockLadder,
    step: PlannedStep,
    target: Target,
    at: datetime,
) -> Event:
    """The event of one step taken: what a subscriber, a dashboard and a notification need."""
    view = clock.view
    assert view.due_at is not None and clock.ladder is not None
    case_id, source, external_id = case
    return Event(
        EventType.ESCALATED,
        at,
        case_id,
        source,
        external_id,
        {
            "step": {
                "key": step.key,
                "id": step.step.id,
                "kind": step.step.kind.value,
                "title": step.step.kind.chinese,
                "round": step.round,
                "at": step.at.isoformat(),
            },
            "ladder": clock.ladder.id,
            "fast_lane": clock.fast_lane,
            "level": target.level,
            "region": dict(target.region),
            "unit": dict(target.unit),
            "roles": list(target.roles),
            "recipients": [dict(r) for r in target.recipients],
            "clock": {
                "name": view.name,
                "title": CLOCK_TITLES.get(view.name, view.name),
                "period": view.period,
                "article": view.article,
                "basis": view.basis,
                "started_at": view.started_at.isoformat(),
                "due_at": view.due_at.isoformat(),
            },
            "days_overdue": days_late(view.due_at, at),
        },
    )
