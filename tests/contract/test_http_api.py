"""The HTTP gateway on both twins and real services (SQLite and the in-process broker; PostgreSQL
and RabbitMQ), through FastAPI's TestClient (httpx): a case submitted and followed by its
petitioner with the query code, idempotent re-posts, invalid cases answered as problems and
recorded as the queue records them, and codes that do not open someone else's case. Also
`xinfang api` as a process over TCP, and no 5xx on any body."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from ports import Ports
from sqlalchemy import func, select
from support import (
    PETITIONER,
    assert_no_identity,
    malformed_bodies,
    phone_case,
    wait_for,
)
from xinfang_processes import environment, issue_key, run, serving_api

from contract.gateway import REPLY, SOURCE, accept_and_reply, open_gateway
from contract.strategies import VALID, Sample, json_values, samples, valid_messages
from dispatcher.adapters.db.tables import api_keys, events, query_codes, rejected_messages
from dispatcher.bootstrap.app import App
from dispatcher.contract.intake import Invalid, parse

CASES = "/api/v1/cases"
OTHER = {"name": "谭德明", "id_number": "500112198111230411", "phone": "18623085512"}


@pytest.fixture
def gateway(ports: Ports) -> Iterator[tuple[App, TestClient]]:
    """The gateway over the app of `ports`, with a worker to route what it registers and a
    producer key for phone_case's source in every request."""
    with open_gateway(ports) as opened:
        yield opened


def post_case(client: TestClient, case: dict[str, Any]) -> httpx.Response:
    body = json.dumps(case, ensure_ascii=False).encode()
    return client.post(CASES, content=body, headers={"Content-Type": "application/json"})


def progress(client: TestClient, case_id: str, code: str | None) -> httpx.Response:
    headers = {"X-Query-Code": code} if code is not None else {}
    return client.get(f"{CASES}/{case_id}/progress", headers=headers)


def routed(client: TestClient, case_id: str, code: str) -> dict[str, Any]:
    wait_for(
        lambda: progress(client, case_id, code).json()["stage"] != "registered",
        "the case to be routed",
        timeout=60,
    )
    return progress(client, case_id, code).json()


def test_a_petitioner_submits_follows_and_evaluates(gateway: tuple[App, TestClient]) -> None:
    app, client = gateway
    case = phone_case("HTTP-1")
    created = post_case(client, case)
    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    answer = created.json()
    case_id, code = answer["case_id"], answer["query_code"]
    assert answer["status"] == "registered" and len(code) == 8
    assert created.headers["location"] == f"{CASES}/{case_id}/progress"

    seen = routed(client, case_id, code.lower())  # typed in lower case, it still opens
    assert seen["stage"] == "assigned" and seen["unit"] == "渝中区住房和城乡建设委员会"
    (acceptance,) = [d for d in seen["deadlines"] if d["clock"] == "acceptance"]
    assert acceptance["due_at"].endswith("+08:00") and seen["replies"] == []

    accept_and_reply(app, case_id)
    replied = progress(client, case_id, code).json()
    assert replied["stage"] == "replied"
    (reply,) = replied["replies"]
    assert {k: reply[k] for k in REPLY} == REPLY and reply["at"].endswith("+08:00")
    assert "review_request" in {d["clock"] for d in replied["deadlines"]}

    evaluated = client.post(
        f"{CASES}/{case_id}/evaluation",
        json={"rating": "satisfied"},
        headers={"X-Query-Code": code},
    )
    assert evaluated.status_code == 200, evaluated.text
    assert evaluated.json()["stage"] == "closed"
    assert progress(client, case_id, code).json()["rating"] == "satisfied"
    again = client.post(
        f"{CASES}/{case_id}/evaluation",
        json={"rating": "dissatisfied"},
        headers={"X-Query-Code": code},
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert "cannot evaluate" in again.json()["detail"]
    for response in (created, replied_response := progress(client, case_id, code), evaluated):
        assert_no_identity(response.text, [case])
    assert replied_response.status_code == 200
    with app.engine.connect() as conn:  # only a salted hash is kept
        row = conn.execute(select(query_codes).where(query_codes.c.case_id == case_id)).one()
    assert code not in f"{row.salt}{row.digest}" and len(row.salt) == 32


def test_a_review_request_goes_to_the_next_higher_body(gateway: tuple[App, TestClient]) -> None:
    app, client = gateway
    answer = post_case(client, phone_case("HTTP-REVIEW")).json()
    case_id, code = answer["case_id"], answer["query_code"]
    routed(client, case_id, code)
    headers = {"X-Query-Code": code}
    early = client.post(f"{CASES}/{case_id}/review-request", json={}, headers=headers)
    assert early.status_code == 409 and "cannot request_review" in early.json()["detail"]
    before = len(app.commands.timeline(case_id).events)  # a refusal is not written down

    accept_and_reply(app, case_id)
    assert len(app.commands.timeline(case_id).events) == before + 2
    dissatisfied = client.post(
        f"{CASES}/{case_id}/evaluation", json={"rating": "dissatisfied"}, headers=headers
    )
    assert dissatisfied.status_code == 200, dissatisfied.text
    asked = client.post(
        f"{CASES}/{case_id}/review-request", json={"reason": "不服"}, headers=headers
    )
    assert asked.status_code == 200, asked.text
    assert asked.json()["stage"] == "under_review" and asked.json()["review_case_id"]
    assert progress(client, case_id, code).json()["stage"] == "under_review"


def test_a_re_post_returns_the_same_case_and_no_code(gateway: tuple[App, TestClient]) -> None:
    app, client = gateway
    case = phone_case("HTTP-AGAIN")
    first = post_case(client, case)
    again = post_case(client, case | {"title": "另一个标题"})  # idempotent on the ids alone
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["case_id"] == first.json()["case_id"]
    assert again.json()["status"] == "duplicate" and again.json()["query_code"] is None
    assert "not shown again" in again.json()["note"] and "location" not in again.headers
    repeat = post_case(client, phone_case("HTTP-REPEAT"))  # the same petitioner and matter
    assert repeat.status_code == 200, repeat.text
    assert repeat.json() | {"note": ""} == {
        "case_id": first.json()["case_id"],
        "status": "joined",
        "query_code": None,
        "joined_as": "repeat",
        "note": "",
    }
    with app.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(query_codes)) == 1


def test_no_code_no_case_and_wrong_codes_look_the_same(gateway: tuple[App, TestClient]) -> None:
    _app, client = gateway
    mine = post_case(client, phone_case("HTTP-MINE")).json()
    theirs = post_case(client, phone_case("HTTP-THEIRS", petitioner=OTHER, region="500106")).json()
    answers = [
        progress(client, theirs["case_id"], mine["query_code"]),  # my code, their case
        progress(client, theirs["case_id"], None),
        progress(client, theirs["case_id"], ""),
        progress(client, theirs["case_id"], "x" * 500),
        progress(client, "00000000-0000-0000-0000-000000000000", mine["query_code"]),
        client.post(
            f"{CASES}/{theirs['case_id']}/evaluation",
            json={"rating": "satisfied"},
            headers={"X-Query-Code": mine["query_code"]},
        ),
    ]
    assert {r.status_code for r in answers} == {404}
    assert len({r.text for r in answers}) == 1
    assert answers[0].headers["content-type"] == "application/problem+json"
    assert progress(client, theirs["case_id"], theirs["query_code"]).status_code == 200


def test_an_invalid_case_is_a_problem_and_recorded_as_a_rejection(
    gateway: tuple[App, TestClient],
) -> None:
    app, client = gateway
    case = phone_case("HTTP-BAD", channel="fax", region="5001")
    case["petitioner"]["phone"] = 13804749638  # a number, not a string: echoed nowhere
    del case["title"]
    response = post_case(client, case)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:xinfang:problem:invalid-case" and problem["status"] == 422
    assert {(e["field"], e["code"]) for e in problem["errors"]} == {
        ("channel", "channel"),
        ("petitioner/phone", "petitioner"),
        ("region", "region"),
        ("title", "missing_title"),
    }
    assert "13804749638" not in response.text
    assert_no_identity(response.text, [phone_case("HTTP-BAD")])
    with app.engine.connect() as conn:  # as the queue records a rejection, with its event
        rejection = conn.execute(select(rejected_messages)).one()
        rejected = conn.execute(select(events).where(events.c.type == "rejected")).one()
    assert (rejection.code, rejection.reason) == (problem["errors"][0]["code"], problem["detail"])
    assert rejection.routing_key == "http" and rejected.external_id == "HTTP-BAD"

    not_json = client.post(CASES, content=b"{", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 422 and not_json.json()["errors"][0]["code"] == "json"
    as_form = client.post(CASES, content=b"a=1", headers={"Content-Type": "text/plain"})
    assert as_form.status_code == 415
    too_large = client.post(
        CASES, content=b" " * (1024 * 1024 + 10), headers={"Content-Type": "application/json"}
    )
    assert too_large.status_code == 413 and too_large.json()["errors"][0]["code"] == "too_large"


def test_bad_petitioner_bodies_are_problems_without_their_values(
    gateway: tuple[App, TestClient],
) -> None:
    _app, client = gateway
    answer = post_case(client, phone_case("HTTP-BODIES")).json()
    url, headers = f"{CASES}/{answer['case_id']}", {"X-Query-Code": answer["query_code"]}
    for path, body in (
        ("evaluation", {"rating": "罗平安很满意"}),
        ("evaluation", {"rating": "satisfied", "extra": "13804749638"}),
        ("review-request", {"reason": "罗平安\u0000"}),
        ("review-request", {"reason": "x" * 10_001}),
    ):
        response = client.post(f"{url}/{path}", json=body, headers=headers)
        assert response.status_code == 422, (path, body, response.text)
        assert response.json()["type"] == "urn:xinfang:problem:invalid-request"
        assert "罗平安" not in response.text and "13804749638" not in response.text


def test_the_openapi_document_describes_the_endpoints(gateway: tuple[App, TestClient]) -> None:
    _app, client = gateway
    document = client.get("/openapi.json").json()
    assert set(document["paths"]) == {
        CASES,
        f"{CASES}/{{case_id}}/progress",
        f"{CASES}/{{case_id}}/evaluation",
        f"{CASES}/{{case_id}}/review-request",
        "/open311/v2/services.json",
        "/open311/v2/requests.json",
        "/open311/v2/requests/{service_request_id}.json",
    }
    case_body = document["paths"][CASES]["post"]["requestBody"]["content"]["application/json"]
    assert "external_id" in case_body["schema"]["required"]
    schemes = document["components"]["securitySchemes"]
    assert schemes["APIKeyHeader"]["name"] == "X-API-Key" and schemes["HTTPBearer"]
    assert {"401", "403", "429"} <= set(document["paths"][CASES]["post"]["responses"])


def _mutated(case: dict[str, Any], key: str, value: Any) -> bytes:
    return json.dumps(case | {key: value}, ensure_ascii=False).encode()


# Random bytes, the known malformed messages, and valid cases with any JSON in any field.
BODIES = st.one_of(
    st.binary(max_size=300),
    st.sampled_from(malformed_bodies(20)),
    st.builds(_mutated, valid_messages(), st.text(max_size=12), json_values()),
)


def test_a_case_body_gets_the_queue_s_verdict(gateway: tuple[App, TestClient]) -> None:
    """The contract's own message strategies (valid ones, and mutated at every field, in the
    body and its content type): the gateway answers each with the reason code the queue gives
    it (tests/contract/test_fuzz_intake.py), never with a 5xx."""
    app, client = gateway
    serials = itertools.count()
    keys: dict[str, str] = {}

    def key_for(body: bytes, content_type: str | None) -> dict[str, str]:
        """A key of the case's own source when it is a valid case: the verdict asked of is
        the contract's, not the key's."""
        checked = parse(body, content_type)
        if isinstance(checked, Invalid):
            return {}
        source = checked.case["source"]
        if source not in keys:
            keys[source] = app.producer_keys.issue(source, rate="10000/minute")
        return {"X-API-Key": keys[source]}

    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
    @given(samples(mishandled=False, big=False))
    def same_verdict(sample: Sample) -> None:
        wire = sample.wire(next(serials))
        assume(wire.content_encoding is None and wire.expect is not None)
        headers = {"Content-Type": wire.content_type} if wire.content_type is not None else {}
        headers |= key_for(wire.body, wire.content_type)
        response = client.post(CASES, content=wire.body, headers=headers)
        assert response.status_code < 500, response.text
        if wire.expect == VALID:
            assert response.status_code in (200, 201), (wire.describe(), response.text)
        else:
            assert response.json()["errors"][0]["code"] == wire.expect, wire.describe()

    same_verdict()


def test_no_request_makes_a_server_error(gateway: tuple[App, TestClient]) -> None:
    """Any body at any endpoint, with odd case numbers and codes: never a 5xx."""
    _app, client = gateway
    answer = post_case(client, phone_case("HTTP-FUZZ")).json()

    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        body=BODIES,
        case_id=st.sampled_from([answer["case_id"], "x", "%00", "%F0%9F%98%80" * 10]),
        code=st.sampled_from([answer["query_code"], "", b"\xff" * 9, b"\x00"]),
        path=st.sampled_from(["", "/progress", "/evaluation", "/review-request"]),
    )
    def never_5xx(body: bytes, case_id: str, code: str | bytes, path: str) -> None:
        url = CASES if not path else f"{CASES}/{case_id}{path}"
        headers = {"Content-Type": "application/json", "X-Query-Code": code}
        method = "GET" if path == "/progress" else "POST"
        response = client.request(method, url, content=body, headers=headers)
        assert response.status_code < 500, response.text

    never_5xx()


def test_xinfang_api_as_a_process_over_tcp(ports: Ports, tmp_path: Path) -> None:
    """`xinfang api` on a free port, reached with plain httpx; the case is then handled with
    `xinfang case` and followed and evaluated by its petitioner."""
    env = environment(ports.database_url, ports.broker_url)
    key = issue_key(env, SOURCE, "tcp test")
    with (
        serving_api(env, tmp_path / "api.log") as base,
        httpx.Client(base_url=base, timeout=30) as client,
        ports.running({"worker"}) as (app, _running),
    ):
        case = phone_case("HTTP-TCP")
        created = client.post(
            CASES,
            content=json.dumps(case).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
        )
        assert created.status_code == 201, created.text
        case_id, code = created.json()["case_id"], created.json()["query_code"]
        headers = {"X-Query-Code": code}
        wait_for(
            lambda: (
                client.get(f"{CASES}/{case_id}/progress", headers=headers).json()["stage"]
                == "assigned"
            ),
            "the case to be routed",
            timeout=60,
        )
        for args in (["accept", case_id], ["reply", case_id, *_reply_options()]):
            run(["case", *args], env)
        seen = client.get(f"{CASES}/{case_id}/progress", headers=headers).json()
        assert seen["stage"] == "replied" and seen["replies"][0]["decision"] == REPLY["decision"]
        evaluated = client.post(
            f"{CASES}/{case_id}/evaluation", json={"rating": "satisfied"}, headers=headers
        )
        assert evaluated.status_code == 200 and evaluated.json()["stage"] == "closed"
        assert app.commands.timeline(case_id).case["stage"] == "closed"
    text = (tmp_path / "api.log").read_text()
    assert code not in text  # the code travels in a header, never into the access log
    assert key not in text
    assert_no_identity(text, [case])
    assert PETITIONER["name"] not in text


def _reply_options() -> list[str]:
    return [part for name, text in REPLY.items() for part in (f"--{name.replace('_', '-')}", text)]


# ---- producer keys and rate limits -----------------------------------------------------------


def test_a_case_needs_a_live_key(gateway: tuple[App, TestClient], ports: Ports) -> None:
    """No key, a malformed, unknown or revoked one, a wrong secret: one 401, nothing recorded."""
    app, client = gateway
    body = json.dumps(phone_case("HTTP-NOKEY")).encode()
    live = client.headers["X-API-Key"]
    revoked = app.producer_keys.issue(SOURCE)
    revoked_id = revoked.split("_")[1]
    assert app.producer_keys.revoke(revoked_id) and not app.producer_keys.revoke(revoked_id)
    wrong_secret = live[:-4] + ("AAAA" if not live.endswith("AAAA") else "BBBB")
    answers = [
        client.post(CASES, content=body, headers=headers | {"Content-Type": "application/json"})
        for headers in (
            {"X-API-Key": ""},
            {"X-API-Key": "not a key"},
            {"X-API-Key": "xk_000000000000_" + "A" * 43},
            {"X-API-Key": revoked},
            {"X-API-Key": wrong_secret},
            {"X-API-Key": "", "Authorization": f"Bearer {revoked}"},
            {"X-API-Key": "", "Authorization": f"Basic {live}"},
        )
    ]
    assert {r.status_code for r in answers} == {401}
    assert len({r.text for r in answers}) == 1
    assert answers[0].headers["content-type"] == "application/problem+json"
    assert answers[0].headers["www-authenticate"].startswith("Bearer")
    assert answers[0].json()["type"] == "urn:xinfang:problem:unauthorized"
    assert ports.count(rejected_messages) == 0 and ports.count(query_codes) == 0
    as_bearer = client.post(
        CASES,
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-API-Key": "",
            "Authorization": f"Bearer {live}",
        },
    )
    assert as_bearer.status_code == 201, as_bearer.text


def test_a_key_submits_only_its_own_source(gateway: tuple[App, TestClient], ports: Ports) -> None:
    """Another source's case is refused (403, source_not_allowed) and recorded as the queue
    records a rejection, with its event."""
    app, client = gateway
    theirs = phone_case("HTTP-THEIR-SOURCE", source="cq-visit-desk")
    response = post_case(client, theirs)
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:xinfang:problem:source-not-allowed"
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [
        ("source", "source_not_allowed")
    ]
    assert "cq-visit-desk" not in response.text and SOURCE not in response.text
    assert_no_identity(response.text, [theirs])
    with app.engine.connect() as conn:
        rejection = conn.execute(select(rejected_messages)).one()
        rejected = conn.execute(select(events).where(events.c.type == "rejected")).one()
    assert (rejection.code, rejection.routing_key) == ("source_not_allowed", "http")
    assert (rejected.source, rejected.external_id) == ("cq-visit-desk", "HTTP-THEIR-SOURCE")
    assert ports.count(query_codes) == 0


def test_a_key_over_its_rate_waits(gateway: tuple[App, TestClient]) -> None:
    app, client = gateway
    client.headers["X-API-Key"] = app.producer_keys.issue(SOURCE, rate="3/minute")
    answers = [post_case(client, phone_case(f"HTTP-RATE-{n}")) for n in range(4)]
    assert [r.status_code for r in answers[:3]] == [201, 200, 200]  # the others join the first
    over = answers[3]
    assert over.status_code == 429 and over.headers["content-type"] == "application/problem+json"
    assert 1 <= int(over.headers["retry-after"]) <= 60
    assert over.json()["type"] == "urn:xinfang:problem:too-many-requests"
    other = app.producer_keys.issue(SOURCE, rate="3/minute")  # each key has its own count
    client.headers["X-API-Key"] = other
    assert post_case(client, phone_case("HTTP-RATE-OTHER")).status_code in (200, 201)


def test_query_code_guesses_are_limited_and_the_right_code_is_not(ports: Ports) -> None:
    """Wrong codes count per case number and per client address; the petitioner reloading
    their page with the right code is never counted."""
    with open_gateway(
        ports, code_guesses_per_case="3/minute", code_guesses_per_client="5/minute"
    ) as (_app, client):
        mine = post_case(client, phone_case("HTTP-GUESS")).json()
        case_id, code = mine["case_id"], mine["query_code"]
        for _ in range(8):  # more than either limit, all with the right code
            assert progress(client, case_id, code).status_code == 200
        wrong = [progress(client, case_id, "WRONG234") for _ in range(3)]
        assert {r.status_code for r in wrong} == {404}
        held = progress(client, case_id, code)  # even the right code waits now
        assert held.status_code == 429 and 1 <= int(held.headers["retry-after"]) <= 60
        evaluated = client.post(
            f"{CASES}/{case_id}/evaluation",
            json={"rating": "satisfied"},
            headers={"X-Query-Code": code},
        )
        assert evaluated.status_code == 429
        # The client has 2 wrong guesses left, whatever case they are tried on.
        others = [progress(client, f"no-such-case-{n}", "WRONG234") for n in range(3)]
        assert [r.status_code for r in others] == [404, 404, 429]


def test_keys_are_stored_only_as_hashes(gateway: tuple[App, TestClient]) -> None:
    app, client = gateway
    key = client.headers["X-API-Key"]
    secret = key.split("_", 2)[2]
    assert post_case(client, phone_case("HTTP-HASHED")).status_code == 201
    with app.engine.connect() as conn:
        rows = [dict(row) for row in conn.execute(select(api_keys)).mappings()]
    stored = json.dumps(rows, default=str)
    assert key not in stored and secret not in stored and secret[:16] not in stored
    (row,) = rows
    assert len(row["digest"]) == 64 and row["source"] == SOURCE
    listed = app.producer_keys.listed()
    assert [k.key_id for k in listed] == [row["key_id"]] and key.startswith("xk_")
