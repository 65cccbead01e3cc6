"""A worker killed between taking an escalation step and its notifications going out, on
RabbitMQ and PostgreSQL with a real HTTP endpoint: after the restart every notification
arrives, each under its one webhook-id, and the step happened once.

The endpoint holds the first webhook it receives until the worker has been killed with
SIGKILL: the notifications in flight then were claimed, perhaps received, but never recorded
as sent. The restarted worker finishes the others (RabbitMQ redelivers their messages; the
scheduler's job re-enqueues any lost); once their lease has run out, the ones in flight go
out again under the same webhook-id, the receiver's idempotency key.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from endpoints import SECRET, directory_for
from pytest_httpserver import HTTPServer
from standardwebhooks.webhooks import Webhook
from support import phone_case, wait_for
from werkzeug import Request, Response

from dispatcher.adapters.db import ladder_store, schema
from dispatcher.bootstrap.app import App, build, make_engine
from dispatcher.bootstrap.settings import Settings
from dispatcher.domain.clock import FixedClock
from dispatcher.domain.clocks import SHANGHAI
from dispatcher.services.intake import Registered
from workers.actors import QUEUES
from workers.broker import declare_queue_now
from workers.scheduler import requeue_notifications

pytestmark = pytest.mark.e2e

XINFANG = [sys.executable, "-m", "dispatcher.cli"]
ROUTED = datetime(2026, 5, 26, 10, 0, tzinfo=SHANGHAI)
WARNING = datetime(2026, 6, 8, 9, 0, tzinfo=SHANGHAI)  # the acceptance ladder's 预警


class HoldingEndpoint:
    """Every webhook is verified and recorded; the first one is answered only when released."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.ids: list[str] = []
        self.held = threading.Event()
        self.release = threading.Event()
        server.expect_request(re.compile(r"^/hooks/.*")).respond_with_handler(self._handle)

    def webhook_url(self, path: str) -> str:
        return self.server.url_for(f"/hooks/{path}")

    def _handle(self, request: Request) -> Response:
        Webhook(SECRET).verify(request.get_data(as_text=True), dict(request.headers))
        self.ids.append(request.headers["webhook-id"])
        if not self.held.is_set():
            self.held.set()
            self.release.wait(timeout=60)
        return Response("ok")


@pytest.fixture
def world(pg_url: str, amqp_url: str, httpserver: HTTPServer, tmp_path: Path) -> Iterator[Any]:
    engine = make_engine(pg_url)
    schema.upgrade(engine)
    engine.dispose()
    endpoint = HoldingEndpoint(httpserver)
    settings = Settings(
        broker_url=amqp_url,
        database_url=pg_url,
        rules_path=None,
        directory_path=directory_for(endpoint, tmp_path),  # type: ignore[arg-type]
        repeat_window_days=0,
        collective_window_days=0,
        webhook_secret=SECRET,
        notify_webhook=endpoint.webhook_url("desk"),
    )
    app = build(settings, clock=FixedClock(ROUTED))
    for queue in QUEUES:
        declare_queue_now(app.broker, queue)
    env = {
        **os.environ,
        "XINFANG_BROKER_URL": amqp_url,
        "XINFANG_DATABASE_URL": pg_url,
        "XINFANG_DIRECTORY": str(settings.directory_path),
        "XINFANG_WEBHOOK_SECRET": SECRET,
        "XINFANG_NOTIFY_WEBHOOK": endpoint.webhook_url("desk"),
        "XINFANG_REPEAT_WINDOW_DAYS": "0",
        "XINFANG_COLLECTIVE_WINDOW_DAYS": "0",
    }
    workers: list[subprocess.Popen[bytes]] = []

    def start_worker() -> subprocess.Popen[bytes]:
        log = (tmp_path / f"worker-{len(workers)}.log").open("wb")
        worker = subprocess.Popen([*XINFANG, "worker"], env=env, stdout=log, stderr=log)
        workers.append(worker)
        return worker

    try:
        yield app, endpoint, start_worker
    finally:
        endpoint.release.set()
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                worker.wait(timeout=60)
        app.close()


def _case(app: App) -> str:
    import json

    message = phone_case("CQ-KILL-1")
    body = json.dumps(message, ensure_ascii=False).encode()
    outcome = app.intake.receive(body, "application/json", "case.phone")
    assert isinstance(outcome, Registered)
    app.routing.route(outcome.case_id)
    return outcome.case_id


def _rows(app: App, case_id: str) -> list[dict[str, Any]]:
    with app.engine.connect() as conn:
        return ladder_store.notifications_of(conn, case_id)


def test_a_worker_killed_mid_notification_delivers_each_once_after_restart(world: Any) -> None:
    app, endpoint, start_worker = world
    case_id = _case(app)
    worker = start_worker()
    app.actors.enqueue_escalation(case_id, "acceptance", WARNING)
    wait_for(endpoint.held.is_set, "the first webhook of the step")
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=60)
    endpoint.release.set()

    with app.engine.connect() as conn:
        steps = ladder_store.escalations_of(conn, case_id)
    assert [s["step"] for s in steps] == ["warning"]  # taken, committed, with its rows
    rows = [r for r in _rows(app, case_id) if r["channel"] == "webhook"]  # no SMTP here
    assert len(rows) >= 2
    in_flight = {r["id"] for r in rows if r["status"] == "sending"}
    assert endpoint.ids[0] in in_flight

    start_worker()  # RabbitMQ redelivers what the killed worker held
    # The scheduler's job, as it runs twenty minutes on: a notification whose message was
    # lost with the worker is enqueued again; the held one's lease has run out by then.
    later = datetime.now(UTC) + timedelta(minutes=20)
    requeue_notifications(app.deliveries, lambda: later, app.actors.notify.send)
    wait_for(
        lambda: (
            sum(r["status"] not in {"sent", "skipped"} for r in _rows(app, case_id))
            <= len(in_flight)
        ),
        "the restarted worker to send all but those in flight at the kill",
    )
    # The restarted worker's clock has not reached the lease's end; a sweep as of `later`
    # (`xinfang sweep --now`) takes the held one.
    app.deliveries.deliver_due(later)
    assert {r["status"] for r in _rows(app, case_id) if r["channel"] == "webhook"} == {"sent"}
    assert sorted(set(endpoint.ids)) == sorted(r["id"] for r in rows)  # every one arrived
    twice = {i for i in endpoint.ids if endpoint.ids.count(i) > 1}
    assert twice <= in_flight  # only one in flight at the kill may come again, same id
    assert all(endpoint.ids.count(i) <= 2 for i in endpoint.ids)
    with app.engine.connect() as conn:
        assert len(ladder_store.escalations_of(conn, case_id)) == 1
