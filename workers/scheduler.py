"""The scheduler role (APScheduler): periodic work that keeps the pipeline whole.

For now one job: a case still `registered` some minutes after registration means its route
message was lost (say, the broker refused it for longer than dramatiq's retries lasted); the
job enqueues routing again. Routing is idempotent, so a case that was merely slow is not
routed twice. Escalation ladders will run here too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, select

from dispatcher.adapters.db.tables import cases
from dispatcher.adapters.outage import Outage, service_of
from dispatcher.domain.clock import Clock
from dispatcher.domain.clocks import SHANGHAI
from dispatcher.domain.stages import Stage

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=10)
SWEEP_EVERY_SECONDS = 60
BATCH = 1000


def requeue_unrouted(
    engine: Engine,
    clock: Clock,
    enqueue_route: Callable[[str], object],
    stale_after: timedelta = STALE_AFTER,
) -> int:
    """Enqueue routing for every case registered before now − stale_after and still
    waiting; returns how many."""
    cutoff = clock() - stale_after
    with engine.connect() as conn:
        waiting = conn.scalars(
            select(cases.c.case_id)
            .where(cases.c.stage == Stage.REGISTERED.value, cases.c.registered_at < cutoff)
            .order_by(cases.c.registered_at)
            .limit(BATCH)
        ).all()
    for case_id in waiting:
        enqueue_route(case_id)
    if waiting:
        log.warning(
            "re-enqueued routing for %d case(s) waiting since before %s",
            len(waiting),
            cutoff.isoformat(),
        )
    return len(waiting)


def sweep_once(
    engine: Engine, clock: Clock, enqueue_route: Callable[[str], object], outage: Outage
) -> int:
    """One sweep. The broker or database away is an outage, told once and tried again at
    the next sweep (what was not enqueued is still found then); anything else is a bug."""
    try:
        enqueued = requeue_unrouted(engine, clock, enqueue_route)
    except Exception as error:
        service = service_of(error)
        if service is None:
            raise
        outage.failed(service, error)
        return 0
    outage.recovered()
    return enqueued


def start_scheduler(
    engine: Engine, clock: Clock, enqueue_route: Callable[[str], object]
) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=SHANGHAI)
    # One run at a time, missed runs collapsed into one: a sweep is idempotent.
    scheduler.add_job(
        sweep_once,
        "interval",
        seconds=SWEEP_EVERY_SECONDS,
        args=(engine, clock, enqueue_route, Outage("scheduler")),
        id="requeue-unrouted",
        max_instances=1,
        coalesce=True,
    )
    scheduler.start()
    return scheduler
