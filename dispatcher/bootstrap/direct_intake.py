"""Intake without a broker: what `xinfang publish` does in embedded mode.

The in-process broker of the embedded default lives and dies with its process, so a message
published there from another process would reach nobody. Instead, the publishing process does
itself what the intake consumer and the routing worker do, with the same services on the same
database: each case is validated, registered idempotently on (source, external_id) and routed
before the command returns. A running embedded `xinfang run` on that database then holds the
cases to their clocks, escalates them and relays their events, as it does its own.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence

from dispatcher.adapters.messaging.confirms import Outgoing
from dispatcher.services.intake import Duplicate, Incoming, IntakeService, Linked, Registered
from dispatcher.services.routing import RoutingService

log = logging.getLogger(__name__)

BATCH = 200  # messages registered in one transaction: SQLite takes one writer at a time


class DirectIntake:
    """Has the interface of CasePublisher.publish_many, so that `publish_lines` feeds either."""

    def __init__(self, intake: IntakeService, routing: RoutingService) -> None:
        self._intake, self._routing = intake, routing
        self.outcomes: Counter[str] = Counter()  # registered, joined, duplicate, rejected

    def publish_many(self, messages: Sequence[Outgoing]) -> None:
        for start in range(0, len(messages), BATCH):
            self._register(messages[start : start + BATCH])

    def _register(self, messages: Sequence[Outgoing]) -> None:
        outcomes = self._intake.receive_many(
            [Incoming(m.body, "application/json", m.routing_key, False) for m in messages]
        )
        to_route = [
            o.case_id for o in outcomes if isinstance(o, Registered | Duplicate) and _to_route(o)
        ]
        for outcome in outcomes:
            self.outcomes[_kind(outcome)] += 1
        if to_route:
            self._route(list(dict.fromkeys(to_route)))

    def _route(self, case_ids: list[str]) -> None:
        try:
            self._routing.route_many(case_ids)
        except Exception as error:  # registered all the same: a scheduler routes them later
            log.warning(
                "%d cases registered but not all routed (%s): the scheduler of `xinfang run` "
                "routes them",
                len(case_ids),
                type(error).__name__,
            )


def _to_route(outcome: Registered | Duplicate) -> bool:
    """A new case, or one an earlier attempt registered and may have left unrouted."""
    return isinstance(outcome, Registered) or outcome.needs_routing


def _kind(outcome: object) -> str:
    if isinstance(outcome, Registered):
        return "registered"
    if isinstance(outcome, Linked):
        return "joined"
    if isinstance(outcome, Duplicate):
        return "duplicate"
    return "rejected"
