"""The scheduler role (APScheduler): periodic work that keeps the pipeline whole.

- Escalation: every minute, the clocks past a ladder step are found with one indexed query
  and an escalation is enqueued for each; the actor claims each step once.
- Notifications: a notification still pending some minutes after its attempt was due lost
  its message (or its worker): it is enqueued again. Delivery claims it once.
- Routing: a case still `registered` some minutes after registration lost its route message
  (say, the broker refused it for longer than dramatiq's retries lasted): routing is enqueued
  again. Routing is idempotent, so a case that was merely slow is not routed twice.
- Re-planning: at start, if the ladders, policies, calendar or directory changed since the
  index was last planned, every open clock's ladder is planned again from its history.

Every job is idempotent; several schedulers may run at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, select

from dispatcher.adapters.db.tables import cases
from dispatcher.adapters.outage import Outage, service_of
from dispatcher.domain.clock import Clock
from dispatcher.domain.clocks import SHANGHAI
from dispatcher.domain.stages import Stage
from dispatcher.domain.wording import plural
from dispatcher.services.escalation import Escalations
from dispatcher.services.notifications import Deliveries

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
            "re-enqueued routing for %s waiting since before %s",
            plural(len(waiting), "case"),
            cutoff.isoformat(),
        )
    return len(waiting)


def enqueue_escalations(
    escalations: Escalations,
    clock: Clock,
    enqueue: Callable[[str, str, datetime], object],
) -> int:
    """Enqueue an escalation for every clock past a ladder step now; returns how many."""
    now = clock()
    due = escalations.due(now, BATCH)
    for case_id, clock_name in due:
        enqueue(case_id, clock_name, now)
    return len(due)


def requeue_notifications(
    deliveries: Deliveries,
    clock: Clock,
    enqueue: Callable[[str], object],
    stale_after: timedelta = STALE_AFTER,
) -> int:
    due = deliveries.due(clock() - stale_after, BATCH)
    for notification_id in due:
        enqueue(notification_id)
    if due:
        log.warning("re-enqueued %s whose attempt was overdue", plural(len(due), "notification"))
    return len(due)


def guarded(job: Callable[[], int], outage: Outage) -> int:
    """One run of a job. The broker or database away is an outage, told once and tried again
    at the next run (what was not enqueued is still found then); anything else is a bug."""
    try:
        done = job()
    except Exception as error:
        service = service_of(error)
        if service is None:
            raise
        outage.failed(service, error)
        return 0
    outage.recovered()
    return done


def sweep_once(
    engine: Engine, clock: Clock, enqueue_route: Callable[[str], object], outage: Outage
) -> int:
    return guarded(lambda: requeue_unrouted(engine, clock, enqueue_route), outage)


def start_scheduler(
    jobs: dict[str, Callable[[], int]], startup: Callable[[], object] | None = None
) -> BackgroundScheduler:
    """Run each job every minute: one run at a time, missed runs collapsed into one."""
    scheduler = BackgroundScheduler(timezone=SHANGHAI)
    for name, job in jobs.items():
        scheduler.add_job(
            guarded,
            "interval",
            seconds=SWEEP_EVERY_SECONDS,
            args=(job, Outage(f"scheduler {name}")),
            id=name,
            max_instances=1,
            coalesce=True,
        )
    if startup is not None:
        scheduler.add_job(startup, id="startup", max_instances=1)  # once, now
    scheduler.start()
    return scheduler
