"""Fault injection: cases keep arriving from a foreign producer while the roles are SIGKILLed
and restarted, RabbitMQ closes every connection twice and restarts its application once, and
PostgreSQL terminates every session once. Afterwards every valid case is registered once and
routed once, every malformed message is dead-lettered, every event reached a subscriber that
was bound before start-up, and `xinfang.intake` is empty and still consumed.

Runs `xinfang run` (every role in one process) and the roles as separate processes.
`python -m bench.faults` runs the same at 10,000 cases or more.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from contract.malformed import MALFORMED
from support import valid_cases, wait_for

from faults import fleet

pytestmark = pytest.mark.faults

Step = tuple[float, str, Callable[[], object]]


@pytest.fixture
def stack(amqp_url: str, amqp_vhost: str, pg_url: str, tmp_path: Path) -> Iterator[fleet.Stack]:
    stack = fleet.Stack(amqp_url, amqp_vhost, pg_url, tmp_path)
    stack.upgrade()
    fleet.declare_subscriber(amqp_url)
    yield stack


def run_under_faults(
    stack: fleet.Stack,
    roles: list[str],
    cases: int,
    seed: int,
    schedule: Callable[[fleet.Stack, fleet.Supervisor], list[Step]],
) -> None:
    batch = valid_cases(cases, seed=seed)
    tag = uuid.uuid4().hex[:6]  # cases of this run only
    for case in batch:
        case["external_id"] = f"{case['external_id']}-{tag}"
    messages = fleet.messages_for(batch) + fleet.malformed_messages(MALFORMED)
    engine = stack.engine()
    with fleet.fleet(stack, roles) as supervisor:
        producer = fleet.Producer(stack.amqp_url, messages)
        producer.start()
        for share, what, fault in schedule(stack, supervisor):
            fleet.wait_progress(engine, int(cases * share), f"{share:.0%} registered before {what}")
            fault()
        producer.join(timeout=600)
        assert producer.error is None and producer.sent == len(messages)
        wait_for(
            lambda: fleet.settled(engine, stack.amqp_url, cases),
            f"all {cases} cases routed, outbox empty, intake drained",
            timeout=600,
        )
        result = fleet.outcome(engine, stack.amqp_url)
        assert fleet.rejected_bodies(stack.amqp_url) == {bad.body for bad in MALFORMED}
    exits = {process.name: process.exits for process in supervisor.processes}
    logs = "\n".join(
        path.read_text("utf-8", "replace")[-3000:] for path in stack.logs.glob("*.log")
    )
    assert result.cases == cases, logs
    assert result.registered_once and result.routed_once, result
    assert result.events_missing == 0, result
    assert result.intake_depth == 0 and result.intake_consumers >= 1, result
    assert all(code == -9 for codes in exits.values() for code in codes), (exits, logs)
    engine.dispose()


def _kill(supervisor: fleet.Supervisor, name: str) -> Callable[[], object]:
    return lambda: supervisor.kill(name)


def one_process(stack: fleet.Stack, supervisor: fleet.Supervisor) -> list[Step]:
    engine = stack.engine()
    return [
        (0.10, "SIGKILL", _kill(supervisor, "run")),
        (0.25, "closing all connections", lambda: fleet.close_all_connections(stack)),
        (
            0.40,
            "terminating database sessions",
            lambda: fleet.terminate_database_sessions(stack, engine),
        ),
        (0.50, "SIGKILL again", _kill(supervisor, "run")),
        (0.65, "closing all connections again", lambda: fleet.close_all_connections(stack)),
        (0.80, "restarting RabbitMQ", fleet.restart_broker_app),
    ]


def separate_roles(stack: fleet.Stack, supervisor: fleet.Supervisor) -> list[Step]:
    engine = stack.engine()
    return [
        (0.10, "SIGKILL of intake", _kill(supervisor, "intake")),
        (0.20, "SIGKILL of the worker", _kill(supervisor, "worker")),
        (0.30, "closing all connections", lambda: fleet.close_all_connections(stack)),
        (0.40, "SIGKILL of intake again", _kill(supervisor, "intake")),
        (
            0.50,
            "terminating database sessions",
            lambda: fleet.terminate_database_sessions(stack, engine),
        ),
        (0.60, "SIGKILL of the worker again", _kill(supervisor, "worker")),
        (0.70, "closing all connections again", lambda: fleet.close_all_connections(stack)),
        (0.80, "restarting RabbitMQ", fleet.restart_broker_app),
    ]


def test_xinfang_run_under_faults(stack: fleet.Stack) -> None:
    run_under_faults(stack, ["run"], 1200, 31, one_process)


def test_separate_roles_under_faults(stack: fleet.Stack) -> None:
    run_under_faults(stack, ["intake", "worker", "relay", "scheduler"], 800, 32, separate_roles)
