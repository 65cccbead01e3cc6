"""What the demo's database holds at the end of the simulation, read into its report: the same
tables and lists the operators' commands read (`xinfang overdue`, the KPIs of `xinfang
metrics`), so that the report and a later look at a kept database agree."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from dispatcher.adapters.db import ladder_store
from dispatcher.adapters.db.tables import case_links, cases, clocks, commands, events
from dispatcher.adapters.db.tables import rejected_messages as rejections
from dispatcher.bootstrap.app import App
from dispatcher.demo.cases_file import CaseLine
from dispatcher.demo.report import (
    KPI_OF_CLOCK,
    NO_RULE,
    DemoReport,
    Escalated,
    Overdue,
    OverdueClock,
    RejectedLine,
)
from dispatcher.domain.clocks import SHANGHAI, days_late
from dispatcher.services.escalation import Taken
from monitoring.kpi import compute_kpis


@dataclass(frozen=True)
class Run:
    """What the demo knows of its run beyond the database."""

    source: str
    lines: Sequence[CaseLine]
    taken: Sequence[Taken]  # the ladder steps its sweeps took
    seconds: float
    started_at: datetime | None  # the simulated clock's start: the first receipt
    ended_at: datetime  # and its end: the "now" of every rate and overdue
    kept: Path | None


def collect(app: App, run: Run) -> DemoReport:
    with app.engine.connect() as conn:
        found = overdue(conn, run.ended_at)
        report = DemoReport(
            source=run.source,
            total_lines=len(run.lines),
            seconds=run.seconds,
            simulated_from=run.started_at,
            simulated_until=run.ended_at if run.started_at else None,
            rejected=rejected_lines(conn, run.lines),
            kpis=compute_kpis(conn, run.ended_at),
            overdue=found,
            kept=run.kept,
            example_case=example_case(conn, found),
            **case_tables(conn),
            **activity(conn),
        )
    report.escalations = escalations(app, run.taken)
    return report


NOT_ASSIGNED = ("registered", "triage")  # stages of a case no department holds yet
EVERY_OVERDUE = 1_000_000  # ladder_store.overdue takes a limit; the demo wants them all


def case_tables(conn: Connection) -> dict[str, Any]:
    """The original cases (reviews are cases of their own, counted apart) by channel, stage,
    kind of department, department, rule and petition bureau in triage."""
    rows = conn.execute(
        select(
            cases.c.channel,
            cases.c.stage,
            cases.c.org_unit_name,
            cases.c.org_kind,
            cases.c.rule_id,
            cases.c.received_at,
            cases.c.assigned_at,
        ).where(cases.c.kind == "original")
    ).all()
    assigned = [row for row in rows if row.stage not in NOT_ASSIGNED]
    minutes = sorted(
        (row.assigned_at - row.received_at).total_seconds() / 60 for row in rows if row.assigned_at
    )
    return {
        "per_channel": dict(Counter(row.channel for row in rows)),
        "per_stage": dict(Counter(row.stage for row in rows)),
        "per_kind": dict(Counter(row.org_kind or "?" for row in assigned)),
        "per_department": dict(Counter(row.org_unit_name or "?" for row in assigned)),
        "per_rule": dict(Counter(row.rule_id or NO_RULE for row in rows)),
        "triage": dict(Counter(row.org_unit_name or "?" for row in rows if row.stage == "triage")),
        "median_dispatch_minutes": minutes[len(minutes) // 2] if minutes else 0.0,
    }


def activity(conn: Connection) -> dict[str, Any]:
    """Links, commands, reviews and published events."""
    outcomes = conn.execute(select(commands.c.outcome, func.count()).group_by(commands.c.outcome))
    linked = conn.execute(select(case_links.c.kind, func.count()).group_by(case_links.c.kind))
    reviews = select(func.count()).select_from(cases).where(cases.c.kind != "original")
    published = select(func.count()).select_from(events).where(events.c.published_at.is_not(None))
    return {
        "commands": {str(outcome): int(n) for outcome, n in outcomes},
        "linked": {str(kind): int(n) for kind, n in linked},
        "reviews_opened": conn.scalar(reviews) or 0,
        "events_published": conn.scalar(published) or 0,
    }


def rejected_lines(conn: Connection, lines: Sequence[CaseLine]) -> list[RejectedLine]:
    """Every message the intake rejected, traced to its line by the digest the intake keeps of
    the body (a line given twice is traced to both, in order)."""
    numbers: dict[str, deque[int]] = defaultdict(deque)
    for line in lines:
        numbers[hashlib.sha256(line.body).hexdigest()].append(line.number)
    rows = conn.execute(
        select(rejections.c.digest, rejections.c.code, rejections.c.reason).order_by(
            rejections.c.id
        )
    )
    traced = []
    for digest, code, reason in rows:
        waiting = numbers.get(digest)
        traced.append(RejectedLine(waiting.popleft() if waiting else None, code, reason))
    return traced


def overdue(conn: Connection, as_of: datetime) -> Overdue:
    """The duties overdue at `as_of`, the list `xinfang overdue --now` prints, with the kind
    of the unit responsible; and how many periods were met after their deadline."""
    rows = ladder_store.overdue(conn, as_of, None, None, EVERY_OVERDUE)
    kinds = dict(conn.execute(select(cases.c.case_id, cases.c.org_kind)).all())
    late = conn.execute(
        select(clocks.c.name, func.count())
        .where(clocks.c.status == "met_late", clocks.c.name.in_(tuple(KPI_OF_CLOCK)))
        .group_by(clocks.c.name)
    )
    return Overdue(
        clocks=[
            OverdueClock(
                case_id=row["case_id"],
                reference=f"{row['source']}/{row['external_id']}",
                clock=row["clock"],
                due=f"{row['due_at'].astimezone(SHANGHAI):%Y-%m-%d}",
                days_overdue=days_late(row["due_at"], as_of),
                stage=row["stage"],
                unit=row["org_unit_name"] or "?",
                unit_kind=kinds.get(row["case_id"]) or "?",
            )
            for row in rows
        ],
        met_late={str(name): int(n) for name, n in late},
    )


def example_case(conn: Connection, found: Overdue) -> str | None:
    """A case worth `xinfang case show`: the longest overdue, else the first escalated, else
    the first received."""
    if found.clocks:
        return found.longest()[0].case_id
    escalated = conn.scalar(
        select(clocks.c.case_id)
        .where(clocks.c.escalated_step.is_not(None))
        .order_by(clocks.c.case_id)
        .limit(1)
    )
    first = select(cases.c.case_id).order_by(cases.c.received_at, cases.c.external_id).limit(1)
    return escalated or conn.scalar(first)


def escalations(app: App, taken: Sequence[Taken]) -> Escalated:
    directory = app.decider.ruleset.directory
    with app.engine.connect() as conn:
        regions = dict(conn.execute(select(cases.c.case_id, cases.c.region)).all())
        counted = ladder_store.count_notifications(conn)

    def district(case_id: str) -> str:
        code = directory.ancestor_at(regions.get(case_id, ""), "district") or "?"
        return directory.region_name(code) or code

    return Escalated(
        steps=len(taken),
        cases=len({t.case_id for t in taken}),
        per_level=dict(Counter(t.level for t in taken)),
        per_step=dict(Counter(t.kind.chinese for t in taken)),
        per_district=dict(Counter(district(t.case_id) for t in taken)),
        notifications={f"{channel} {status}": n for (channel, status), n in counted.items()},
    )
