"""Escalation ladders: which steps follow a clock's deadline, and when each falls due. Pure.

A ladder is an ordered list of steps relative to a clock's deadline (DESIGN.md, Escalation):
预警 a warning to the handler before the deadline, 催办 a reminder to the handler and its
head at it, 督办 supervision by the petition bureau of the same region, 挂牌督办 the parent
region's bureau and leadership, repeated upward to the city. Steps name roles, never
people; the org directory resolves them per region when a step is taken.

Times follow the clocks' own day rules (dispatcher.domain.clocks): a deadline is the end of its
last day, so "3 working days before" is the start of the day after the third working day
counted back from the last day (three working days are left), and "2 working days after" is
the start of the day after the second working day past it. A step restricted to working
days or working hours moves forward to the next such moment, on the clocks' calendar.

Files of ladders are read by dispatcher.adapters.files.ladders; see docs/escalation.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from dispatcher.domain.calendar import WorkCalendar
from dispatcher.domain.clocks import SHANGHAI, Unit, end_of_day, local_date

ONE_SECOND = timedelta(seconds=1)
# The clocks that are duties of a body; the windows (objection, review_request, …) are rights
# of a party that lapse, and nobody is escalated for them.
ESCALATED_CLOCKS = ("forwarding", "acceptance", "handling", "review", "rereview", "source_due")
COLLECTIVE_PEOPLE = 5  # 信访工作条例 Art 18: five or more people on one matter send representatives


class StepKind(StrEnum):
    WARNING = "warning"  # 预警
    REMINDER = "reminder"  # 催办
    SUPERVISION = "supervision"  # 督办
    LISTED = "listed"  # 挂牌督办

    @property
    def chinese(self) -> str:
        return _TITLES[self]


_TITLES = {
    StepKind.WARNING: "预警",
    StepKind.REMINDER: "催办",
    StepKind.SUPERVISION: "督办",
    StepKind.LISTED: "挂牌督办",
}


class Where(StrEnum):
    """The region in which a step's roles are resolved."""

    HANDLER = "handler"  # the handling unit's own region
    PARENT = "parent"  # one level up (a repeat climbs one more level each round)
    CITY = "city"  # the top of the directory


class Hours(StrEnum):
    ANY = "any"
    WORKING_DAYS = "working_days"
    WORKING_HOURS = "working_hours"


class Anchor(StrEnum):
    BEFORE = "before"  # days before the deadline
    AFTER = "after"  # days after the deadline (0: the moment it is missed)
    FRACTION = "fraction"  # a fraction of the period from the clock's start


@dataclass(frozen=True)
class Offset:
    anchor: Anchor
    days: int = 0
    unit: Unit = Unit.CALENDAR_DAYS
    fraction: float = 0.0


@dataclass(frozen=True)
class Step:
    id: str
    kind: StepKind
    offset: Offset
    roles: tuple[str, ...]
    where: Where = Where.HANDLER
    hours: Hours = Hours.ANY


@dataclass(frozen=True)
class Repeat:
    """After the last step, take the steps from `from_step` on again, at most `times` times,
    each round `every` days later; a round of a parent-region step climbs one level more,
    and the rounds end at the top of the directory."""

    from_step: str
    times: int
    every: int
    unit: Unit = Unit.WORKING_DAYS


@dataclass(frozen=True)
class FastLane:
    """A major or urgent case (a rule's fast lane, the petition's urgent flag, or `people` or
    more petitioners) starts at step `start`, on the times of the ladder's first steps."""

    start: str
    people: int = COLLECTIVE_PEOPLE


@dataclass(frozen=True)
class Ladder:
    id: str
    title: str
    steps: tuple[Step, ...]
    repeat: Repeat | None = None
    fast_lane: FastLane | None = None

    def index(self, step_id: str) -> int:
        return next(i for i, step in enumerate(self.steps) if step.id == step_id)


@dataclass(frozen=True)
class Ladders:
    """The ladders of one policy, and which one each clock takes unless a rule chose another."""

    policy: str
    ladders: Mapping[str, Ladder]
    defaults: Mapping[str, str]  # clock name -> ladder id
    working_hours: tuple[time, time] = (time(9), time(17, 30))
    source: str = ""
    digest: str = ""  # of the file: a change re-plans the open ladders

    def for_clock(self, clock: str, chosen: str | None = None) -> Ladder | None:
        """The ladder of a clock: the rule's choice for the handling-type clocks, else the
        policy's default; None for a clock that is not escalated."""
        if clock not in ESCALATED_CLOCKS:
            return None
        if chosen is not None and chosen in self.ladders and clock != "forwarding":
            return self.ladders[chosen]
        default = self.defaults.get(clock)
        return self.ladders[default] if default else None


@dataclass(frozen=True)
class PlannedStep:
    key: str  # the step id; "<id>.<n>" for the n-th time it is taken (a repeat)
    step: Step
    round: int  # 0 the first time, n for the n-th repeat
    at: datetime
    up: int  # levels above the handler's region where its roles are resolved


@dataclass(frozen=True)
class Plan:
    """A clock's ladder against what was done: the steps due, skipped and next."""

    steps: tuple[PlannedStep, ...]
    done: frozenset[str] = field(default_factory=frozenset)

    def _last_done(self) -> int:
        return max((i for i, s in enumerate(self.steps) if s.key in self.done), default=-1)

    def due(self, now: datetime) -> list[PlannedStep]:
        """Steps to take now, in order. A step passed over by one already taken (a warning
        added to the ladder after supervision happened) is skipped, not sent late."""
        start = self._last_done() + 1
        return [s for s in self.steps[start:] if s.at <= now]

    def next(self) -> PlannedStep | None:
        start = self._last_done() + 1
        return self.steps[start] if start < len(self.steps) else None

    def skipped(self) -> list[PlannedStep]:
        last = self._last_done()
        return [s for s in self.steps[: max(last, 0)] if s.key not in self.done]

    def states(self) -> list[tuple[PlannedStep, str]]:
        """Each step with what became of it: taken, skipped, next or planned."""
        skipped, following = {s.key for s in self.skipped()}, self.next()

        def state(step: PlannedStep) -> str:
            if step.key in self.done:
                return "taken"
            if step.key in skipped:
                return "skipped"
            return "next" if following is not None and step.key == following.key else "planned"

        return [(step, state(step)) for step in self.steps]


def plan(
    ladder: Ladder,
    started_at: datetime,
    due_at: datetime,
    calendar: WorkCalendar,
    *,
    fast_lane: bool = False,
    height: int = 0,
    working_hours: tuple[time, time] = (time(9), time(17, 30)),
) -> tuple[PlannedStep, ...]:
    """Every step of the ladder for one period of a clock, in time order. `height` is how many
    regions lie above the handler's (a district's unit: 1, the city); a step above the top
    is not planned."""
    rungs = _rungs(ladder, fast_lane)
    planned: list[PlannedStep] = []
    for slot, step in rungs:
        moment = _moment(slot.offset, started_at, due_at, calendar)
        planned.append(_planned(step, step.id, 0, moment, calendar, working_hours, height))
    if ladder.repeat is not None:
        planned += _repeats(ladder.repeat, rungs, planned, calendar, working_hours, height)
    kept = [p for p in planned if p.up <= height]
    return tuple(sorted(kept, key=lambda p: p.at))


def _rungs(ladder: Ladder, fast_lane: bool) -> list[tuple[Step, Step]]:
    """(time slot, step) pairs: on the fast lane the steps from the start step on take the
    times of the ladder's first steps, so that the case starts higher up at once."""
    steps = list(ladder.steps)
    if not fast_lane or ladder.fast_lane is None:
        return list(zip(steps, steps, strict=True))
    start = ladder.index(ladder.fast_lane.start)
    return list(zip(steps, steps[start:], strict=False))


def _planned(
    step: Step,
    key: str,
    round_: int,
    moment: datetime,
    calendar: WorkCalendar,
    working_hours: tuple[time, time],
    height: int,
) -> PlannedStep:
    at = restrict(moment, step.hours, calendar, working_hours)
    return PlannedStep(key, step, round_, at, _up(step.where, round_, height))


def _up(where: Where, round_: int, height: int) -> int:
    if where is Where.CITY:
        return height
    if where is Where.PARENT:
        return 1 + round_
    return 0


def _repeats(
    repeat: Repeat,
    rungs: list[tuple[Step, Step]],
    first: list[PlannedStep],
    calendar: WorkCalendar,
    working_hours: tuple[time, time],
    height: int,
) -> list[PlannedStep]:
    ids = [step.id for _, step in rungs]
    start = ids.index(repeat.from_step) if repeat.from_step in ids else 0
    rounds: list[PlannedStep] = []
    for n in range(1, repeat.times + 1):
        for base in first[start:]:
            day = local_date(base.at - ONE_SECOND)
            moment = _start_after(_shift(day, n * repeat.every, repeat.unit, calendar))
            key = f"{base.step.id}.{n + 1}"
            rounds.append(_planned(base.step, key, n, moment, calendar, working_hours, height))
    return rounds


def _moment(offset: Offset, started_at: datetime, due_at: datetime, cal: WorkCalendar) -> datetime:
    if offset.anchor is Anchor.FRACTION:
        moment = started_at + (due_at - started_at) * offset.fraction
        return moment.replace(microsecond=0)
    last = local_date(due_at)
    days = -offset.days if offset.anchor is Anchor.BEFORE else offset.days
    return _start_after(_shift(last, days, offset.unit, cal))


def _start_after(day: date) -> datetime:
    """The first instant after a local day: the end of the day, plus the second it lacks."""
    return end_of_day(day) + ONE_SECOND


def _shift(day: date, days: int, unit: Unit, calendar: WorkCalendar) -> date:
    if unit is Unit.CALENDAR_DAYS:
        return day + timedelta(days=days)
    if days >= 0:
        return calendar.add_working_days(day, days)
    for _ in range(-days):
        day -= timedelta(days=1)
        while not calendar.is_working_day(day):
            day -= timedelta(days=1)
    return day


def restrict(
    moment: datetime, hours: Hours, calendar: WorkCalendar, working_hours: tuple[time, time]
) -> datetime:
    """The moment itself if it is allowed, else the next allowed one."""
    if hours is Hours.ANY:
        return moment
    local = moment.astimezone(SHANGHAI)
    day = local.date()
    if hours is Hours.WORKING_DAYS:
        if calendar.is_working_day(day):
            return moment
        return datetime.combine(calendar.working_day_on_or_after(day), time(0), tzinfo=SHANGHAI)
    opens, closes = working_hours
    if calendar.is_working_day(day) and local.time() < closes:
        return moment if local.time() >= opens else datetime.combine(day, opens, SHANGHAI)
    return datetime.combine(calendar.next_working_day(day), opens, tzinfo=SHANGHAI)


def is_fast_lane(rule_fast_lane: bool, urgent: bool, people: int, ladder: Ladder) -> bool:
    if ladder.fast_lane is None:
        return False
    return rule_fast_lane or urgent or people >= ladder.fast_lane.people


CLOCK_TITLES = {
    "forwarding": "登记转送交办期限",
    "acceptance": "受理告知期限",
    "handling": "办理期限",
    "review": "复查期限",
    "rereview": "复核期限",
    "source_due": "来源系统办理期限",
}
