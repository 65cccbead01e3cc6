"""Counters are right with several worker processes: two `xinfang worker` processes route the
cases of one `xinfang intake` on the real RabbitMQ and PostgreSQL, all of them writing to one
PROMETHEUS_MULTIPROC_DIR, and `xinfang metrics` serves the sum, equal to what the database
holds. Each worker did part of the work, and no process serves the counters twice."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select, text
from support import free_port, phone_case, publish_raw, wait_for
from xinfang_processes import Xinfang, environment

from dispatcher.adapters.db.tables import cases
from dispatcher.bootstrap.app import make_engine

pytestmark = pytest.mark.integration

CASES = 40
ROUTE = {"queue_name": "xinfang.route", "actor_name": "xinfang.route"}
DISTRICTS = ("500103", "500106", "500112", "500105")


def _cases() -> list[dict[str, Any]]:
    """Distinct petitions on housing (no petitioner: nothing links them to one another)."""
    found = []
    for n in range(CASES):
        case = phone_case(
            f"MP{n:04d}",
            region=DISTRICTS[n % len(DISTRICTS)],
            title=f"第{n}栋楼加装电梯施工受阻",
            content=f"本小区第{n}栋楼加装电梯已获多数业主同意，施工因个别住户阻挠停工，请住建部门协调。",
        )
        del case["petitioner"]
        found.append(case)
    return found


def _samples(exposition: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == name
    }


def _total(exposition: str, name: str, **labels: str) -> float:
    return sum(
        value
        for key, value in _samples(exposition, name).items()
        if set(labels.items()) <= set(key)
    )


def test_two_worker_processes_are_counted_once_each_and_summed(
    migrated_pg_url: str, amqp_url: str, tmp_path: Path
) -> None:
    directory = tmp_path / "prometheus-multiproc"
    env = environment(
        migrated_pg_url,
        amqp_url,
        PROMETHEUS_MULTIPROC_DIR=directory,
        XINFANG_INTAKE_BATCH=1,  # a route message per case: dramatiq's count is known
        XINFANG_WORKER_THREADS=1,  # a small prefetch, so that both workers take some
        XINFANG_RULES_RELOAD=0,
        XINFANG_REPEAT_WINDOW_DAYS=0,
        XINFANG_COLLECTIVE_WINDOW_DAYS=0,
    )
    served = Xinfang(
        ["metrics"],
        environment(migrated_pg_url, PROMETHEUS_MULTIPROC_DIR=directory),
        tmp_path / "metrics.log",
        free_port(),
    )
    workers = [Xinfang(["worker"], env, tmp_path / f"worker-{n}.log", free_port()) for n in (1, 2)]
    intake = Xinfang(["intake"], env, tmp_path / "intake.log", free_port())
    everyone = [served, *workers, intake]
    engine = make_engine(migrated_pg_url)
    try:
        for process in everyone:
            process.wait_ready()
        publish_raw(
            amqp_url,
            [("case.phone", json.dumps(c, ensure_ascii=False).encode()) for c in _cases()],
        )

        def routed() -> int:
            with engine.connect() as conn:
                query = select(func.count()).select_from(cases)
                return int(conn.scalar(query.where(cases.c.stage != "registered")) or 0)

        wait_for(lambda: routed() == CASES, f"{CASES} cases routed by the two workers")
        wait_for(
            lambda: _total(served.metrics(), "xinfang_cases_routed_total") == CASES,
            "the routing counts of both workers in the served sum",
            timeout=30,
        )
        summed = served.metrics()
        with engine.connect() as conn:
            by_district = dict(
                conn.execute(
                    text("SELECT substr(region, 1, 6), count(*) FROM cases GROUP BY 1")
                ).all()
            )
        for district, count in by_district.items():
            assert _total(summed, "xinfang_cases_routed_total", district=district) == count
        assert _total(summed, "xinfang_cases_received_total") == CASES
        handled = _total(summed, "dramatiq_messages_total", **ROUTE)
        assert handled - _total(summed, "dramatiq_message_errors_total", **ROUTE) == CASES

        # Each worker's own file holds part of the work; together, all of it.
        shares = [_routed_in_file(directory, worker) for worker in workers]
        assert all(share > 0 for share in shares), shares
        assert sum(shares) == CASES

        # A worker serves its state on its port, not the counters the metrics role sums.
        own = workers[0].metrics()
        assert _total(own, "xinfang_role_up", role="worker") == 1
        assert "xinfang_cases_routed_total" not in own and "dramatiq_messages_total" not in own
    finally:
        codes = [process.stop() for process in everyone]
        engine.dispose()
    assert codes == [0] * len(everyone), [p.text()[-2000:] for p in everyone]


def _routed_in_file(directory: Path, worker: Xinfang) -> float:
    """The routing counted by one process, from its own counter file."""
    process = f"{socket.gethostname()}-{worker.process.pid}".replace("_", "-")
    (path,) = directory.glob(f"counter_{process}.db")
    return sum(
        sample.value
        for metric in MultiProcessCollector.merge([str(path)])
        for sample in metric.samples
        if sample.name == "xinfang_cases_routed_total"
    )
