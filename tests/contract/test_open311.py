"""Open311 GeoReport v2 on the gateway, on both twins and real services: the exchange of the
spec's own examples (tests/data/open311/, copied from http://wiki.open311.org/GeoReport_v2),
a petitioner's case followed to its reply and closing, the filters and bounds of GET
requests.json, idempotency, errors in the spec's format, and `xinfang api` over TCP. No
response ever carries the petition's text, place or petitioner."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode
from xml.etree import ElementTree

import httpx
import pytest
from fastapi.testclient import TestClient
from ports import Ports
from sqlalchemy import select
from support import wait_for
from xinfang_processes import environment, issue_key, serving_api

from contract.gateway import REPLY, SOURCE, accept_and_reply, open_gateway
from dispatcher.adapters.db.tables import cases, rejected_messages
from dispatcher.bootstrap.app import App

DATA = Path(__file__).parent.parent / "data" / "open311"
BASE = "/open311/v2"
FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
# What the spec's example request says of its petitioner and place: never told back.
EXAMPLE_PRIVATE = (
    "john",
    "smith",
    "sinkhole",
    "1234 5th",
    "37.76524078",
    "-122.4212043",
    "smit333",
    "111111111",
    "flickr",
    "tt222111",
)


@pytest.fixture
def open311(ports: Ports) -> Iterator[tuple[App, TestClient, str]]:
    """The gateway, its client sending no key of its own, and a key for phone_case's source."""
    with open_gateway(ports) as (app, client):
        key = client.headers.pop("X-API-Key")
        yield app, client, key


# ---- the spec's examples -----------------------------------------------------------------------


def example_text(name: str) -> str:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines(keepends=True)
    return "".join(line for line in lines if not line.startswith("#"))


def example_response(name: str) -> tuple[int | None, Any]:
    """The status line (when the example has one) and the body. The spec's JSON writes codes
    such as 001, which JSON does not allow (a leading zero): they are read as the strings they
    are in its XML."""
    text = example_text(name).strip()
    status = None
    if text.startswith("HTTP/"):
        status_line, _blank, text = text.partition("\n\n")
        status = int(status_line.split()[1])
    return status, json.loads(re.sub(r'(?<=":)(0[0-9]+)', r'"\1"', text))


def example_request() -> tuple[str, dict[str, str], list[tuple[str, str]]]:
    """The spec's POST: its path, headers and form arguments, in order."""
    head, _blank, body = example_text("post-request.http").partition("\n\n")
    request_line, *header_lines = head.splitlines()
    headers = dict(line.split(": ", 1) for line in header_lines)
    return request_line.split()[1], headers, parse_qsl(body.strip(), keep_blank_values=True)


def with_arguments(arguments: list[tuple[str, str]], **changed: str) -> str:
    """The example's arguments with some replaced (attribute[...] by its full name) or added."""
    replaced = [(name, changed.pop(name, value)) for name, value in arguments]
    return urlencode(replaced + list(changed.items()))


# Fields the spec says "may not be returned", and those withheld here (always null).
OPTIONAL = ("status_notes", "agency_responsible", "service_notice", "expected_datetime")
WITHHELD = ("description", "address", "address_id", "zipcode", "lat", "long", "media_url")


def assert_shaped_like(ours: Any, theirs: Any, withheld: tuple[str, ...] = ()) -> None:
    """Every key of the example's objects is in ours, with a value of its type: a number of
    the spec's JSON may be our text (its JSON is a mechanical mapping of its XML, where every
    value is text), a null there is any value here, and an optional or withheld field may be
    null."""
    assert isinstance(ours, list) and ours and isinstance(theirs, list)
    for object_ in ours:
        for key, value in theirs[0].items():
            assert key in object_, (key, object_)
            if key in withheld:
                assert object_[key] is None, key
                continue
            if value is None or (key in OPTIONAL and object_[key] is None):
                continue
            if isinstance(value, bool):
                assert isinstance(object_[key], bool), (key, object_[key])
            elif isinstance(value, int | float):
                assert isinstance(object_[key], int | float | str), (key, object_[key])
            else:
                assert isinstance(object_[key], type(value)), (key, object_[key])


def assert_private(response: httpx.Response) -> None:
    text = response.text.lower()
    assert not [word for word in EXAMPLE_PRIVATE if word in text], response.text


def test_an_open311_client_exchange_recorded_from_the_spec_s_examples(
    open311: tuple[App, TestClient, str],
) -> None:
    app, client, key = open311
    path, headers, arguments = example_request()
    assert path.endswith("/requests.xml") and headers["Content-Type"] == FORM["Content-Type"]
    url = f"{BASE}/requests.json"  # the format is the path's suffix: we answer JSON

    # 1. The example as it is: its api_key, xyz, is none of ours.
    refused = client.post(url, content=with_arguments(arguments), headers=headers)
    status, error_example = example_response("error-response.json")
    assert refused.status_code == status == 403
    assert_shaped_like(refused.json(), error_example)
    assert refused.json()[0]["code"] == 403 and "api_key" in refused.json()[0]["description"]

    # 2. With our key: its service_code, 001, is none of our services.
    unknown = client.post(url, content=with_arguments(arguments, api_key=key), headers=headers)
    assert unknown.status_code == 404
    assert_shaped_like(unknown.json(), error_example)

    # 3. With our key, one of our services and the division the case is in: created.
    services = client.get(f"{BASE}/services.json")
    assert services.status_code == 200
    assert_shaped_like(services.json(), example_response("services-response.json")[1])
    codes = {service["service_code"] for service in services.json()}
    assert "housing" in codes and all(s["metadata"] is False for s in services.json())
    created = client.post(
        url,
        content=with_arguments(
            arguments, api_key=key, service_code="housing", **{"attribute[region]": "500103"}
        ),
        headers=headers,
    )
    assert created.status_code == 200, created.text
    assert created.headers["cache-control"] == "no-store"
    assert_shaped_like(created.json(), example_response("post-response.json")[1])
    (answer,) = created.json()
    case_id = answer["service_request_id"]
    assert answer["account_id"] is None and len(answer["query_code"]) == 8
    assert_private(created)

    # 4. The request, alone and in a list.
    one = client.get(f"{BASE}/requests/{case_id}.json")
    assert one.status_code == 200
    assert_shaped_like(one.json(), example_response("request-response.json")[1], WITHHELD)
    listed = client.get(f"{BASE}/requests.json", params={"service_request_id": case_id})
    assert_shaped_like(listed.json(), example_response("requests-response.json")[1], WITHHELD)
    everything = client.get(f"{BASE}/requests.json")  # the latest 90 days
    assert case_id in {r["service_request_id"] for r in everything.json()}
    for response in (one, listed, everything):
        assert_private(response)
        request = response.json()[0]
        assert {request[field] for field in ("description", "address", "lat", "long")} == {None}
        assert request["service_code"] == "housing" and request["status"] == "open"

    # What contract v1 has no place for is not kept at all.
    with app.engine.connect() as conn:
        row = conn.execute(select(cases).where(cases.c.case_id == case_id)).mappings().one()
    stored = json.dumps(dict(row), default=str, ensure_ascii=False)
    assert "smit333" not in stored and "tt222111" not in stored and "123456" not in stored
    assert row["channel"] == "online" and row["source"] == SOURCE
    assert row["petitioner"] == {"name": "john smith", "phone": "111111111"}
    assert "A large sinkhole" in row["content"] and "1234 5th street" in row["content"]


def xml_objects(response: httpx.Response, root: str, item: str) -> list[dict[str, str | None]]:
    """The objects of an Open311 XML answer, each as {field: text}."""
    assert response.headers["content-type"].startswith("text/xml"), response.headers
    tree = ElementTree.fromstring(response.content)
    assert tree.tag == root and all(child.tag == item for child in tree), response.text
    return [{field.tag: field.text for field in child} for child in tree]


def test_the_spec_s_example_request_in_xml_as_it_is_sent(
    open311: tuple[App, TestClient, str],
) -> None:
    """The example's own path, requests.xml: the same exchange in the spec's first format,
    each answer with the fields of the spec's example of it."""
    app, client, key = open311
    path, headers, arguments = example_request()
    url = f"{BASE}/{path.rsplit('/', 1)[1]}"  # /dev/v2/requests.xml -> ours
    assert url.endswith("/requests.xml")

    refused = client.post(url, content=with_arguments(arguments), headers=headers)
    assert refused.status_code == 403
    (error,) = xml_objects(refused, "errors", "error")
    assert set(error) == set(example_response("error-response.json")[1][0])

    services = xml_objects(client.get(f"{BASE}/services.xml"), "services", "service")
    assert set(services[0]) == set(example_response("services-response.json")[1][0])
    assert {s["metadata"] for s in services} == {"false"}

    form = with_arguments(arguments, api_key=key, service_code="housing")
    created = client.post(url, content=form, headers=headers)
    assert created.status_code == 200 and created.headers["cache-control"] == "no-store"
    (answer,) = xml_objects(created, "service_requests", "request")
    assert set(example_response("post-response.json")[1][0]) <= set(answer)
    assert answer["account_id"] is None and len(answer["query_code"] or "") == 8
    assert_private(created)

    case_id = answer["service_request_id"]
    one = client.get(f"{BASE}/requests/{case_id}.xml")
    listed = client.get(f"{BASE}/requests.xml", params={"service_request_id": case_id})
    for response in (one, listed):
        (request,) = xml_objects(response, "service_requests", "request")
        assert set(example_response("request-response.json")[1][0]) <= set(request)
        assert request["status"] == "open" and request["description"] is None
        assert_private(response)
    unknown = client.get(f"{BASE}/requests/no-such-case.xml")
    assert (
        unknown.status_code == 404 and xml_objects(unknown, "errors", "error")[0]["code"] == "404"
    )
    assert app.commands.timeline(case_id).case["channel"] == "online"


# ---- a case followed to its reply --------------------------------------------------------------


def post_request(client: TestClient, key: str, **arguments: str) -> httpx.Response:
    form = {
        "api_key": key,
        "service_code": "housing",
        "attribute[region]": "500103",
        "description": "一楼住户阻挠加装电梯施工\n社区协调多次未果，请相关部门处理。",
        "first_name": "德明",
        "last_name": "谭",
        "phone": "18623085512",
        "address_string": "渝中区解放碑街道民族路1号",
    } | arguments
    return client.post(f"{BASE}/requests.json", content=urlencode(form), headers=FORM)


def request_of(client: TestClient, case_id: str) -> dict[str, Any]:
    response = client.get(f"{BASE}/requests/{case_id}.json")
    assert response.status_code == 200, response.text
    assert "谭德明" not in response.text and "18623085512" not in response.text
    assert "民族路" not in response.text and "电梯施工" not in response.text
    (request,) = response.json()
    return request


def test_a_request_is_followed_to_its_reply_and_closed(
    open311: tuple[App, TestClient, str],
) -> None:
    app, client, key = open311
    created = post_request(client, key)
    assert created.status_code == 200, created.text
    case_id, code = created.json()[0]["service_request_id"], created.json()[0]["query_code"]
    assert app.commands.timeline(case_id).case["petitioner"]["name"] == "谭德明"
    wait_for(
        lambda: request_of(client, case_id)["agency_responsible"] is not None,
        "the case to be routed",
        timeout=60,
    )
    assigned = request_of(client, case_id)
    assert assigned["agency_responsible"] == "渝中区住房和城乡建设委员会"
    assert assigned["status"] == "open" and "待受理" in assigned["status_notes"]
    assert assigned["expected_datetime"].endswith("+08:00")  # the acceptance clock's due

    accept_and_reply(app, case_id)
    replied = request_of(client, case_id)
    assert replied["status"] == "open" and "已书面答复" in replied["status_notes"]
    assert all(text not in json.dumps(replied, ensure_ascii=False) for text in REPLY.values())
    assert replied["updated_datetime"] >= assigned["updated_datetime"]

    evaluated = client.post(
        f"/api/v1/cases/{case_id}/evaluation",
        json={"rating": "satisfied"},
        headers={"X-Query-Code": code},
    )
    assert evaluated.status_code == 200 and evaluated.json()["stage"] == "closed"
    closed = request_of(client, case_id)
    assert closed["status"] == "closed" and closed["expected_datetime"] is None
    assert "已办结" in closed["status_notes"]
    only_closed = client.get(f"{BASE}/requests.json", params={"status": "closed"}).json()
    only_open = client.get(f"{BASE}/requests.json", params={"status": "open"}).json()
    assert case_id in {r["service_request_id"] for r in only_closed}
    assert case_id not in {r["service_request_id"] for r in only_open}


# ---- submissions: idempotency, JSON, errors, rates -----------------------------------------------


def test_a_resent_request_is_the_same_request(open311: tuple[App, TestClient, str]) -> None:
    app, client, key = open311
    first = post_request(client, key, **{"attribute[external_id]": "WX-0001"})
    again = post_request(client, key, **{"attribute[external_id]": "WX-0001"})
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json()[0]["service_request_id"] == again.json()[0]["service_request_id"]
    assert first.json()[0]["query_code"] and again.json()[0]["query_code"] is None
    token = {"Idempotency-Key": "client-token-7"}
    other = {
        "first_name": "秀英",
        "last_name": "冉",
        "phone": "13923017746",
        "attribute[region]": "500106",
    }
    form = urlencode({"api_key": key, "service_code": "labour", "description": "拖欠工资"} | other)
    by_token = [
        client.post(f"{BASE}/requests.json", content=form, headers=FORM | token) for _ in range(2)
    ]
    assert len({r.json()[0]["service_request_id"] for r in by_token}) == 1
    as_json = client.post(
        f"{BASE}/requests.json",
        json={
            "api_key": key,
            "service_code": "education",
            "description": "学校乱收费",
            "attribute": {"region": "500105", "external_id": "WX-JSON"},
        },
    )
    assert as_json.status_code == 200, as_json.text
    row = app.commands.timeline(as_json.json()[0]["service_request_id"]).case
    assert (row["external_id"], row["category"], row["region"]) == (
        "WX-JSON",
        "education",
        "500105",
    )


def test_a_request_without_a_division_is_placed_by_its_address_or_in_the_city(
    open311: tuple[App, TestClient, str],
) -> None:
    """Most Open311 clients know no division codes: the address (or the description) places
    the case, else the jurisdiction's own region does, where its petition bureau triages."""
    app, client, key = open311
    _path, headers, arguments = example_request()
    # The spec's example as any client would send it, with our key and one of our services.
    spec = client.post(
        f"{BASE}/requests.json",
        content=with_arguments(arguments, api_key=key, service_code="housing"),
        headers=headers,
    )
    by_address = post_request(client, key, **{"attribute[region]": ""})  # 渝中区解放碑街道…
    by_text = post_request(
        client,
        key,
        address_string="",
        description="江北区观音桥街道建新北路噪音扰民",
        **{"attribute[region]": ""},
    )
    regions = []
    for response in (spec, by_address, by_text):
        assert response.status_code == 200, response.text
        case_id = response.json()[0]["service_request_id"]
        regions.append(app.commands.timeline(case_id).case["region"])
    assert regions == ["500000", "500103002", "500105006"]


def test_errors_are_in_the_spec_s_format(ports: Ports) -> None:
    with open_gateway(ports) as (app, client):
        key = client.headers.pop("X-API-Key")
        fast = app.producer_keys.issue(SOURCE, rate="2/minute")
        revoked = app.producer_keys.issue(SOURCE)
        assert app.producer_keys.revoke(revoked.split("_")[1])
        cases_before = ports.count(cases)
        answers = {
            "no key": post_request(client, ""),
            "revoked": post_request(client, revoked),
            "no service_code": post_request(client, key, service_code=""),
            "no description": post_request(client, key, description=""),
            "not form": client.post(
                f"{BASE}/requests.json", content=b"x", headers={"Content-Type": "text/plain"}
            ),
            "unknown request": client.get(f"{BASE}/requests/no-such-case.json"),
            "unknown path": client.get(f"{BASE}/nothing.json"),
            "bad date": client.get(f"{BASE}/requests.json", params={"start_date": "May 2026"}),
            "no zone": client.get(
                f"{BASE}/requests.json", params={"start_date": "2026-05-01T00:00:00"}
            ),
            "too long": client.get(
                f"{BASE}/requests.json",
                params={"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
            ),
            "bad status": client.get(f"{BASE}/requests.json", params={"status": "pending"}),
        }
        expected = {"no key": 403, "revoked": 403, "unknown request": 404, "unknown path": 404}
        for name, response in answers.items():
            assert response.status_code == expected.get(name, 400), (name, response.text)
            assert response.headers["content-type"].startswith("application/json"), name
            (error,) = response.json()
            assert error["code"] == response.status_code and error["description"], name
        assert ports.count(cases) == cases_before and ports.count(rejected_messages) == 0

        invalid = post_request(client, key, **{"attribute[region]": "7777"})  # not a division
        assert invalid.status_code == 400 and "region" in invalid.json()[0]["description"]
        assert "7777" not in invalid.text
        with app.engine.connect() as conn:  # recorded as the queue records a rejection
            rejection = conn.execute(select(rejected_messages)).one()
        assert (rejection.code, rejection.routing_key) == ("region", "http")

        rated = [
            post_request(client, fast, **{"attribute[external_id]": f"R{n}"}) for n in range(3)
        ]
        assert [r.status_code for r in rated] == [200, 200, 429]
        assert 1 <= int(rated[2].headers["retry-after"]) <= 60
        assert rated[2].json()[0]["code"] == 429


def test_the_window_of_requests_is_bounded_and_filtered(
    open311: tuple[App, TestClient, str],
) -> None:
    _app, client, key = open311
    housing = post_request(client, key).json()[0]["service_request_id"]
    labour = post_request(
        client,
        key,
        service_code="labour",
        description="拖欠工资三个月",
        first_name="秀英",
        last_name="冉",
        phone="13923017746",
        **{"attribute[region]": "500106"},
    ).json()[0]["service_request_id"]

    def listed(**params: str) -> set[str]:
        response = client.get(f"{BASE}/requests.json", params=params)
        assert response.status_code == 200, response.text
        return {request["service_request_id"] for request in response.json()}

    assert {housing, labour} <= listed()
    assert listed(service_code="labour") == {labour}
    assert listed(service_code="labour,housing") == {housing, labour}
    assert listed(start_date="2020-01-01T00:00:00Z", end_date="2020-03-01T00:00:00+08:00") == set()
    assert listed(service_request_id=f"{labour}, nope ,{housing}") == {housing, labour}
    assert listed(service_request_id=labour, service_code="housing") == {labour}  # overrides


# ---- over TCP ----------------------------------------------------------------------------------


def test_open311_over_tcp_against_xinfang_api(ports: Ports, tmp_path: Path) -> None:
    env = environment(ports.database_url, ports.broker_url)
    key = issue_key(env, "wechat-miniapp", "小程序")
    with (
        serving_api(env, tmp_path / "api.log", probe=f"{BASE}/services.json") as url,
        httpx.Client(base_url=url + BASE, timeout=30) as client,
    ):
        form = {
            "api_key": key,
            "service_code": "housing",
            "jurisdiction_id": "500103",  # a division code stands for attribute[region]
            "description": "小区加装电梯纠纷",
            "first_name": "德明",
            "last_name": "谭",
        }
        created = client.post("/requests.json", content=urlencode(form), headers=FORM)
        assert created.status_code == 200, created.text
        case_id = created.json()[0]["service_request_id"]
        seen = client.get(f"/requests/{case_id}.json")
        assert seen.status_code == 200 and seen.json()[0]["service_code"] == "housing"
        assert "谭德明" not in seen.text and "电梯" not in seen.text
        refused = client.post(
            "/requests.json", content=urlencode(form | {"api_key": "xyz"}), headers=FORM
        )
        assert refused.status_code == 403 and refused.json()[0]["code"] == 403
    text = (tmp_path / "api.log").read_text()
    assert key not in text and "谭德明" not in text
