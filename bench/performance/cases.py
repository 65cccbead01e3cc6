"""The cases every measurement sends: the demo generator's (tests/support.py `valid_cases` is
the same generator), valid contract-v1, with unique (source, external_id) within one call and
invented petitioners that are all different people, so that no case is a repeat of another.

The generator dates its cases in May 2026; here they are re-dated to the hours before now, in
the generator's order, so that they arrive as new petitions do (no clock is already overdue,
and the scheduler finds no escalation to take while a measurement runs)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from dispatcher.demo.sample import CST, generate

Case = dict[str, Any]
Message = tuple[str, bytes]  # routing key, body

SEED = 41


def fresh_cases(
    count: int, seed: int = SEED, end: datetime | None = None, span: timedelta = timedelta(hours=6)
) -> list[Case]:
    """`count` cases received one after the other during the `span` before `end` (now)."""
    cases = generate(count=count, seed=seed)
    end = end or datetime.now(CST)
    step = span / max(count, 1)
    for index, case in enumerate(cases):
        at = end - span + step * index
        case["received_at"] = at.replace(microsecond=0).isoformat()
    return cases


def body(case: Case) -> bytes:
    """As `xinfang publish` and CasePublisher send it: UTF-8 JSON, Chinese as is."""
    return json.dumps(case, ensure_ascii=False).encode("utf-8")


def routing_key(case: Case) -> str:
    return f"case.{case['channel']}"


def messages(cases: Sequence[Case]) -> list[Message]:
    return [(routing_key(case), body(case)) for case in cases]


def key(case: Case) -> str:
    """What identifies a case in an event and in a bare row: its external_id (unique within
    one call of fresh_cases)."""
    return str(case["external_id"])
