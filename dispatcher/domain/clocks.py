"""Statutory clocks: when a period that began at some instant runs out. Pure: time is an argument.

The general rule for legal periods (民法典 Art 201: the starting day is not counted; Art 203: a
period whose last day is a holiday ends on the day after it, at 24:00), applied to the periods of
信访工作条例 2022 Arts 22-36:

- the local day (Asia/Shanghai) of the starting event is not counted;
- a period of N calendar days ends at the end of the N-th day after it;
- if that last day is a rest day or a public holiday, the period ends at the end of the next
  working day (a make-up working day, 调休, is a working day);
- a period of N working days counts working days only (make-up days included) after the
  starting day and ends at the end of the N-th one.

"The end of a day" is represented as 23:59:59 Asia/Shanghai (whole seconds, so deadlines print
as clean RFC 3339); ``now > due`` is overdue. An extension adds days in the clock's unit
(Art 34). A finished pause adds the days of the clock's unit in (pause start date, pause end
date]; an open pause suspends the clock, whose due time is then unknown (Art 36: hearing time
is not counted). See docs/clocks.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from dispatcher.domain.calendar import WorkCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
END_OF_DAY = time(23, 59, 59)

CLOCK_NAMES = (
    "forwarding",  # Art 22: register and forward/assign within 15 days
    "acceptance",  # Art 23: written acceptance notice within 15 days
    "objection",  # Art 23: objection to mis-routing within 5 working days
    "handling",  # Art 34: handle within 60 days, extensible by <= 30
    "review_request",  # Art 35: ask for review within 30 days of the written reply
    "review",  # Art 35: review opinion within 30 days of the request
    "rereview_request",  # Art 36: ask for re-review within 30 days of the review reply
    "rereview",  # Art 36: re-review opinion within 30 days, hearing time not counted
)


def shanghai_text(moment: datetime) -> str:
    """A time as people are told it: RFC 3339 in Asia/Shanghai, whatever zone it is kept in,
    so that one message never mixes zones."""
    return moment.astimezone(SHANGHAI).isoformat()


class Unit(StrEnum):
    CALENDAR_DAYS = "calendar_days"
    WORKING_DAYS = "working_days"


class ClockState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class ClockSpec:
    """One statutory period: its length, unit and legal basis."""

    name: str
    days: int
    unit: Unit
    article: str  # e.g. "Art 34"
    basis: str  # short text of the legal basis
    pausable: bool = False  # Art 36: hearing time is not counted

    def __post_init__(self) -> None:
        if self.days < 1:
            raise ValueError(f"clock {self.name!r}: days must be at least 1, got {self.days}")
        object.__setattr__(self, "unit", Unit(self.unit))


@dataclass(frozen=True)
class Pause:
    """A stretch of time not counted (a hearing); ``end`` None means still paused."""

    start: datetime
    end: datetime | None = None

    def __post_init__(self) -> None:
        _require_aware(self.start, "pause start")
        if self.end is not None:
            _require_aware(self.end, "pause end")
            if self.end < self.start:
                raise ValueError(
                    f"pause ends ({self.end.isoformat()}) before it starts "
                    f"({self.start.isoformat()})"
                )


@dataclass(frozen=True)
class ClockStatus:
    """A clock at an instant. ``remaining`` is due minus now (or minus met_at): negative when
    late; None while paused. ``days_overdue`` counts local days past the due day (0 if not
    late; at least 1 once late)."""

    state: ClockState
    due: datetime | None
    remaining: timedelta | None
    days_overdue: int

    @property
    def late(self) -> bool:
        return self.days_overdue > 0


def _require_aware(moment: datetime, what: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {moment.isoformat()}")


def local_date(moment: datetime) -> date:
    """The Asia/Shanghai calendar day of an instant."""
    _require_aware(moment, "time")
    return moment.astimezone(SHANGHAI).date()


def end_of_day(day: date) -> datetime:
    """The instant that represents the end of a local day: 23:59:59 Asia/Shanghai."""
    return datetime.combine(day, END_OF_DAY, tzinfo=SHANGHAI)


def last_day(start_day: date, days: int, unit: Unit, calendar: WorkCalendar) -> date:
    """The last day of a period of ``days`` starting after ``start_day``, rolled forward to a
    working day when it falls on a rest day or holiday."""
    if unit is Unit.WORKING_DAYS:
        end = calendar.add_working_days(start_day, days)
    else:
        end = start_day + timedelta(days=days)
    return calendar.working_day_on_or_after(end)


def _merged(spans: Sequence[tuple[date, date]]) -> list[tuple[date, date]]:
    """Merge overlapping (start, end] day spans, so that a day is never counted twice."""
    merged: list[tuple[date, date]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def paused_days(pauses: Sequence[Pause], unit: Unit, calendar: WorkCalendar) -> int:
    """Days of the clock's unit in the union of (pause start date, pause end date]."""
    spans = [(local_date(p.start), local_date(p.end)) for p in pauses if p.end is not None]
    if unit is Unit.WORKING_DAYS:
        return sum(calendar.working_days_between(a, b) for a, b in _merged(spans))
    return sum((b - a).days for a, b in _merged(spans))


def due(
    start: datetime,
    spec: ClockSpec,
    calendar: WorkCalendar,
    *,
    extension_days: int = 0,
    pauses: Sequence[Pause] = (),
) -> datetime | None:
    """When the clock runs out (23:59:59 Asia/Shanghai of its last day); None while paused."""
    if extension_days < 0:
        raise ValueError(
            f"clock {spec.name!r}: extension_days must not be negative, got {extension_days}"
        )
    start_day = local_date(start)
    if any(p.end is None for p in pauses):
        return None
    days = spec.days + extension_days + paused_days(pauses, spec.unit, calendar)
    return end_of_day(last_day(start_day, days, spec.unit, calendar))


def days_late(deadline: datetime, moment: datetime) -> int:
    """Local days from the deadline's day to the moment's; 0 until it is missed, then at least 1."""
    if moment <= deadline:
        return 0
    return max(1, (local_date(moment) - local_date(deadline)).days)


def status(
    start: datetime,
    spec: ClockSpec,
    calendar: WorkCalendar,
    now: datetime,
    *,
    met_at: datetime | None = None,
    extension_days: int = 0,
    pauses: Sequence[Pause] = (),
) -> ClockStatus:
    """The clock at ``now``: met (``met_at`` given), paused, overdue (now > due) or running."""
    _require_aware(now, "now")
    if met_at is not None:
        _require_aware(met_at, "met_at")
    deadline = due(start, spec, calendar, extension_days=extension_days, pauses=pauses)
    reference = now if met_at is None else met_at
    if deadline is None:
        state = ClockState.PAUSED if met_at is None else ClockState.MET
        return ClockStatus(state, None, None, 0)
    late = days_late(deadline, reference)
    if met_at is not None:
        state = ClockState.MET
    else:
        state = ClockState.OVERDUE if now > deadline else ClockState.RUNNING
    return ClockStatus(state, deadline, deadline - reference, late)
