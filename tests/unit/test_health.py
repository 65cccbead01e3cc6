"""Supervision and health on the twins: a role that ends unasked is named and halts the
process; /healthz, /readyz and /metrics answer over real HTTP; `xinfang health` turns the
answer into an exit code."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from dispatcher.bootstrap import health
from dispatcher.bootstrap.app import App
from dispatcher.bootstrap.roles import ROLES, RunningRoles
from dispatcher.cli import main


@pytest.fixture
def running(app: App) -> Iterator[RunningRoles]:
    roles = RunningRoles(app).start(set(ROLES))
    assert roles.wait_ready()
    yield roles
    roles.stop()


@pytest.fixture
def served(app: App, running: RunningRoles) -> Iterator[str]:
    server = health.serve(
        0,
        app.metrics.registry,
        host="127.0.0.1",
        live=lambda: health.liveness(running.status(), running.failure()),
        ready=lambda: health.readiness(
            running.status(), running.failure(), health.database_state(app.engine)
        ),
    )
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_every_role_is_alive_and_ready_once_started(running: RunningRoles) -> None:
    assert set(running.status()) >= set(ROLES)
    assert all(state == {"alive": True, "ready": True} for state in running.status().values())
    assert running.failure() is None and not running.halted.is_set()


def test_a_role_thread_that_ends_unasked_halts_the_process_naming_it(running: RunningRoles) -> None:
    def crash() -> None:
        raise TypeError("Strings must be encoded before hashing")

    thread = running._thread("intake-copy", crash)
    thread.join(10)
    assert running.halted.is_set()
    assert running.failure() == (
        "role intake-copy stopped unexpectedly: TypeError: Strings must be encoded before hashing"
    )


def test_a_dead_role_fails_liveness_and_its_gauge_drops(app: App, running: RunningRoles) -> None:
    intake = next(role for role in running.roles if role.name == "intake")
    stopper = threading.Event()
    intake.alive = lambda: stopper.is_set()  # as if its thread had died
    assert running.failure() == "role intake stopped unexpectedly"
    report = health.liveness(running.status(), running.failure())
    assert not report.ok and report.checks["intake"] == "dead"
    assert app.metrics.registry.get_sample_value("xinfang_role_up", {"role": "intake"}) == 0


def test_probes_and_metrics_over_http(served: str) -> None:
    status, body = get(served + "/healthz")
    assert status == 200 and json.loads(body)["checks"]["intake"] == "alive"
    status, body = get(served + "/readyz")
    assert status == 200, body
    assert {"intake": "ready", "database": "ok"}.items() <= json.loads(body)["checks"].items()
    status, body = get(served + "/metrics")
    assert status == 200 and b'xinfang_role_up{role="intake"} 1.0' in body


def test_readiness_fails_on_a_database_behind_the_schema(app: App, served: str) -> None:
    from dispatcher.adapters.db import schema

    schema.downgrade(app.engine, "0003")
    status, body = get(served + "/readyz")
    assert status == 503
    assert json.loads(body)["checks"]["database"].startswith("schema at 0003, needs")
    schema.upgrade(app.engine)
    assert get(served + "/readyz")[0] == 200


def test_xinfang_health_exits_0_when_ready_and_1_when_not(
    served: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as ready:
        main(["health", "--url", served])
    assert ready.value.code == 0 and capsys.readouterr().out.startswith("ok: ")
    with pytest.raises(SystemExit) as nobody:
        main(["health", "--url", "http://127.0.0.1:9", "--timeout", "2"])
    out = capsys.readouterr().out
    assert nobody.value.code == 1 and "no answer" in out and len(out.splitlines()) == 1


def test_xinfang_health_without_a_port_says_so_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("XINFANG_METRICS_PORT", raising=False)
    with pytest.raises(SystemExit) as exited:
        main(["health"])
    err = capsys.readouterr().err
    assert exited.value.code == 1 and "XINFANG_METRICS_PORT" in err
    assert len(err.strip().splitlines()) == 1
