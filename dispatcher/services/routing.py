"""Route a registered case with the rules: to an org unit, or to the petition bureau's triage."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from dispatcher.domain import case as cases
from dispatcher.domain.case import Assignment
from dispatcher.domain.clock import Clock
from dispatcher.domain.errors import CaseNotFound, XinfangError
from dispatcher.domain.events import Event
from dispatcher.domain.stages import Stage
from dispatcher.domain.state import Recorded, fold
from dispatcher.services.clock_index import ClockIndex, Folded
from dispatcher.services.ports import Metrics, Store

Decide = Callable[[Mapping[str, Any]], Assignment]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Routed:
    case_id: str
    stage: Stage
    org_unit_id: str
    rule_id: str | None
    changed: bool  # False: already routed by an earlier delivery; nothing was written


@dataclass
class _Decided:
    """What a batch's decisions leave to write at its end, and to count after its commit."""

    cases: list[cases.Case] = field(default_factory=list)
    events: list[tuple[Event, str | None]] = field(default_factory=list)
    clocks: list[Folded] = field(default_factory=list)


class _Raced(XinfangError):
    """A case of the batch was routed by another worker meanwhile."""


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
        routed = self.route_many([case_id])[0]
        if isinstance(routed, CaseNotFound):
            raise routed
        return routed

    def route_many(self, case_ids: Sequence[str]) -> list[Routed | CaseNotFound]:
        """Route many cases in one transaction; should that fail, one at a time, so that a
        case that cannot be routed fails alone (its error is raised once the others are
        routed). The result of each id, in order; a missing case is a CaseNotFound."""
        ids = list(dict.fromkeys(case_ids))
        self._metrics.batch_handled("route", len(ids))
        if len(ids) == 1:
            found = self._route_alone(ids[0])
        else:
            try:
                found = self._route_together(ids)
            except Exception as error:  # each is then tried alone, and fails alone
                log.info(
                    "routing: a batch of %d failed (%s); routing them one by one",
                    len(ids),
                    type(error).__name__,
                )
                found = self._route_one_by_one(ids)
        return [found[case_id] for case_id in case_ids]

    def _route_one_by_one(self, ids: Sequence[str]) -> dict[str, Routed | CaseNotFound]:
        found: dict[str, Routed | CaseNotFound] = {}
        failed: Exception | None = None
        for case_id in ids:
            try:
                found.update(self._route_alone(case_id))
            except Exception as error:  # the others go on; this one is raised at the end
                failed = failed or error
        if failed is not None:
            raise failed
        return found

    def _route_alone(self, case_id: str) -> dict[str, Routed | CaseNotFound]:
        try:
            return self._route_together([case_id])
        except _Raced:  # the other worker's decision stands: report it
            with self._engine.connect() as conn:
                winner = self._store.load_case(conn, case_id)
            assert winner is not None
            return {case_id: self._unchanged(winner)}

    def _route_together(self, ids: Sequence[str]) -> dict[str, Routed | CaseNotFound]:
        found: dict[str, Routed | CaseNotFound] = {}
        decided = _Decided()
        with self._engine.begin() as conn:
            held = self._store.lock_cases(conn, ids)
            waiting = [i for i in ids if i in held and held[i].stage is Stage.REGISTERED]
            histories = self._store.histories(conn, waiting) if waiting else {}
            for case_id in ids:
                case = held.get(case_id)
                if case is None:
                    found[case_id] = CaseNotFound(case_id)
                elif case_id in histories:
                    found[case_id] = self._assign(case, histories[case_id], decided)
                else:
                    found[case_id] = self._unchanged(case)
            written = self._store.save_assignments(conn, decided.cases, Stage.REGISTERED)
            if written != len(decided.cases):
                # Another worker routed one between our read and our write (where rows are not
                # locked, as on SQLite): nothing of this batch stays; it is routed again.
                raise _Raced(f"{len(decided.cases) - written} of the batch routed elsewhere")
            self._store.append_events(conn, decided.events)
            self._clocks.write_many(conn, decided.clocks)
        for case in decided.cases:
            self._count(case)
        return found

    def _assign(self, case: cases.Case, history: list[Recorded], decided: _Decided) -> Routed:
        assignment = self._decide(case.facts())
        event = cases.assign(case, assignment, self._clock())
        decided.cases.append(case)
        decided.events.append((event, None))
        # The clocks from the history read once and the event in hand: nothing is read back.
        state = fold([*history, Recorded(event.type, event.at, event.data)])
        decided.clocks.append(Folded(case.case_id, state, assignment.policy, event.at))
        return Routed(case.case_id, case.stage, assignment.org_unit_id, assignment.rule_id, True)

    def _unchanged(self, case: cases.Case) -> Routed:
        assignment = case.assignment
        assert assignment is not None
        return Routed(case.case_id, case.stage, assignment.org_unit_id, assignment.rule_id, False)

    def _count(self, case: cases.Case) -> None:
        assert case.assignment is not None and case.assigned_at is not None
        self._metrics.case_routed(case.stage.value, case.assignment.org_kind, case.region.code)
        if case.stage is Stage.ASSIGNED:
            seconds = (case.assigned_at - case.received_at).total_seconds()
            self._metrics.case_dispatched(case.channel.value, max(seconds, 0))
