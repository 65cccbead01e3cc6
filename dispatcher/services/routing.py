"""Route a registered case with the rules: to an org unit, or to the petition bureau's triage."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from dispatcher.domain import case as cases
from dispatcher.domain.case import Assignment
from dispatcher.domain.clock import Clock
from dispatcher.domain.errors import CaseNotFound
from dispatcher.domain.stages import Stage
from dispatcher.services.clock_index import ClockIndex
from dispatcher.services.ports import Metrics, Store

Decide = Callable[[Mapping[str, Any]], Assignment]


@dataclass(frozen=True)
class Routed:
    case_id: str
    stage: Stage
    org_unit_id: str
    rule_id: str | None
    changed: bool  # False: already routed by an earlier delivery; nothing was written


class RoutingService:
    def __init__(
        self,
        engine: Engine,
        store: Store,
        clock: Clock,
        metrics: Metrics,
        decide: Decide,
        clocks: ClockIndex,
    ) -> None:
        self._engine, self._store = engine, store
        self._clock, self._metrics, self._decide = clock, metrics, decide
        self._clocks = clocks

    def route(self, case_id: str) -> Routed:
        """Idempotent: a case already routed is reported as it is, and nothing is written."""
        with self._engine.begin() as conn:
            case = self._store.load_case(conn, case_id)
            if case is None:
                raise CaseNotFound(case_id)
            if case.stage is not Stage.REGISTERED:
                return self._unchanged(case)
            assignment = self._decide(case.facts())
            event = cases.assign(case, assignment, self._clock())
            if not self._store.save_assignment(conn, case, previous=Stage.REGISTERED):
                # Another worker routed it between our read and our write: report its decision.
                winner = self._store.load_case(conn, case_id)
                assert winner is not None
                return self._unchanged(winner)
            self._store.append_event(conn, event)
            self._clocks.refresh(conn, case_id, event.at)
        self._count(case, assignment, event.data["dispatch_seconds"])
        return Routed(case_id, case.stage, assignment.org_unit_id, assignment.rule_id, True)

    def _unchanged(self, case: cases.Case) -> Routed:
        assignment = case.assignment
        assert assignment is not None
        return Routed(case.case_id, case.stage, assignment.org_unit_id, assignment.rule_id, False)

    def _count(self, case: cases.Case, assignment: Assignment, seconds: float) -> None:
        self._metrics.case_routed(case.stage.value, assignment.org_kind)
        if case.stage is Stage.ASSIGNED:
            self._metrics.case_dispatched(case.channel.value, max(seconds, 0))
