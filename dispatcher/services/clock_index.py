"""Keeping each case's clock rows equal to what its events say, ladders included."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection

from dispatcher.domain.calendar import WorkCalendar
from dispatcher.domain.escalation import ClockLadder, deescalated, ladder_of, position, stop_reason
from dispatcher.domain.ladders import Ladders
from dispatcher.domain.policy import Policy
from dispatcher.domain.stages import TERMINAL
from dispatcher.domain.state import Lifecycle, fold
from dispatcher.domain.timeline import clocks_of
from dispatcher.services.hierarchy import height_above
from dispatcher.services.ports import ClockRows, Store
from rules import OrgDirectory


class Folded(NamedTuple):
    """A case's state as its events fold, with its clock policy, as of `at`."""

    case_id: str
    state: Lifecycle
    policy: str
    at: datetime


def no_ladders(_policy: str) -> Ladders | None:
    return None


class ClockIndex:
    """Rewrites a case's rows in `clocks` from its events, policy, ladders and the calendar,
    inside the transaction that appended the events. The rows are an index for the
    scheduler's query; the truth is always the events. A ladder that stops with this change
    leaves a `case.deescalated` event, in the same transaction."""

    def __init__(
        self,
        calendar: WorkCalendar,
        policies: Callable[[str], Policy],
        store: Store,
        ladders: Callable[[str], Ladders | None] = no_ladders,
        directory: Callable[[], OrgDirectory] | None = None,
    ) -> None:
        self._store = store
        self.calendar, self.policies, self.ladders = calendar, policies, ladders
        self._directory = directory

    def refresh(self, conn: Connection, case_id: str, at: datetime) -> None:
        row = self._store.load_case_row(conn, case_id)
        if row is None:
            return
        self.write(conn, case_id, fold(self._store.history(conn, case_id)), row["policy"], at)

    def ladders_of(self, state: Lifecycle, policy: str, at: datetime) -> list[ClockLadder]:
        """Every clock of the case at `at`, each with its ladder and plan."""
        views = clocks_of(state, self.policies(policy), self.calendar, at)
        ladders = self.ladders(policy)
        height = height_above(self._directory(), state) if self._directory else 0
        closed = state.stage in TERMINAL
        return [
            ladder_of(v, state, ladders, self.calendar, height=height, closed=closed) for v in views
        ]

    def write(
        self, conn: Connection, case_id: str, state: Lifecycle, policy: str, at: datetime
    ) -> None:
        """The rows from a state the caller has already folded."""
        self.write_many(conn, [Folded(case_id, state, policy, at)])

    def write_many(self, conn: Connection, folded: Sequence[Folded], fresh: bool = False) -> None:
        """The rows of many cases from the states in hand, in two statements (`fresh`: cases
        registered in this transaction, which have no rows to replace)."""
        rows = []
        for case in folded:
            clocks = self.ladders_of(case.state, case.policy, case.at)
            if case.state.escalated:  # only a case with steps taken can have a ladder to stop
                self._stop_ladders(conn, case.case_id, case.state, clocks, case.at)
            positions = {c.view.name: position(c, case.state) for c in clocks}
            rows.append(ClockRows(case.case_id, [c.view for c in clocks], case.at, positions))
        self._store.replace_clocks_many(conn, rows, fresh)

    def _stop_ladders(
        self,
        conn: Connection,
        case_id: str,
        state: Lifecycle,
        clocks: list[ClockLadder],
        at: datetime,
    ) -> None:
        views = {c.view.name: c.view for c in clocks}
        closed = state.stage in TERMINAL
        stopped = [
            (before, views.get(before.name), reason)
            for before in self._store.indexed_clocks(conn, case_id)
            if (reason := stop_reason(before, views.get(before.name), closed)) is not None
        ]
        if not stopped:
            return
        row = self._store.load_case_row(conn, case_id)  # for the events' source ids
        case = (case_id, row["source"], row["external_id"]) if row else (case_id, None, None)
        for before, view, reason in stopped:
            self._store.append_event(conn, deescalated(case, before, reason, view, at))
