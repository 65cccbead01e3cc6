"""The console over HTTP (httpx through FastAPI's TestClient, on https so that its Secure
cookies travel), on SQLite and the in-process broker and on PostgreSQL and RabbitMQ: logging in,
what each officer sees (a department its own cases, a bureau its region and below, 403
otherwise), the petitioner's identity shown to the handling unit only and every look at it in
the audit trail, actions with their CSRF token, the overdue board and the KPI page."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from ports import Ports
from sqlalchemy import select
from support import PETITIONER, phone_case, wait_for

from dispatcher.adapters.db import console_store
from dispatcher.adapters.db.tables import audit_log, cases, console_users
from dispatcher.adapters.http import create_api
from dispatcher.adapters.http.console import SESSION_COOKIE
from dispatcher.adapters.passwords import Argon2Passwords
from dispatcher.bootstrap.app import App
from dispatcher.domain.access import Officer, Role
from dispatcher.domain.clock import FixedClock
from dispatcher.services.console import new_user

START = datetime.fromisoformat("2026-05-26T10:00:00+08:00")
PASSWORD = "correct horse battery"
HOUSING = "500103:housing"  # where the rules send phone_case (渝中区住房和城乡建设委员会)
OFFICERS = {
    "housing": Officer("housing", "渝中区住建委", Role.DEPARTMENT, HOUSING, "500103"),
    "transport": Officer(
        "transport", "渝中区交通局", Role.DEPARTMENT, "500103:transport", "500103"
    ),
    "yuzhong": Officer("yuzhong", "渝中区信访办", Role.BUREAU, None, "500103"),
    "city": Officer("city", "重庆市信访办", Role.BUREAU, None, "500100"),
    "wanzhou": Officer("wanzhou", "万州区信访办", Role.BUREAU, None, "500101"),
}


class _HashedOnce(Argon2Passwords):
    """argon2 takes its time by design: the officers' one password is hashed once."""

    def __init__(self) -> None:
        super().__init__()
        self._hashed = super().hash(PASSWORD)

    def hash(self, password: str) -> str:
        return self._hashed if password == PASSWORD else super().hash(password)


HASHED = _HashedOnce()


@dataclass
class Console:
    app: App
    clock: FixedClock
    client: TestClient
    case_id: str

    def log_in(self, username: str, password: str = PASSWORD) -> httpx.Response:
        self.client.cookies.clear()
        token = csrf_of(self.client.get("/console/login").text)
        form = {"username": username, "password": password, "csrf": token}
        return self.client.post("/console/login", data=form, follow_redirects=False)

    def act(self, action: str, **fields: str) -> httpx.Response:
        page = self.client.get(f"/console/cases/{self.case_id}")
        form = {"csrf": csrf_of(page.text), **fields}
        url = f"/console/cases/{self.case_id}/actions/{action}"
        return self.client.post(url, data=form, follow_redirects=False)

    def stage(self) -> str:
        with self.app.engine.connect() as conn:
            return str(conn.scalar(select(cases.c.stage).where(cases.c.case_id == self.case_id)))

    def audit(self, action: str) -> list[str]:
        with self.app.engine.connect() as conn:
            rows = conn.execute(
                select(audit_log.c.username).where(
                    audit_log.c.case_id == self.case_id, audit_log.c.action == action
                )
            )
            return [row.username for row in rows]


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


@pytest.fixture
def console(ports: Ports) -> Iterator[Console]:
    clock = FixedClock(START)
    with ports.running({"worker"}, clock=clock) as (app, _running):
        body = json.dumps(phone_case("console-1"), ensure_ascii=False).encode()
        case_id = app.petitioners.submit(body, "application/json").case_id  # type: ignore[union-attr]
        wait_for(lambda: _stage(app, case_id) == "assigned", "the case to be routed", 60)
        with app.engine.begin() as conn:
            for officer in OFFICERS.values():
                row = new_user(HASHED, officer.username, PASSWORD, officer, START)
                console_store.insert_user(conn, row)
        with TestClient(create_api(app), base_url="https://testserver") as client:
            yield Console(app, clock, client, case_id)


def _stage(app: App, case_id: str) -> str | None:
    with app.engine.connect() as conn:
        return conn.scalar(select(cases.c.stage).where(cases.c.case_id == case_id))


def test_a_wrong_password_or_an_unknown_user_logs_no_one_in(console: Console) -> None:
    for username, password in (("housing", "wrong password!"), ("nobody", PASSWORD)):
        answer = console.log_in(username, password)
        assert answer.status_code == 401
        assert "用户名或密码不正确" in answer.text
        assert console.client.get("/console/cases", follow_redirects=False).status_code == 303


def test_passwords_are_kept_as_argon2_hashes_only(console: Console) -> None:
    with console.app.engine.connect() as conn:
        hashes = conn.scalars(select(console_users.c.password_hash)).all()
    assert len(hashes) == len(OFFICERS)
    assert all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)


def test_the_session_cookie_is_httponly_secure_and_lax(console: Console) -> None:
    answer = console.log_in("housing")
    assert answer.status_code == 303
    cookie = next(v for k, v in answer.headers.multi_items() if k == "set-cookie")
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "httponly" in cookie.lower() and "secure" in cookie.lower()
    assert "samesite=lax" in cookie.lower()


def test_a_login_without_its_csrf_token_is_refused(console: Console) -> None:
    form = {"username": "housing", "password": PASSWORD}
    answer = console.client.post("/console/login", data=form, follow_redirects=False)
    assert answer.status_code == 403
    assert console.client.get("/console/cases", follow_redirects=False).status_code == 303


def test_the_handling_unit_sees_its_case_and_the_petitioner_and_the_look_is_audited(
    console: Console,
) -> None:
    console.log_in("housing")
    listed = console.client.get("/console/cases")
    assert console.case_id in listed.text
    page = console.client.get(f"/console/cases/{console.case_id}")
    assert page.status_code == 200
    assert PETITIONER["name"] in page.text and PETITIONER["phone"] in page.text
    assert console.audit("identity_viewed") == ["housing"]
    console.client.get(f"/console/cases/{console.case_id}")
    assert console.audit("identity_viewed") == ["housing", "housing"]


@pytest.mark.parametrize("username", ["transport", "wanzhou"])
def test_another_department_or_region_gets_403_and_does_not_list_the_case(
    console: Console, username: str
) -> None:
    console.log_in(username)
    page = console.client.get(f"/console/cases/{console.case_id}")
    assert page.status_code == 403
    assert PETITIONER["name"] not in page.text and "小区加装电梯纠纷" not in page.text
    assert console.case_id not in console.client.get("/console/cases").text
    assert console.audit("identity_viewed") == []


@pytest.mark.parametrize("username", ["yuzhong", "city"])
def test_a_bureau_sees_its_region_and_below_without_the_identity(
    console: Console, username: str
) -> None:
    console.log_in(username)
    assert console.case_id in console.client.get("/console/cases").text
    page = console.client.get(f"/console/cases/{console.case_id}")
    assert page.status_code == 200
    assert "小区加装电梯纠纷" in page.text
    for value in PETITIONER.values():
        assert value not in page.text
    assert "仅对承办单位可见" in page.text
    assert console.audit("identity_viewed") == []


def test_the_department_accepts_and_the_timeline_shows_who(console: Console) -> None:
    console.log_in("housing")
    answer = console.act("accept", note="已受理，转经办人")
    assert answer.status_code == 303
    assert console.stage() == "accepted"
    page = console.client.get(f"/console/cases/{console.case_id}").text
    assert "housing@500103:housing" in page and "已受理，转经办人" in page
    assert "已办理" in page  # the flash after the redirect


def test_an_action_answered_to_htmx_is_the_case_part_only(console: Console) -> None:
    console.log_in("housing")
    page = console.client.get(f"/console/cases/{console.case_id}")
    url = f"/console/cases/{console.case_id}/actions/accept"
    answer = console.client.post(
        url, data={"csrf": csrf_of(page.text)}, headers={"HX-Request": "true"}
    )
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<div id="case-body">')
    assert "<html" not in answer.text and "办理中" in answer.text


def test_an_action_without_its_csrf_token_or_by_another_unit_changes_nothing(
    console: Console,
) -> None:
    console.log_in("housing")
    url = f"/console/cases/{console.case_id}/actions/accept"
    assert console.client.post(url, data={}, follow_redirects=False).status_code == 403
    assert console.client.post(url, data={"csrf": "forged"}).status_code == 403
    console.log_in("transport")
    assert console.act("accept").status_code == 403
    console.log_in("yuzhong")
    assert console.act("accept").status_code == 403
    assert console.stage() == "assigned"


def test_a_refused_action_is_told_and_not_done(console: Console) -> None:
    console.log_in("housing")
    answer = console.act("extend", days="10", approved_by="张主任", reason="需现场勘查")
    assert answer.status_code == 303
    page = console.client.get(f"/console/cases/{console.case_id}").text
    assert "未能办理" in page
    assert console.stage() == "assigned"
    assert console.act("extend", days="ten", approved_by="x", reason="y").status_code == 303
    assert "whole number" in console.client.get(f"/console/cases/{console.case_id}").text


def test_the_overdue_board_counts_the_region_by_district_and_level(console: Console) -> None:
    console.log_in("city")
    board = console.client.get("/console/overdue")
    assert board.status_code == 200 and console.case_id not in board.text
    console.clock.advance(timedelta(days=40))  # past the acceptance period
    board = console.client.get("/console/overdue").text
    assert console.case_id in board and "渝中区" in board
    console.log_in("wanzhou")
    assert console.case_id not in console.client.get("/console/overdue").text
    console.log_in("housing")
    assert console.client.get("/console/overdue").status_code == 403
    overdue_list = console.client.get("/console/cases?overdue=true").text
    assert console.case_id in overdue_list


def test_the_kpi_page_shows_the_region_s_districts(console: Console) -> None:
    console.log_in("yuzhong")
    page = console.client.get("/console/kpis?days=365")
    assert page.status_code == 200
    assert "渝中区" in page.text and "及时受理率" in page.text


def test_english_is_an_option(console: Console) -> None:
    console.log_in("housing")
    console.client.get("/console/lang/en?next=/console/cases")
    page = console.client.get("/console/cases").text
    assert "Cases of my unit" in page and "本单位信访事项" not in page


def test_a_disabled_officer_s_session_ends(console: Console) -> None:
    console.log_in("housing")
    with console.app.engine.begin() as conn:
        console_store.disable_user(conn, "housing", START)
    assert console.client.get("/console/cases", follow_redirects=False).status_code == 303
    assert console.log_in("housing").status_code == 401


def test_login_redirects_only_within_the_console(console: Console) -> None:
    console.client.cookies.clear()
    token = csrf_of(console.client.get("/console/login?next=//evil.example/").text)
    form = {"username": "housing", "password": PASSWORD, "csrf": token, "next": "https://x.y/"}
    answer = console.client.post("/console/login", data=form, follow_redirects=False)
    assert answer.headers["location"] == "/console/"
