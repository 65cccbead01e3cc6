"""Fixtures for unit tests: only the in-memory twins (SQLite in tmp_path, kombu memory://,
dramatiq StubBroker, a fixed clock, a fresh metrics registry). No services, no sleeping."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from in_process import Xinfang, in_process
from kombu.transport import memory
from support import PETITIONER, phone_case

from dispatcher.adapters.db import schema
from dispatcher.adapters.messaging import topology
from dispatcher.bootstrap.app import App, build, make_engine
from dispatcher.bootstrap.settings import Settings
from dispatcher.domain.clock import FixedClock
from monitoring.metrics import Metrics

# 2026-05-26 10:00 in Chongqing (UTC+8): half an hour after the cases below were received.
NOW = datetime(2026, 5, 26, 2, 0, tzinfo=UTC)


# Queues the unit tests themselves bind on the memory transport (beside xinfang's own).
TEST_QUEUES = ("test.events",)


def _forget_memory_queues() -> None:
    """kombu's memory transport keeps queues and bindings in class-level state shared by the
    whole process: delete ours so that no test sees another's messages."""
    names = (topology.INTAKE_QUEUE.name, topology.REJECTED_QUEUE.name, *TEST_QUEUES)
    for name in names:
        memory.Channel.queues.pop(name, None)
        memory.Transport.global_state.queue_bindings_delete(name)


@pytest.fixture
def memory_queues() -> Iterator[None]:
    _forget_memory_queues()
    yield
    _forget_memory_queues()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A SQLite file upgraded to the head schema revision."""
    url = f"sqlite:///{tmp_path / 'xinfang.db'}"
    engine = make_engine(url)
    try:
        schema.upgrade(engine)
    finally:
        engine.dispose()
    return url


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Repeat and collective linking off: the cases of make_case() share one petitioner and
    # matter on purpose. tests/unit/test_repeats_service.py turns it on.
    return Settings(
        broker_url=None,
        database_url=database_url,
        rules_path=None,
        directory_path=None,
        worker_threads=2,
        relay_interval_seconds=0.01,
        repeat_window_days=0,
        collective_window_days=0,
    )


@pytest.fixture
def app(
    settings: Settings, clock: FixedClock, metrics: Metrics, memory_queues: None
) -> Iterator[App]:
    built = build(settings, clock=clock, metrics=metrics)
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def make_case() -> Callable[..., dict[str, Any]]:
    """A factory of valid contract-v1 messages: keyword arguments replace fields, `drop` names
    fields to leave out. Each call gets a new external_id unless one is given."""
    numbers = itertools.count(1)

    def make(*, drop: tuple[str, ...] = (), **fields: Any) -> dict[str, Any]:
        message = phone_case(fields.pop("external_id", f"HL20260526{next(numbers):06d}"), **fields)
        for key in drop:
            message.pop(key, None)
        return message

    return make


@pytest.fixture
def encode() -> Callable[[dict[str, Any]], bytes]:
    def to_bytes(message: dict[str, Any]) -> bytes:
        return json.dumps(message, ensure_ascii=False).encode("utf-8")

    return to_bytes


@pytest.fixture
def assert_no_identity() -> Callable[[Any], None]:
    """Fails if any petitioner identity value occurs in the (JSON-serialised) argument."""

    def check(thing: Any) -> None:
        text = (
            thing if isinstance(thing, str) else json.dumps(thing, ensure_ascii=False, default=str)
        )
        for field, value in PETITIONER.items():
            assert value not in text, f"petitioner {field} leaked into {text!r}"

    return check


@pytest.fixture
def xinfang_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> Xinfang:
    """Runs `xinfang ARGS` through main() in this process, in tmp_path (tests/in_process.py)."""
    return in_process(monkeypatch, capsys, tmp_path)
