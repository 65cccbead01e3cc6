"""Supervision and health of real processes on RabbitMQ and PostgreSQL: a role that dies
stops the process with exit 1 and a one-line reason; the probes follow the broker going away
and coming back; `xinfang health` is what a compose health check runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import free_port, wait_for

pytestmark = pytest.mark.e2e

XINFANG = [sys.executable, "-m", "dispatcher.cli"]
# The intake consumer's loop fails as a bug in it would: the process must not live on without it.
BROKEN_INTAKE = (
    "import dispatcher.adapters.messaging.consumer as consumer\n"
    "def run(self, *args, **kwargs):\n"
    "    raise TypeError('Strings must be encoded before hashing')\n"
    "consumer.ReliableConsumer.run = run\n"
    "from dispatcher.cli import main\n"
    "main(['intake'])\n"
)


@pytest.fixture
def env(amqp_url: str, pg_url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "XINFANG_BROKER_URL": amqp_url,
        "XINFANG_DATABASE_URL": pg_url,
        "XINFANG_METRICS_PORT": str(free_port()),
        "PYTHONUNBUFFERED": "1",
    }
    upgraded = subprocess.run(
        [*XINFANG, "db", "upgrade"], env=env, capture_output=True, text=True, timeout=120
    )
    assert upgraded.returncode == 0, upgraded.stderr
    return env


def health(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*XINFANG, "health", *args], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def run(env: dict[str, str], tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    log = (tmp_path / "run.log").open("wb")
    process = subprocess.Popen([*XINFANG, "run"], env=env, stdout=log, stderr=subprocess.STDOUT)
    wait_for(
        lambda: health(env).returncode == 0 or process.poll() is not None,
        "xinfang run to be ready",
        timeout=90,
    )
    assert process.poll() is None, (tmp_path / "run.log").read_text()
    yield process
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=90)
    log.close()


def test_a_role_that_dies_stops_the_process_with_exit_1_and_one_line(env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-c", BROKEN_INTAKE], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last == (
        "xinfang: error: role intake stopped unexpectedly: "
        "TypeError: Strings must be encoded before hashing"
    )


def test_probes_follow_the_broker_away_and_back(
    run: subprocess.Popen[bytes], env: dict[str, str], amqp_vhost: str
) -> None:
    ready = health(env)
    assert ready.returncode == 0, ready.stdout
    assert "intake ready" in ready.stdout and "database ok" in ready.stdout
    rabbitmqctl("delete_vhost", amqp_vhost)  # every connection closed, none can come back
    wait_for(lambda: health(env).returncode == 1, "readiness to fail while the broker is away")
    away = health(env)
    assert "intake not ready" in away.stdout, away.stdout
    assert health(env, "--live").returncode == 0  # alive: waiting it out, not dead
    rabbitmqctl("add_vhost", amqp_vhost)
    rabbitmqctl("set_permissions", "-p", amqp_vhost, "guest", ".*", ".*", ".*")
    wait_for(lambda: health(env).returncode == 0, "readiness once the broker is back", timeout=120)
    assert run.poll() is None


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)
