"""The console and the petitioner's pages in a real browser (Debian's chromium, headless),
served live over the app of `ports` (the twins, then PostgreSQL and RabbitMQ): a department
logs in, acts on its case and sees the timeline change; another department gets 403; a
supervisor sees the overdue board; a petitioner enters with the case number and the query code,
reads the reply and evaluates it. htmx runs in the browser here, as it does for an officer.

With XINFANG_TEST_SCREENSHOTS=DIR, the tests also save the screenshots of docs/console.md
into DIR (the pages as the steps leave them)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from contract.gateway import REPLY, accept_and_reply
from playwright.sync_api import Page, expect
from ports import Ports
from support import PETITIONER, phone_case, wait_for

from browser.live import serving
from dispatcher.adapters.db import console_store
from dispatcher.adapters.http import create_api
from dispatcher.adapters.passwords import Argon2Passwords
from dispatcher.bootstrap.app import App
from dispatcher.domain.access import Officer, Role
from dispatcher.domain.clock import FixedClock
from dispatcher.services.console import new_user
from dispatcher.services.petitioner import Submitted

pytestmark = pytest.mark.browser

START = datetime.fromisoformat("2026-05-26T10:00:00+08:00")
PASSWORD = "correct horse battery"
SCREENSHOTS = "XINFANG_TEST_SCREENSHOTS"
OFFICERS = (
    Officer("zhang", "渝中区住建委 张科长", Role.DEPARTMENT, "500103:housing", "500103"),
    Officer("li", "渝中区交通局 李科长", Role.DEPARTMENT, "500103:transport", "500103"),
    Officer("chen", "重庆市信访办 陈处长", Role.BUREAU, None, "500000"),
)


@dataclass
class World:
    app: App
    clock: FixedClock
    url: str
    case_id: str
    code: str


@pytest.fixture
def world(ports: Ports) -> Iterator[World]:
    """One case routed to 渝中区住建委, three officers, and the gateway live on a port."""
    clock = FixedClock(START)
    with ports.running({"worker"}, clock=clock) as (app, _running):
        body = json.dumps(phone_case("browser-1"), ensure_ascii=False).encode()
        submitted = app.petitioners.submit(body, "application/json")
        assert isinstance(submitted, Submitted) and submitted.query_code
        case_id, code = submitted.case_id, submitted.query_code
        wait_for(lambda: app.petitioners.progress(case_id, code).unit, "routing", 60)  # type: ignore[union-attr]
        passwords = Argon2Passwords()
        with app.engine.begin() as conn:
            for officer in OFFICERS:
                row = new_user(passwords, officer.username, PASSWORD, officer, START)
                console_store.insert_user(conn, row)
        with serving(create_api(app, loopback_only=True)) as url:
            yield World(app, clock, url, case_id, code)


def shoot(page: Page, name: str) -> None:
    """A screenshot for the docs, when asked for."""
    if folder := os.environ.get(SCREENSHOTS):
        page.screenshot(path=Path(folder) / f"{name}.png", full_page=True)


def log_in(page: Page, world: World, username: str) -> None:
    page.goto(f"{world.url}/console/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#who")).to_be_visible()


def test_a_department_acts_on_its_case_and_sees_the_timeline_change(
    page: Page, world: World
) -> None:
    log_in(page, world, "zhang")
    expect(page).to_have_url(re.compile(r"/console/cases$"))
    row = page.locator(f'tr.case-row[data-case="{world.case_id}"]')
    expect(row).to_contain_text("待受理")
    shoot(page, "work-list")

    row.get_by_role("link", name=world.case_id).click()
    expect(page.locator("#stage")).to_have_text("待受理")
    expect(page.locator("#petitioner")).to_contain_text(PETITIONER["name"])  # the handling unit
    events = page.locator("#timeline tr.event")
    before = events.count()
    assert before >= 2  # registered, assigned

    accept = page.locator('form.action[data-action="accept"]')
    accept.get_by_label("备注").fill("已受理，转经办人")
    accept.get_by_role("button", name="受理").click()
    expect(page.locator("#stage")).to_have_text("办理中")  # swapped in by htmx
    accepted = page.locator('#timeline tr.event[data-type="accepted"]')
    expect(accepted).to_contain_text("zhang@500103:housing")
    expect(accepted).to_contain_text("已受理，转经办人")
    expect(events).to_have_count(before + 1)

    reply = page.locator('form.action[data-action="reply"]')
    for field, text in REPLY.items():
        reply.locator(f'textarea[name="{field}"]').fill(text)
    reply.get_by_role("button", name="答复").click()
    expect(page.locator("#stage")).to_have_text("已答复")
    expect(page.locator('#timeline tr.event[data-type="replied"]')).to_have_count(1)
    shoot(page, "case")
    assert world.app.commands.timeline(world.case_id).case["stage"] == "replied"


def test_another_department_gets_403_and_does_not_see_the_case(page: Page, world: World) -> None:
    log_in(page, world, "li")
    expect(page.locator("#work-list")).to_be_visible()
    expect(page.locator(f'tr.case-row[data-case="{world.case_id}"]')).to_have_count(0)
    response = page.goto(f"{world.url}/console/cases/{world.case_id}")
    assert response is not None and response.status == 403
    expect(page.locator("#forbidden")).to_be_visible()
    content = page.content()
    assert PETITIONER["name"] not in content and "小区加装电梯纠纷" not in content


def test_a_supervisor_sees_the_overdue_board(page: Page, world: World) -> None:
    world.clock.advance(timedelta(days=40))  # past the acceptance period
    log_in(page, world, "chen")
    expect(page).to_have_url(re.compile(r"/console/overdue$"))  # a bureau's home
    counts = page.locator("#overdue-counts")
    expect(counts).to_contain_text("渝中区")
    expect(page.locator("#overdue-cases")).to_contain_text(world.case_id)
    shoot(page, "overdue-board")

    page.locator("#overdue-cases").get_by_role("link", name=world.case_id).click()
    expect(page.locator("#stage")).to_have_text("待受理")
    expect(page.locator("#petitioner")).to_contain_text("仅对承办单位可见")
    assert PETITIONER["phone"] not in page.content()
    page.get_by_role("link", name="绩效指标").click()
    expect(page.locator("#kpis")).to_contain_text("及时受理率")
    page.get_by_role("link", name="近 365 天").click()  # the case came 40 days ago
    expect(page.locator("#kpis")).to_contain_text("渝中区")
    shoot(page, "kpis")


def test_a_petitioner_follows_the_case_and_evaluates_the_reply(page: Page, world: World) -> None:
    accept_and_reply(world.app, world.case_id)
    page.goto(f"{world.url}/console/track")
    page.get_by_label("案件编号").fill(world.case_id)
    page.get_by_label("查询码").fill(world.code)
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#stage")).to_have_text("已答复")
    expect(page.locator("#unit")).to_have_text("渝中区住房和城乡建设委员会")
    expect(page.locator("#replies")).to_contain_text(REPLY["decision"])
    shoot(page, "petitioner")

    page.get_by_label("满意", exact=True).check()
    page.get_by_role("button", name="提交评价").click()
    expect(page.locator("#outcome")).to_contain_text("已办结")
    expect(page.locator("#stage")).to_have_text("已办结")
    expect(page.locator("#rating")).to_have_text("满意")
    expect(page.locator("#evaluate")).to_have_count(0)
    progress = world.app.petitioners.progress(world.case_id, world.code)
    assert progress is not None and progress.rating == "satisfied"


def test_a_wrong_code_shows_nothing_of_the_case(page: Page, world: World) -> None:
    page.goto(f"{world.url}/console/track")
    page.get_by_label("案件编号").fill(world.case_id)
    page.get_by_label("查询码").fill("WRONG234")
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#track-error")).to_contain_text("不正确")
    expect(page.locator("#progress")).to_have_count(0)


def test_the_console_speaks_english_on_request(page: Page, world: World) -> None:
    log_in(page, world, "zhang")
    page.get_by_role("link", name="English").click()
    expect(page.locator("h1")).to_have_text("Cases of my unit")
    expect(page.get_by_role("link", name="中文")).to_be_visible()
