"""Linking must never swallow distinct petitions: a producer that copies the contract's example
(placeholder petitioner, one title and text) and varies only external_id gets one case each."""

from __future__ import annotations

import dataclasses
import json

from sqlalchemy import func, select

from dispatcher.adapters.db.tables import cases
from dispatcher.bootstrap.app import build
from dispatcher.bootstrap.settings import Settings
from dispatcher.domain.clock import FixedClock
from dispatcher.services.intake import Registered

EXAMPLE = {  # DESIGN.md's example of contract v1, as a producer might copy it
    "schema": "xinfang.case/v1",
    "source": "cq-12345",
    "channel": "phone",
    "received_at": "2026-05-26T09:30:00+08:00",
    "region": "500103",
    "category": "housing",
    "title": "小区加装电梯纠纷",
    "content": "……",
    "petitioner": {"name": "…", "id_number": "…", "phone": "…", "address": "…"},
    "people_count": 1,
    "urgent": False,
}


def test_copies_of_the_example_with_placeholders_are_distinct_cases(
    settings: Settings, clock: FixedClock, memory_queues: None
) -> None:
    linking_on = dataclasses.replace(settings, repeat_window_days=90, collective_window_days=7)
    app = build(linking_on, clock=clock)
    variants = [
        EXAMPLE,
        {**EXAMPLE, "petitioner": None},
        {**EXAMPLE, "content": "一楼住户阻挠加装电梯施工，社区协调多次未果。"},
    ]
    outcomes = []
    for number in range(30):
        message = {k: v for k, v in variants[number % 3].items() if v is not None}
        message["external_id"] = f"HL{number:06d}"
        body = json.dumps(message, ensure_ascii=False).encode()
        outcomes.append(app.intake.receive(body, "application/json", "case.phone"))
    assert all(isinstance(outcome, Registered) for outcome in outcomes)
    with app.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(cases)) == 30
    app.close()
