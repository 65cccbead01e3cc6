"""A query code (查询码) issued at the counter, on both twins and real services: a case that came by
phone through the queue gets one, a new one replaces any earlier one (the code a submission
over HTTP drew included), and `xinfang case issue-code` prints it once. Every code is checked
where the petitioner uses it: GET /api/v1/cases/{id}/progress with X-Query-Code."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from in_process import in_process
from ports import Ports
from sqlalchemy import func, select
from support import phone_case, wait_for

from contract.gateway import open_gateway
from dispatcher.adapters.db import store
from dispatcher.adapters.db.tables import events, query_codes
from dispatcher.adapters.http import create_api
from dispatcher.bootstrap.app import App
from dispatcher.domain.errors import CaseNotFound
from dispatcher.domain.events import EventType

CASES = "/api/v1/cases"
ISSUED = EventType.QUERY_CODE_ISSUED.value


@pytest.fixture
def counter(ports: Ports) -> Iterator[tuple[App, TestClient]]:
    """Intake and routing running, as for a case that comes by phone, and the gateway the
    petitioner follows it on."""
    with (
        ports.running({"intake", "worker"}) as (app, _running),
        TestClient(create_api(app)) as client,
    ):
        yield app, client


def opens(client: TestClient, case_id: str, code: str | None) -> bool:
    headers = {"X-Query-Code": code} if code is not None else {}
    answer = client.get(f"{CASES}/{case_id}/progress", headers=headers)
    assert answer.status_code in (200, 404), answer.text
    return answer.status_code == 200


def by_phone(ports: Ports, app: App, external_id: str) -> str:
    """A case published to intake as the hotline's system would; its id once routed."""
    case = phone_case(external_id)
    ports.publish(json.dumps(case, ensure_ascii=False).encode(), "case.phone")

    def routed() -> bool:
        with app.engine.connect() as conn:
            found = store.find_case(conn, case["source"], case["external_id"])
        return found is not None and found[1] != "registered"

    wait_for(routed, "the phone case to be routed", timeout=60)
    with app.engine.connect() as conn:
        found = store.find_case(conn, case["source"], case["external_id"])
    assert found is not None
    return found[0]


def issued_events(app: App, case_id: str) -> list[dict[str, object]]:
    with app.engine.connect() as conn:
        rows = conn.execute(
            select(events.c.data).where(events.c.case_id == case_id, events.c.type == ISSUED)
        )
        return [dict(row.data) for row in rows]


def codes_kept(app: App, case_id: str) -> int:
    with app.engine.connect() as conn:
        query = select(func.count()).select_from(query_codes)
        return int(conn.scalar(query.where(query_codes.c.case_id == case_id)) or 0)


def test_a_phone_case_gets_a_code_and_a_new_one_replaces_it(
    ports: Ports, counter: tuple[App, TestClient], caplog: pytest.LogCaptureFixture
) -> None:
    app, client = counter
    case_id = by_phone(ports, app, "COUNTER-1")
    assert not opens(client, case_id, None) and codes_kept(app, case_id) == 0

    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")
    first = app.petitioners.issue_code(case_id, actor="counter-3")
    assert opens(client, case_id, first)
    second = app.petitioners.issue_code(case_id)
    assert second != first
    assert opens(client, case_id, second) and not opens(client, case_id, first)

    assert codes_kept(app, case_id) == 1
    # The case's history says who issued a code and whether it replaced one; never the code.
    assert issued_events(app, case_id) == [
        {"actor": "counter-3", "replaced": False},
        {"actor": "operator", "replaced": True},
    ]
    history = app.commands.timeline(case_id)
    assert [e["type"] for e in history.events][-2:] == [ISSUED, ISSUED]
    assert history.case["stage"] == "assigned"  # issuing changes nothing of the lifecycle
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert first not in logged and second not in logged


def test_a_new_code_replaces_the_one_an_online_submission_drew(ports: Ports) -> None:
    with open_gateway(ports) as (app, client):
        created = client.post(CASES, json=phone_case("COUNTER-ONLINE"))
        assert created.status_code == 201, created.text
        case_id, drawn = created.json()["case_id"], created.json()["query_code"]
        assert opens(client, case_id, drawn)

        issued = app.petitioners.issue_code(case_id)
        assert opens(client, case_id, issued) and not opens(client, case_id, drawn)
        assert codes_kept(app, case_id) == 1
        assert issued_events(app, case_id) == [{"actor": "operator", "replaced": True}]


def test_an_unknown_case_gets_no_code_and_nothing_is_written(ports: Ports) -> None:
    with ports.running(set()) as (app, _running):
        with pytest.raises(CaseNotFound, match="case nope does not exist"):
            app.petitioners.issue_code("nope")
        with app.engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(query_codes)) == 0
            assert conn.scalar(select(func.count()).select_from(events)) == 0


def test_the_command_prints_the_code_once_and_it_opens_the_case(
    ports: Ports,
    counter: tuple[App, TestClient],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    app, client = counter
    case_id = by_phone(ports, app, "COUNTER-CLI")
    xinfang = in_process(monkeypatch, capsys, tmp_path)
    url = app.settings.database_url

    ran = xinfang("case", "issue-code", case_id, database_url=url)
    assert ran.code == 0, ran.err
    (code,) = ran.lines  # the code alone on stdout, for a script to take
    assert opens(client, case_id, code)
    assert "shown only this once" in ran.err and "replaces any earlier code" in ran.err

    again = xinfang("case", "issue-code", case_id, "--actor", "counter-3", database_url=url)
    assert again.code == 0 and not opens(client, case_id, code)
    assert opens(client, case_id, again.out.strip())

    unknown = xinfang("case", "issue-code", "nope", database_url=url)
    assert unknown.code == 1 and unknown.out == ""
    assert unknown.err_lines == ["xinfang: error: case nope does not exist"]
