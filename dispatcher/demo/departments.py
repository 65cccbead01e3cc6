"""Simulated departments for `xinfang demo`: after intake, every routed case is acted on the way
offices do — accepted within days, sometimes objected to or extended, replied, evaluated, now
and then taken to review — by commands on exchange xinfang.commands, each stamped with the
simulated time it happens. Deterministic for a seed. A small share is late on purpose, so the
KPIs have something to show."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from dispatcher.adapters.db.tables import cases, events

REPLY = {
    "request": "信访人反映的诉求",
    "facts": "经调查核实，情况基本属实",
    "reasons": "依据相关法律法规和政策规定",
    "decision": "已责成相关单位限期整改，并将办理结果书面告知信访人",
    "legal_basis": "《信访工作条例》第三十一条、第三十二条",
}


@dataclass(frozen=True)
class Planned:
    at: datetime
    case_id: str
    action: str
    actor: str
    data: dict[str, Any]

    def command(self, number: int) -> dict[str, Any]:
        return {
            "schema": "xinfang.command/v1",
            "command_id": f"demo-{number:06d}",
            "case_id": self.case_id,
            "action": self.action,
            "actor": self.actor,
            "at": self.at.isoformat(),
            "data": self.data,
        }


def plan(conn: Connection, seed: int = 2026) -> list[Planned]:
    """Every department action on the routed cases, in time order."""
    rng = random.Random(seed)
    rows = conn.execute(
        select(cases.c.case_id, cases.c.stage, cases.c.org_unit_id, cases.c.assigned_at)
        .where(cases.c.stage == "assigned")
        # Not by case_id, a random UUID: cases routed in one batch share assigned_at, and the
        # seeded draws must fall to the same cases in every run (the same last day, too).
        .order_by(cases.c.assigned_at, cases.c.source, cases.c.external_id)
    ).all()
    diverted = _diverted(conn)
    actions = [step for row in rows for step in _life(rng, row, diverted.get(row.case_id))]
    return sorted(actions, key=lambda step: step.at)


def _diverted(conn: Connection) -> dict[str, str]:
    rows = conn.execute(select(events.c.case_id, events.c.data).where(events.c.type == "assigned"))
    return {
        row.case_id: row.data["divert"]["channel"] for row in rows if (row.data or {}).get("divert")
    }


def _life(rng: random.Random, row: Any, divert: str | None) -> Iterator[Planned]:
    unit, at = row.org_unit_id, row.assigned_at
    if divert is not None:  # the bureau tells the petitioner where the matter belongs
        yield Planned(
            at + _hours(rng, 2, 30),
            row.case_id,
            "reject",
            unit,
            {"reason": "属于法定途径处理的事项", "divert_to": divert},
        )
        return
    at = at + _hours(rng, 1, 48)
    if rng.random() < 0.02:  # objects to the assignment, the office confirms it
        yield Planned(at, row.case_id, "object", unit, {"reason": "不属于本单位职责范围"})
        at += _hours(rng, 4, 40)
        yield Planned(
            at, row.case_id, "confirm", "dispatch-office", {"reason": "经核实属于该单位职责"}
        )
        at += _hours(rng, 2, 24)
    if rng.random() < 0.03:  # a late acceptance: the ladder warns, reminds, supervises
        at += timedelta(days=rng.randint(13, 25))
    yield Planned(at, row.case_id, "accept", unit, {})
    yield from _handling(rng, row.case_id, unit, at)


def _handling(rng: random.Random, case_id: str, unit: str, accepted: datetime) -> Iterator[Planned]:
    days = min(rng.lognormvariate(2.6, 0.6), 58.0)
    if rng.random() < 0.05:  # complicated: extended by the head, reason told to the petitioner
        yield Planned(
            accepted + timedelta(days=40),
            case_id,
            "extend",
            unit,
            {"days": 30, "approved_by": "单位负责人", "reason": "情况复杂，需多部门会商"},
        )
        days = rng.uniform(45, 85)
    if rng.random() < 0.03:  # a late reply: the handling ladder climbs
        days += rng.uniform(45, 60)
    replied = accepted + timedelta(days=days)
    yield Planned(replied, case_id, "reply", unit, dict(REPLY))
    rating = rng.choices(("satisfied", "basically_satisfied", "dissatisfied"), (80, 14, 6))[0]
    evaluated = replied + _hours(rng, 6, 72)
    yield Planned(evaluated, case_id, "evaluate", "petitioner", {"rating": rating})
    if rating == "dissatisfied" and rng.random() < 0.4:
        yield Planned(
            evaluated + timedelta(days=rng.uniform(2, 20)),
            case_id,
            "request_review",
            "petitioner",
            {"reason": "对处理意见不服"},
        )


def _hours(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(hours=rng.uniform(low, high))


def plan_reviews(conn: Connection, seed: int = 2027) -> list[Planned]:
    """The next-higher bodies reply to the review requests within their 30 days (Art 35)."""
    rng = random.Random(seed)
    rows = conn.execute(
        select(cases.c.case_id, cases.c.org_unit_id, cases.c.assigned_at)
        .where(cases.c.kind == "review", cases.c.stage == "accepted")
        .order_by(cases.c.source, cases.c.external_id)  # not case_id: a random UUID
    ).all()
    steps = [
        Planned(
            row.assigned_at + timedelta(days=rng.uniform(8, 27)),
            row.case_id,
            "reply",
            row.org_unit_id,
            dict(REPLY),
        )
        for row in rows
    ]
    return sorted(steps, key=lambda step: step.at)
