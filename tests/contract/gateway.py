"""The HTTP gateway over the app of `ports`, with a producer key for the source of
support.phone_case, sent with every request its client makes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from ports import Ports

from dispatcher.adapters.http import create_api
from dispatcher.bootstrap.app import App

SOURCE = "cq-12345"  # support.phone_case's


@contextmanager
def open_gateway(ports: Ports, **settings: Any) -> Iterator[tuple[App, TestClient]]:
    """The gateway, with a worker to route what it registers; `settings` as Settings'."""
    with (
        ports.running({"worker"}, **settings) as (app, _running),
        TestClient(create_api(app)) as client,
    ):
        client.headers["X-API-Key"] = app.producer_keys.issue(SOURCE, label="tests")
        yield app, client
