"""The pipeline's metrics: names and labels, what the services count (routing by district,
escalation steps, notifications), dramatiq's actor metrics beside xinfang's, the process's own
gauges, and prometheus_client's multiprocess mode summing several processes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from dispatcher.adapters.db import ladder_store
from dispatcher.adapters.db.tables import escalations, notifications
from dispatcher.adapters.notify.memory import MemorySender
from dispatcher.bootstrap.app import App
from dispatcher.domain.clock import FixedClock
from dispatcher.domain.notifications import Channel
from dispatcher.services.intake import Registered
from dispatcher.services.notifications import Deliveries
from monitoring.collector import KpiCollector, OutboxCollector
from monitoring.metrics import BUILD_INFO, ROLE_UP, SYSTEM_GAUGES, Metrics, district
from workers.actors import ROUTE_QUEUE

ROOT = Path(__file__).resolve().parents[2]
BOUNDED_LABELS = {
    "channel",
    "reason",
    "kind",
    "outcome",
    "org_kind",
    "district",
    "type",
    "consumer",
    "stage",
    "level",
    "role",
    "version",
    "python",
    "kpi",
    "clock",
}
ACTOR_LABELS = {"queue_name", "actor_name"}  # dramatiq's: a queue, an actor of ours
MakeCase = Callable[..., dict[str, Any]]


def _registered(app: App, message: dict[str, Any], encode: Callable[..., bytes]) -> str:
    outcome = app.intake.receive(encode(message), "application/json", "case.phone")
    assert isinstance(outcome, Registered), outcome
    return outcome.case_id


def _samples(metrics: Metrics, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in metrics.registry.collect()
        for sample in family.samples
        if sample.name == name
    }


def test_every_metric_is_prefixed_and_labelled_only_by_bounded_enumerations() -> None:
    families = list(Metrics().registry.collect())
    names = [family.name for family in families] + [gauge.name for gauge in SYSTEM_GAUGES]
    assert all(name.startswith("xinfang_") for name in names), names
    assert len(names) == len(set(names))
    labels = {label for gauge in SYSTEM_GAUGES for label in gauge.labels}
    for family in families:
        for sample in family.samples:
            labels |= set(sample.labels) - {"le"}
    assert labels <= BOUNDED_LABELS, labels - BOUNDED_LABELS


def test_a_district_is_the_first_six_digits_of_a_region_code() -> None:
    assert [district(code) for code in ("500103", "500103001", "500103001002")] == ["500103"] * 3


def test_routing_counts_the_outcome_by_department_kind_and_district(
    app: App, make_case: MakeCase, encode: Callable[..., bytes]
) -> None:
    assigned = _registered(app, make_case(region="500103001"), encode)
    vague = make_case(region="500112", title="感谢信", content="感谢工作人员。", drop=("category",))
    triaged = _registered(app, vague, encode)
    app.routing.route_many([assigned, triaged])

    assert _samples(app.metrics, "xinfang_cases_routed_total") == {
        (("district", "500103"), ("org_kind", "housing"), ("outcome", "assigned")): 1.0,
        (("district", "500112"), ("org_kind", "petition_bureau"), ("outcome", "triage")): 1.0,
    }
    latency = _samples(app.metrics, "xinfang_dispatch_latency_seconds_count")
    assert latency == {(("channel", "phone"),): 1.0}  # the assigned one only


def test_escalation_steps_and_skipped_notifications_are_counted_as_recorded(
    app: App, clock: FixedClock, make_case: MakeCase, encode: Callable[..., bytes]
) -> None:
    case_id = _registered(app, make_case(), encode)
    app.routing.route(case_id)
    clock.advance(timedelta(days=60))  # far past the acceptance period: every step is due

    taken = app.escalations.sweep(clock())

    with app.engine.connect() as conn:
        steps = conn.execute(
            select(escalations.c.kind, escalations.c.level, func.count()).group_by(
                escalations.c.kind, escalations.c.level
            )
        ).all()
        skipped = conn.execute(
            select(notifications.c.channel, func.count())
            .where(notifications.c.status == "skipped")
            .group_by(notifications.c.channel)
        ).all()
    assert taken and len(taken) == sum(count for *_, count in steps)
    assert {(("kind", k), ("level", lv)): float(n) for k, lv, n in steps} == _samples(
        app.metrics, "xinfang_escalation_steps_total"
    )
    assert {"city"} < {level for _, level, _ in steps}  # listed: the parent region's leaders
    assert skipped, "no SMTP here: the e-mails are recorded as skipped"
    assert {(("channel", c), ("outcome", "skipped")): float(n) for c, n in skipped} == _samples(
        app.metrics, "xinfang_notifications_total"
    )
    assert app.escalations.sweep(clock()) == []  # nothing taken twice, nothing counted twice
    assert sum(_samples(app.metrics, "xinfang_escalation_steps_total").values()) == len(taken)


def test_deliveries_count_sent_retry_and_failed_by_channel(
    app: App, clock: FixedClock, make_case: MakeCase, encode: Callable[..., bytes]
) -> None:
    case_id = _registered(app, make_case(), encode)
    app.routing.route(case_id)
    clock.advance(timedelta(days=60))
    pending = [n for step in app.escalations.sweep(clock()) for n in step.notifications]
    assert len(pending) >= 3
    sender = MemorySender()
    deliveries = Deliveries(
        app.engine,
        ladder_store,
        {Channel.WEBHOOK: sender, Channel.EMAIL: sender},
        clock,
        max_attempts=2,
        metrics=app.metrics,
    )
    sender.fail_next(1)  # retryable: another attempt is due
    sender.fail_next(1, retryable=False)  # failed for good
    for notification_id in pending:
        deliveries.deliver(notification_id)

    counted = _samples(app.metrics, "xinfang_notifications_total")
    webhook = {
        outcome: counted.get((("channel", "webhook"), ("outcome", outcome)), 0.0)
        for outcome in ("sent", "retry", "failed")
    }
    assert webhook == {"sent": len(pending) - 2, "retry": 1.0, "failed": 1.0}


def test_role_states_and_the_build_are_gauges_of_this_process() -> None:
    metrics = Metrics()
    up = {"intake": True, "worker": False}
    for role in up:
        metrics.role_up.watch(role, lambda role=role: up[role])
    registry = metrics.registry
    assert registry.get_sample_value(ROLE_UP.name, {"role": "intake"}) == 1
    assert registry.get_sample_value(ROLE_UP.name, {"role": "worker"}) == 0
    up["worker"] = True  # asked again at each scrape
    assert registry.get_sample_value(ROLE_UP.name, {"role": "worker"}) == 1
    (build,) = [s for f in registry.collect() if f.name == BUILD_INFO.name for s in f.samples]
    assert build.value == 1 and build.labels["version"] == "0.1.0"


def test_dramatiqs_actor_metrics_are_served_with_xinfangs(
    app: App, make_case: MakeCase, encode: Callable[..., bytes]
) -> None:
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ  # dramatiq's boot left it as it was
    _route_by_actor(app, _registered(app, make_case(), encode))
    labels = {"queue_name": ROUTE_QUEUE, "actor_name": "xinfang.route"}
    registry = app.metrics.exposition()
    assert registry.get_sample_value("dramatiq_messages_total", labels) == 1
    assert registry.get_sample_value("dramatiq_message_errors_total", labels) in (None, 0)
    assert registry.get_sample_value("dramatiq_message_duration_milliseconds_count", labels) == 1
    for family in registry.collect():
        if family.name.startswith("dramatiq_"):
            assert {k for s in family.samples for k in s.labels} - {"le"} <= ACTOR_LABELS


def _route_by_actor(app: App, case_id: str) -> None:
    worker = app.worker()
    worker.start()
    try:
        app.actors.route.send(case_id)
        app.broker.join(ROUTE_QUEUE, timeout=30_000)
        worker.join()
    finally:
        worker.stop()


# -- multiprocess mode, in processes of their own (the mode is chosen when one starts) -----

_COUNT = """
import sys
from monitoring.metrics import MULTIPROCESS_DIRECTORY, Metrics
from workers.broker import actor_metrics, make_broker
assert MULTIPROCESS_DIRECTORY is not None
metrics, broker = Metrics(), make_broker(None)
for _ in range(int(sys.argv[1])):
    metrics.case_received("phone")
    actor_metrics(broker).total_messages.labels("xinfang.route", "xinfang.route").inc()
metrics.escalation_step("listed", "city")
import os
print(os.environ["PROMETHEUS_MULTIPROC_DIR"])
"""

_SERVE = """
import sys
from prometheus_client import generate_latest
from monitoring.metrics import Metrics
metrics = Metrics()
metrics.role_up.watch("worker", lambda: True)
print(generate_latest(metrics.exposition(aggregate=sys.argv[1] == "aggregate")).decode())
"""


def _python(script: str, directory: Path, *args: str) -> str:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _parsed(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_multiprocess_mode_serves_the_sum_of_every_process_once(tmp_path: Path) -> None:
    directory = tmp_path / "metrics"
    for count in ("3", "4"):  # two processes, one after the other, each with its own files
        assert _python(_COUNT, directory, count).strip() == str(directory)
    files = sorted(path.name for path in directory.iterdir())
    assert len([name for name in files if name.startswith("counter_")]) == 2, files

    summed = _parsed(_python(_SERVE, directory, "aggregate"))
    assert summed[("xinfang_cases_received_total", (("channel", "phone"),))] == 7
    assert summed[("xinfang_escalation_steps_total", (("kind", "listed"), ("level", "city")))] == 2
    actor = (("actor_name", "xinfang.route"), ("queue_name", "xinfang.route"))
    assert summed[("dramatiq_messages_total", actor)] == 7
    assert summed[("xinfang_role_up", (("role", "worker"),))] == 1

    alone = _parsed(_python(_SERVE, directory, "own"))
    assert not [name for name, _ in alone if name.startswith(("xinfang_cases", "dramatiq_"))]
    assert alone[("xinfang_role_up", (("role", "worker"),))] == 1  # its own state only
    assert (
        "xinfang_build_info",
        (("python", sys.version.split()[0]), ("version", "0.1.0")),
    ) in alone


def test_without_multiprocess_mode_a_process_serves_its_own_registry() -> None:
    metrics = Metrics()
    metrics.case_received("online")
    text = generate_latest(metrics.exposition()).decode()
    assert 'xinfang_cases_received_total{channel="online"} 1.0' in text
    assert metrics.exposition() is metrics.registry


def test_the_routed_counter_keeps_one_series_per_district_not_per_region(
    app: App, make_case: MakeCase, encode: Callable[..., bytes]
) -> None:
    ids = [_registered(app, make_case(region=code), encode) for code in ("500103001", "500103002")]
    app.routing.route_many(ids)
    routed = _samples(app.metrics, "xinfang_cases_routed_total")
    assert list(routed.values()) == [2.0]


def test_promtool_finds_nothing_to_lint_in_xinfangs_exposition(
    app: App, clock: FixedClock, make_case: MakeCase, encode: Callable[..., bytes]
) -> None:
    """Every kind of sample present: counted, observed, read from the database. The one finding
    allowed is dramatiq's histogram, which dramatiq names in milliseconds."""
    _route_by_actor(app, _registered(app, make_case(), encode))
    clock.advance(timedelta(days=60))
    app.escalations.sweep(clock())
    app.metrics.case_rejected("json")
    app.metrics.role_up.watch("intake", lambda: True)
    system = [KpiCollector(app.engine, clock), OutboxCollector(app.engine, clock)]
    exposition = generate_latest(app.metrics.exposition(system, aggregate=True)).decode()
    assert "xinfang_overdue_cases{" in exposition and "dramatiq_messages_total" in exposition
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: apt-get install prometheus (.ci/run does)"
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=exposition, capture_output=True, text=True, timeout=60
    )
    findings = [line for line in (checked.stdout + checked.stderr).splitlines() if line.strip()]
    # promtool lints (and so parsed) it all; dramatiq's histogram is all it has to say.
    assert findings, checked
    assert all(line.startswith("dramatiq_message_duration_milliseconds") for line in findings)
