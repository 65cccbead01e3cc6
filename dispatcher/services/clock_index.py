"""Keeping each case's clock rows equal to what its events say."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection

from dispatcher.domain.calendar import WorkCalendar
from dispatcher.domain.policy import Policy
from dispatcher.domain.state import Lifecycle, fold
from dispatcher.domain.timeline import clocks_of
from dispatcher.services.ports import Store


class ClockIndex:
    """Rewrites a case's rows in `clocks` from its events, policy and the calendar, inside the
    transaction that appended the events. The rows are an index for the scheduler's query;
    the truth is always the events."""

    def __init__(
        self, calendar: WorkCalendar, policies: Callable[[str], Policy], store: Store
    ) -> None:
        self._store = store
        self.calendar, self.policies = calendar, policies

    def refresh(self, conn: Connection, case_id: str, at: datetime) -> None:
        row = self._store.load_case_row(conn, case_id)
        if row is None:
            return
        self.write(conn, case_id, fold(self._store.history(conn, case_id)), row["policy"], at)

    def write(
        self, conn: Connection, case_id: str, state: Lifecycle, policy: str, at: datetime
    ) -> None:
        """The rows from a state the caller has already folded."""
        views = clocks_of(state, self.policies(policy), self.calendar, at)
        self._store.replace_clocks(conn, case_id, views, at)
