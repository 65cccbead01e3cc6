"""The KPIs of the "five-in-one" platform, computed from the database at any moment.

- timely acceptance rate (及时受理率): cases forwarded by the petition bureau (Art 22) and
  accepted by the department (Art 23) within their periods, of the cases accepted or late in
  either — a case still unforwarded past its forwarding period (in triage) counts as late;
- on-time completion rate (按期办结率): handling periods (review, re-review included) met on
  time, of those met or overdue — Chongqing keeps both at 99.5 % or more;
- online share (网上信访占比): cases received online, of all cases (target above 70 %);
- satisfaction rate (满意率): satisfied or basically satisfied, of the evaluated replies.

Overdue is judged against `now`, not against the stored status, so an unmet clock counts as
late the moment its deadline passes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, case, func, or_, select

from dispatcher.adapters.db.tables import cases, clocks, events

ACCEPTANCE_CLOCKS = ("forwarding", "acceptance")
HANDLING_CLOCKS = ("handling", "review", "rereview")
SATISFIED = ("satisfied", "basically_satisfied")


@dataclass(frozen=True)
class Ratio:
    good: int
    total: int

    @property
    def rate(self) -> float | None:
        return self.good / self.total if self.total else None

    def __str__(self) -> str:
        rate = self.rate
        return "—" if rate is None else f"{100 * rate:.1f} % ({self.good}/{self.total})"


@dataclass(frozen=True)
class Kpis:
    timely_acceptance: Ratio
    on_time_completion: Ratio
    online_share: Ratio
    satisfaction: Ratio

    def as_dict(self) -> dict[str, Any]:
        return {name: asdict(ratio) | {"rate": ratio.rate} for name, ratio in self.__dict__.items()}


def compute_kpis(conn: Connection, now: datetime) -> Kpis:
    return Kpis(
        timely_acceptance=_acceptance_ratio(conn, now),
        on_time_completion=_clock_ratio(conn, HANDLING_CLOCKS, now),
        online_share=_online_share(conn),
        satisfaction=_satisfaction(conn),
    )


def _late(now: datetime) -> Any:
    return or_(
        clocks.c.status == "met_late", and_(clocks.c.met_at.is_(None), clocks.c.due_at < now)
    )


def _acceptance_ratio(conn: Connection, now: datetime) -> Ratio:
    """One per case: the forwarding and acceptance periods are one duty to accept in time,
    so a case the bureau forwards late, or still holds past its period (no acceptance period
    has started yet), is not accepted in time however fast the department is then."""
    per_case = (
        select(
            func.max(case((_late(now), 1), else_=0)).label("late"),
            func.max(
                case((and_(clocks.c.name == "acceptance", clocks.c.status == "met"), 1), else_=0)
            ).label("accepted"),
        )
        .where(clocks.c.name.in_(ACCEPTANCE_CLOCKS))
        .group_by(clocks.c.case_id)
        .subquery()
    )
    on_time = and_(per_case.c.accepted == 1, per_case.c.late == 0)
    row = conn.execute(
        select(
            func.count().filter(on_time),
            func.count().filter(or_(on_time, per_case.c.late == 1)),
        )
    ).one()
    return Ratio(int(row[0]), int(row[1]))


def _clock_ratio(conn: Connection, names: tuple[str, ...], now: datetime) -> Ratio:
    on_time = clocks.c.status == "met"
    late = _late(now)
    row = conn.execute(
        select(
            func.count().filter(on_time),
            func.count().filter(or_(on_time, late)),
        ).where(clocks.c.name.in_(names))
    ).one()
    return Ratio(int(row[0]), int(row[1]))


def _online_share(conn: Connection) -> Ratio:
    row = conn.execute(
        select(
            func.count().filter(cases.c.channel == "online"),
            func.count(),
        ).where(cases.c.kind == "original")
    ).one()
    return Ratio(int(row[0]), int(row[1]))


def _satisfaction(conn: Connection) -> Ratio:
    rating = events.c.data["rating"].as_string()
    row = conn.execute(
        select(
            func.count().filter(rating.in_(SATISFIED)),
            func.count(),
        ).where(events.c.type == "evaluated")
    ).one()
    return Ratio(int(row[0]), int(row[1]))
