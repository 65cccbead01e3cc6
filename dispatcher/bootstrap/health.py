"""Liveness and readiness of a running xinfang process, served beside its metrics.

- `/healthz` (live): every role's thread runs. A failing probe means: restart the process.
- `/readyz` (ready): live, every role reaches what it needs (consuming, connected), the
  database answers and its schema is the one this version needs. A failing probe means: do not
  count on this process now.
- `/metrics` (and `/`): the Prometheus exposition of the process's registry.

Answers are JSON with one entry per check, status 200 or 503.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app
from sqlalchemy import Engine, text

from dispatcher.adapters.db import schema

RoleStatus = Mapping[str, Mapping[str, bool]]


@dataclass(frozen=True)
class Report:
    ok: bool
    checks: dict[str, str]

    def as_json(self) -> bytes:
        return json.dumps(
            {"status": "ok" if self.ok else "failing", "checks": self.checks}, ensure_ascii=False
        ).encode("utf-8")


def liveness(roles: RoleStatus, failure: str | None) -> Report:
    checks = {name: "alive" if state["alive"] else "dead" for name, state in roles.items()}
    if failure:
        checks["process"] = failure
    return Report(failure is None and all(state["alive"] for state in roles.values()), checks)


def readiness(roles: RoleStatus, failure: str | None, database: str) -> Report:
    checks = {name: _role_word(state) for name, state in roles.items()}
    checks["database"] = database
    if failure:
        checks["process"] = failure
    ok = failure is None and database == "ok" and all(state["ready"] for state in roles.values())
    return Report(ok, checks)


def _role_word(state: Mapping[str, bool]) -> str:
    if not state["alive"]:
        return "dead"
    return "ready" if state["ready"] else "not ready"


@cache
def _head() -> str:
    return schema.head_revision()


def database_state(engine: Engine) -> str:
    """'ok', or in a few words why the database cannot serve this process."""
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        revision = schema.current_revision(engine)
    except Exception as error:  # any failure to reach it is the answer, not a crash
        return f"unreachable ({type(error).__name__})"
    if revision != _head():
        return f"schema at {revision or 'none'}, needs {_head()}"
    return "ok"


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # probes every few seconds
        pass


def serve(
    port: int,
    registry: CollectorRegistry,
    live: Callable[[], Report],
    ready: Callable[[], Report],
    host: str = "",
) -> WSGIServer:
    """Serve metrics and probes on `port` in a daemon thread; returns the server."""
    metrics_app = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        probe = {"/healthz": live, "/readyz": ready}.get(environ.get("PATH_INFO", ""))
        if probe is None:
            return metrics_app(environ, start_response)
        report = probe()
        start_response(
            "200 OK" if report.ok else "503 Service Unavailable",
            [("Content-Type", "application/json")],
        )
        return [report.as_json()]

    server = make_server(host, port, app, server_class=_Server, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="xinfang-http", daemon=True).start()
    return server
