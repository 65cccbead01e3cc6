"""The KPIs of the "five-in-one" platform, computed from the database with aggregate queries:
for every case or for the cases received in a window, in one row or per district, kind of
department or channel. docs/kpis.md defines each exactly, with its target:

- timely acceptance rate (及时受理率): cases forwarded by the petition bureau (Art 22) and
  accepted by the department (Art 23) within their periods, of the cases accepted or late in
  either — a case still unforwarded past its forwarding period (in triage) counts as late;
- on-time completion rate (按期办结率): handling periods (review, re-review included) met on
  time, of those met or overdue — Chongqing keeps both at 99.5 % or more;
- online share (网上信访占比): cases received online, of all cases (target above 70 %);
- satisfaction rate (满意率): satisfied or basically satisfied, of the evaluations;
- evaluation participation: replied cases the petitioner evaluated, of the replied cases;
- escalation rate: cases with at least one ladder step taken, of all cases.

Everything is judged as of one moment (`Scope.as_of`): a clock met after it was still running
then, an evaluation given after it did not exist yet. Overdue is judged against that moment, not
against the stored status, so an unmet clock counts as late the moment its deadline passes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    case,
    distinct,
    exists,
    func,
    literal_column,
    null,
    or_,
    select,
)
from sqlalchemy.sql import ColumnElement, FromClause

from dispatcher.adapters.db.tables import cases, clocks, escalations, events

ACCEPTANCE_CLOCKS = ("forwarding", "acceptance")
HANDLING_CLOCKS = ("handling", "review", "rereview")
SATISFIED = ("satisfied", "basically_satisfied")
GROUPINGS = ("district", "kind", "channel")
DISTRICT_DIGITS = 6  # a region code's county-level prefix (GB/T 2260)
UNROUTED = "unrouted"  # the kind of a case neither the rules nor a person has routed yet


@dataclass(frozen=True)
class Ratio:
    good: int
    total: int

    @property
    def rate(self) -> float | None:
        return self.good / self.total if self.total else None

    def __add__(self, other: Ratio) -> Ratio:
        return Ratio(self.good + other.good, self.total + other.total)

    def __str__(self) -> str:
        rate = self.rate
        return "—" if rate is None else f"{100 * rate:.1f} % ({self.good}/{self.total})"


NO_DATA = Ratio(0, 0)


@dataclass(frozen=True)
class Target:
    """A KPI's threshold, kept as a fraction: 420/600 is exactly 70 %, which "> 70 %" misses."""

    threshold: Fraction
    strictly_above: bool = False

    def met_by(self, ratio: Ratio) -> bool | None:
        if not ratio.total:
            return None
        rate = Fraction(ratio.good, ratio.total)
        return rate > self.threshold if self.strictly_above else rate >= self.threshold

    def __str__(self) -> str:
        return f"{'>' if self.strictly_above else '≥'} {float(100 * self.threshold):g} %"


def mark(ratio: Ratio, target: Target | None) -> str:
    if target is None:
        return "no target"
    met = target.met_by(ratio)
    return "no data" if met is None else "met" if met else "missed"


# Every KPI's label and target, in the order reports show them. Chongqing keeps timely acceptance
# and on-time completion at 99.5 % or more and the online share above 70 %; no target is stated
# for the others, and none is invented.
KPIS: dict[str, tuple[str, Target | None]] = {
    "timely_acceptance": ("timely acceptance rate", Target(Fraction(995, 1000))),
    "on_time_completion": ("on-time completion rate", Target(Fraction(995, 1000))),
    "online_share": ("online share", Target(Fraction(70, 100), strictly_above=True)),
    "satisfaction": ("satisfaction rate", None),
    "evaluation_participation": ("evaluation participation", None),
    "escalation": ("escalation rate", None),
}


@dataclass(frozen=True)
class Kpis:
    """The platform's four KPIs over every case, as the metrics collector serves them."""

    timely_acceptance: Ratio
    on_time_completion: Ratio
    online_share: Ratio
    satisfaction: Ratio

    def as_dict(self) -> dict[str, Any]:
        return {name: asdict(ratio) | {"rate": ratio.rate} for name, ratio in self.__dict__.items()}


@dataclass(frozen=True)
class Scope:
    """Which cases, and as of when: those received in [since, until) (an end left out is open),
    judged as of `as_of`, in one row or in a row per `by` (one of GROUPINGS)."""

    as_of: datetime
    since: datetime | None = None
    until: datetime | None = None
    by: str | None = None

    @classmethod
    def of(
        cls,
        now: datetime,
        since: datetime | None = None,
        until: datetime | None = None,
        by: str | None = None,
    ) -> Scope:
        """As of `until` or `now`, whichever is earlier: a report on a past month counts what
        had happened by its end, and nothing can be judged as of a time still to come."""
        if by is not None and by not in GROUPINGS:
            raise ValueError(f"cannot group by {by!r}: one of {', '.join(GROUPINGS)}")
        return cls(min(now, until) if until is not None else now, since, until, by)

    def key(self) -> ColumnElement[Any] | None:
        """The group of a case, from its row; None: one group of every case."""
        if self.by == "district":
            # Literal positions: PostgreSQL matches the GROUP BY expression to the selected one
            # only if both are written alike, which bound parameters are not.
            digits: ColumnElement[Any] = literal_column(str(DISTRICT_DIGITS))
            return func.substr(cases.c.region, literal_column("1"), digits)
        if self.by == "kind":  # a case in triage is the petition bureau's (its triage desk)
            return func.coalesce(cases.c.org_kind, literal_column(f"'{UNROUTED}'"))
        return cases.c.channel if self.by == "channel" else None

    def filters(self) -> list[ColumnElement[bool]]:
        window: list[ColumnElement[bool]] = []
        if self.since is not None:
            window.append(cases.c.received_at >= self.since)
        if self.until is not None:
            window.append(cases.c.received_at < self.until)
        return window

    def source(self, table: FromClause, case_id: ColumnElement[Any]) -> FromClause:
        """The table, joined to its case when the window or the groups need the case's row
        (not for every case in one row: the collector's query at each scrape stays as cheap)."""
        if self.by is None and self.since is None and self.until is None:
            return table
        return table.join(cases, cases.c.case_id == case_id)


@dataclass(frozen=True)
class KpiRow:
    """The KPIs of one group: a district's code, a kind of department, a channel; None: all
    the cases of the scope."""

    key: str | None
    ratios: dict[str, Ratio]  # by the names of KPIS

    @property
    def cases(self) -> int:
        """The cases of the group: every one is in the escalation rate's denominator."""
        return self.ratios["escalation"].total

    def __add__(self, other: KpiRow) -> KpiRow:
        return KpiRow(None, {name: self.ratios[name] + other.ratios[name] for name in KPIS})


def kpi_report(conn: Connection, scope: Scope) -> list[KpiRow]:
    """A row per group that has a case in the scope, in the order of their keys (one row when
    the scope is not grouped); one aggregate query per KPI."""
    found = {name: QUERIES[name](conn, scope) for name in KPIS}
    keys = sorted({key for per_key in found.values() for key in per_key}, key=lambda k: k or "")
    return [KpiRow(key, {name: found[name].get(key, NO_DATA) for name in KPIS}) for key in keys]


def total(rows: Iterable[KpiRow]) -> KpiRow:
    """Every KPI counts cases, clocks or events, each of one case, so the groups add up."""
    return sum(rows, KpiRow(None, dict.fromkeys(KPIS, NO_DATA)))


def compute_kpis(conn: Connection, now: datetime) -> Kpis:
    scope = Scope(now)
    return Kpis(**{f.name: QUERIES[f.name](conn, scope)[None] for f in fields(Kpis)})


# ---- the queries: each returns {group key: Ratio} ----------------------------------------------

Ratios = dict[str | None, Ratio]


def _ratios(
    conn: Connection,
    key: ColumnElement[Any] | None,
    good: ColumnElement[Any],
    counted: ColumnElement[Any],
    source: FromClause,
    where: list[ColumnElement[bool]],
) -> Ratios:
    """SELECT key, good, counted FROM source WHERE … GROUP BY key, as {key: Ratio}."""
    query = select((null() if key is None else key).label("key"), good, counted)
    query = query.select_from(source).where(*where)
    if key is not None:
        query = query.group_by(key)
    return {row[0]: Ratio(int(row[1]), int(row[2])) for row in conn.execute(query)}


def _on_time(as_of: datetime) -> ColumnElement[bool]:
    return and_(clocks.c.status == "met", clocks.c.met_at <= as_of)


def _late(as_of: datetime) -> ColumnElement[bool]:
    """Met after its deadline by then, or not met by then with its deadline past (a paused
    clock has no deadline, and is not late)."""
    unmet = or_(clocks.c.met_at.is_(None), clocks.c.met_at > as_of)
    return or_(
        and_(clocks.c.status == "met_late", clocks.c.met_at <= as_of),
        and_(unmet, clocks.c.due_at < as_of),
    )


def _timely_acceptance(conn: Connection, scope: Scope) -> Ratios:
    """One per case: the forwarding and acceptance periods are one duty to accept in time,
    so a case the bureau forwards late, or still holds past its period (no acceptance period
    has started yet), is not accepted in time however fast the department is then."""
    key = scope.key()
    accepted = and_(clocks.c.name == "acceptance", _on_time(scope.as_of))
    per_case = (
        select(
            *([] if key is None else [key.label("key")]),
            func.max(case((_late(scope.as_of), 1), else_=0)).label("late"),
            func.max(case((accepted, 1), else_=0)).label("accepted"),
        )
        .select_from(scope.source(clocks, clocks.c.case_id))
        .where(clocks.c.name.in_(ACCEPTANCE_CLOCKS), *scope.filters())
        .group_by(clocks.c.case_id, *([] if key is None else [key]))
        .subquery()
    )
    on_time = and_(per_case.c.accepted == 1, per_case.c.late == 0)
    return _ratios(
        conn,
        None if key is None else per_case.c.key,
        func.count().filter(on_time),
        func.count().filter(or_(on_time, per_case.c.late == 1)),
        per_case,
        [],
    )


def _on_time_completion(conn: Connection, scope: Scope) -> Ratios:
    """One per handling period (a review's or re-review's included), as the clock row holds
    its latest: an extension moves the deadline it is judged by."""
    on_time = _on_time(scope.as_of)
    return _ratios(
        conn,
        scope.key(),
        func.count().filter(on_time),
        func.count().filter(or_(on_time, _late(scope.as_of))),
        scope.source(clocks, clocks.c.case_id),
        [clocks.c.name.in_(HANDLING_CLOCKS), *scope.filters()],
    )


def _online_share(conn: Connection, scope: Scope) -> Ratios:
    """Of the petitions themselves: a review or re-review case is the same petition again."""
    return _ratios(
        conn,
        scope.key(),
        func.count().filter(cases.c.channel == "online"),
        func.count(),
        cases,
        [cases.c.kind == "original", *scope.filters()],
    )


def _satisfaction(conn: Connection, scope: Scope) -> Ratios:
    """One per evaluation: a case re-handled after a dissatisfied one is evaluated again."""
    rating = events.c.data["rating"].as_string()
    return _ratios(
        conn,
        scope.key(),
        func.count().filter(rating.in_(SATISFIED)),
        func.count(),
        scope.source(events, events.c.case_id),
        [events.c.type == "evaluated", events.c.at <= scope.as_of, *scope.filters()],
    )


def _evaluation_participation(conn: Connection, scope: Scope) -> Ratios:
    """One per case: an evaluation comes after a reply, so a case with one was replied."""

    def cases_with(event_type: str) -> ColumnElement[Any]:
        return func.count(distinct(case((events.c.type == event_type, events.c.case_id))))

    return _ratios(
        conn,
        scope.key(),
        cases_with("evaluated"),
        cases_with("replied"),
        scope.source(events, events.c.case_id),
        [
            events.c.type.in_(("replied", "evaluated")),
            events.c.at <= scope.as_of,
            *scope.filters(),
        ],
    )


def _escalation(conn: Connection, scope: Scope) -> Ratios:
    """One per case, of every case: a review or re-review case climbs a ladder of its own.
    uq_escalations_step leads with case_id, so each case is one index probe."""
    stepped = exists().where(
        escalations.c.case_id == cases.c.case_id, escalations.c.escalated_at <= scope.as_of
    )
    return _ratios(
        conn,
        scope.key(),
        func.count().filter(stepped),
        func.count(),
        cases,
        scope.filters(),
    )


QUERIES: dict[str, Callable[[Connection, Scope], Ratios]] = {
    "timely_acceptance": _timely_acceptance,
    "on_time_completion": _on_time_completion,
    "online_share": _online_share,
    "satisfaction": _satisfaction,
    "evaluation_participation": _evaluation_participation,
    "escalation": _escalation,
}


def district_board(
    conn: Connection, since: datetime, as_of: datetime, prefix: str
) -> list[dict[str, Any]]:
    """The console's KPI page: a row per district whose code starts with `prefix` (an
    officer's region), then their total (key None), of the cases received since `since`;
    plain values, each KPI with its mark against its target."""
    grouped = kpi_report(conn, Scope.of(as_of, since, None, "district"))
    rows = [row for row in grouped if row.key is not None and row.key.startswith(prefix)]
    return [_plain(row) for row in [*rows, total(rows)]]


def _plain(row: KpiRow) -> dict[str, Any]:
    kpis = {}
    for name, (_label, target) in KPIS.items():
        ratio = row.ratios[name]
        kpis[name] = {
            "good": ratio.good,
            "total": ratio.total,
            "rate": ratio.rate,
            "mark": mark(ratio, target),
        }
    return {"key": row.key, "kpis": kpis}
