"""Thin dramatiq actors over the core's services. Each is idempotent: a redelivered message
changes nothing, so dramatiq's at-least-once delivery never does the work twice."""

from __future__ import annotations

from dataclasses import dataclass

import dramatiq
from dramatiq import Actor, Broker

from dispatcher.domain.errors import CaseNotFound
from dispatcher.services.routing import RoutingService

ROUTE_QUEUE = "xinfang.route"


@dataclass(frozen=True)
class Actors:
    route: Actor

    @property
    def queues(self) -> set[str]:
        return {self.route.queue_name}


def declare_actors(broker: Broker, routing: RoutingService) -> Actors:
    def route(case_id: str) -> None:
        routing.route(case_id)

    route_actor = dramatiq.actor(
        broker=broker,
        actor_name="xinfang.route",
        queue_name=ROUTE_QUEUE,
        # A missing case will not appear by retrying; database outages are retried with backoff.
        throws=(CaseNotFound,),
        max_retries=20,
        min_backoff=1000,
        max_backoff=300_000,
    )(route)
    return Actors(route=route_actor)
