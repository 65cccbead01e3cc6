"""The petitioner's pages (网上查, 网上评) over HTTP, on SQLite and the in-process broker and on
PostgreSQL and RabbitMQ: the case number and the query code open the progress, a wrong code
or an unknown case tells nothing, the reply is evaluated and a review asked for, each form
carries its CSRF token, wrong codes count with the API's, and nothing is cached."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import httpx
import pytest
from fastapi.testclient import TestClient
from ports import Ports
from support import PETITIONER, phone_case, wait_for

from contract.gateway import REPLY, accept_and_reply
from dispatcher.adapters.http import create_api
from dispatcher.bootstrap.app import App
from dispatcher.domain.clock import FixedClock
from dispatcher.services.petitioner import Submitted

START = datetime.fromisoformat("2026-05-26T10:00:00+08:00")
TRACK = "/console/track"


@dataclass
class Petitioner:
    app: App
    client: TestClient
    case_id: str
    code: str

    def look_up(self, code: str | None = None, case_id: str | None = None) -> httpx.Response:
        form = {"case": case_id or self.case_id, "code": code or self.code}
        return self.post(TRACK, form)

    def post(self, path: str, form: dict[str, str]) -> httpx.Response:
        token = csrf_of(self.client.get(TRACK).text)
        return self.client.post(path, data={"csrf": token, **form})

    def evaluate(self, rating: str) -> httpx.Response:
        form = {"case": self.case_id, "code": self.code, "rating": rating}
        return self.post(f"{TRACK}/evaluation", form)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def stage_of(html: str) -> str:
    found = re.search(r'<td id="stage">([^<]+)</td>', html)
    assert found, "the page shows no stage"
    return found.group(1)


@pytest.fixture
def petitioner(ports: Ports, request: pytest.FixtureRequest) -> Iterator[Petitioner]:
    settings = getattr(request, "param", {})
    with ports.running({"worker"}, clock=FixedClock(START), **settings) as (app, _running):
        body = json.dumps(phone_case("track-1"), ensure_ascii=False).encode()
        submitted = app.petitioners.submit(body, "application/json")
        assert isinstance(submitted, Submitted) and submitted.query_code
        case_id, code = submitted.case_id, submitted.query_code
        wait_for(lambda: app.petitioners.progress(case_id, code).unit, "routing", 60)  # type: ignore[union-attr]
        with TestClient(create_api(app), base_url="https://testserver") as client:
            yield Petitioner(app, client, case_id, code)


def test_the_code_opens_the_progress_and_nothing_is_cached(petitioner: Petitioner) -> None:
    page = petitioner.look_up()
    assert page.status_code == 200
    assert stage_of(page.text) == "待受理"
    assert "渝中区住房和城乡建设委员会" in page.text and "受理期限" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "尚未答复" in page.text and 'id="evaluate"' not in page.text
    for value in PETITIONER.values():  # the petitioner is not told their own identity back
        assert value not in page.text


def test_a_wrong_code_and_an_unknown_case_look_the_same(petitioner: Petitioner) -> None:
    wrong = petitioner.look_up(code="WRONG234")
    unknown = petitioner.look_up(case_id="XF-NO-SUCH-CASE")
    for page in (wrong, unknown):
        assert page.status_code == 404
        assert "案件编号或查询码不正确" in page.text
        assert "渝中区住房和城乡建设委员会" not in page.text and 'id="progress"' not in page.text


def test_a_form_without_its_csrf_token_is_refused(petitioner: Petitioner) -> None:
    form = {"case": petitioner.case_id, "code": petitioner.code}
    page = petitioner.client.post(TRACK, data=form)
    assert page.status_code == 403 and 'id="progress"' not in page.text


def test_the_petitioner_reads_the_reply_and_evaluates_it(petitioner: Petitioner) -> None:
    accept_and_reply(petitioner.app, petitioner.case_id)
    page = petitioner.look_up()
    assert stage_of(page.text) == "已答复"
    assert all(text in page.text for text in REPLY.values())
    assert 'id="evaluate"' in page.text

    evaluated = petitioner.evaluate("basically_satisfied")
    assert evaluated.status_code == 200
    assert stage_of(evaluated.text) == "已办结" and "基本满意" in evaluated.text
    assert 'id="evaluate"' not in evaluated.text
    assert petitioner.app.petitioners.progress(petitioner.case_id, petitioner.code).rating == (  # type: ignore[union-attr]
        "basically_satisfied"
    )
    again = petitioner.evaluate("dissatisfied")  # the lifecycle says why not, on the page
    assert "未能提交" in again.text and "cannot evaluate" in again.text


def test_an_evaluation_with_a_wrong_code_does_nothing(petitioner: Petitioner) -> None:
    accept_and_reply(petitioner.app, petitioner.case_id)
    form = {"case": petitioner.case_id, "code": "WRONG234", "rating": "dissatisfied"}
    page = petitioner.post(f"{TRACK}/evaluation", form)
    assert page.status_code == 404
    assert petitioner.app.petitioners.progress(petitioner.case_id, petitioner.code).rating is None  # type: ignore[union-attr]


def test_a_dissatisfied_petitioner_asks_for_review(petitioner: Petitioner) -> None:
    accept_and_reply(petitioner.app, petitioner.case_id)
    petitioner.evaluate("dissatisfied")
    form = {"case": petitioner.case_id, "code": petitioner.code, "reason": "不服处理意见"}
    page = petitioner.post(f"{TRACK}/review-request", form)
    assert page.status_code == 200
    assert stage_of(page.text) == "复查复核中" and "复查案件编号" in page.text


@pytest.mark.parametrize("petitioner", [{"code_guesses_per_case": "2/minute"}], indirect=True)
def test_wrong_codes_on_the_page_count_with_the_api_s(petitioner: Petitioner) -> None:
    assert [petitioner.look_up(code="WRONG234").status_code for _ in range(2)] == [404, 404]
    held = petitioner.look_up()  # even the right code waits now
    assert held.status_code == 429 and 1 <= int(held.headers["retry-after"]) <= 60
    api = petitioner.client.get(
        f"/api/v1/cases/{petitioner.case_id}/progress",
        headers={"X-Query-Code": petitioner.code},
    )
    assert api.status_code == 429
