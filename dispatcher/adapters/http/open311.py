"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) under /open311/v2, in JSON, and
in XML through the same endpoints (open311_xml.py: `.xml` for `.json`).

- GET services.json: the categories the rules route by (open311_services.py);
- POST requests.json: a service request becomes a contract-v1 case (open311_case.py) of the
  producer key's source, submitted through PetitionerDesk.submit as /api/v1/cases is: the
  queue's validation, rejection records and idempotency. The answer is the spec's, plus the
  petitioner's query code (shown this once) in `query_code`;
- GET requests/{id}.json and requests.json: where cases stand (services/public_status.py).
  The fields that would carry the petition's text, place or petitioner (description, address,
  address_id, zipcode, lat, long, media_url) are there, as the spec lists them, and always null:
  信访 content is confidential.

Errors are the spec's `[{"code", "description"}]` with the HTTP status it names (403 for a
missing or wrong api_key, 404 for what does not exist, 400 for the rest; 429 over the key's
rate), not /api/v1's RFC 9457 problems: Open311 clients read this format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from dispatcher.adapters.http import open311_case as mapping
from dispatcher.adapters.http import open311_docs as docs
from dispatcher.adapters.http import open311_xml as xml
from dispatcher.adapters.http.bodies import bounded_body
from dispatcher.adapters.http.open311_services import NAMES, services_of
from dispatcher.contract.intake import MAX_MESSAGE_BYTES
from dispatcher.domain.clock import Clock, parse_timestamp
from dispatcher.domain.clocks import shanghai_text
from dispatcher.domain.stages import TERMINAL, Stage
from dispatcher.services.intake import Rejected
from dispatcher.services.petitioner import PetitionerDesk, Submitted
from dispatcher.services.producer_keys import Producer
from dispatcher.services.public_status import PublicStatus, PublicStatuses, Window
from rules import RuleSet

PREFIX = "/open311/"
BASE = "/open311/v2"
TAGS: list[str | Any] = ["Open311 GeoReport v2"]
# The spec's bounds of GET requests: "a span of 90 days or first 1000 requests".
MAX_SPAN = timedelta(days=90)
MAX_REQUESTS = 1000
_CASE_ID = re.compile(r"[!-~]{1,36}")
# Arguments of the sort the spec lists; what is withheld is named, and always null.
WITHHELD = ("description", "address", "address_id", "zipcode", "lat", "long", "media_url")
NOTICE = (
    "信访事项依《信访工作条例》办理：登记后15日内转送责任单位，责任单位15日内决定是否受理，"
    "受理后60日内办结并书面答复。"
)
NOTES = {
    "registered": "Keep query_code: it is shown this once, and it is what /console/track and "
    "/api/v1 ask for to follow the case, evaluate the reply or ask for review.",
    "duplicate": "Submitted before with this external_id: the same request, no new query code.",
    "joined": "Joined an existing case on the same matter; no query code is given for it.",
}
STAGE_WORDS = {
    Stage.REGISTERED: "已登记，待转送",
    Stage.TRIAGE: "信访机构分办中",
    Stage.ASSIGNED: "已转送责任单位，待受理",
    Stage.OBJECTED: "责任单位提出异议，重新分办中",
    Stage.ACCEPTED: "已受理，办理中",
    Stage.NOT_ACCEPTED: "不予受理",
    Stage.REPLIED: "已书面答复（信访人凭查询码查看）",
    Stage.UNDER_REVIEW: "复查（复核）中",
    Stage.CLOSED: "已办结",
    Stage.FINAL: "复核终结",
}


class RuleSource(Protocol):
    @property
    def ruleset(self) -> RuleSet: ...


class Services(Protocol):
    """What these routes need of the composition root (bootstrap's App has it)."""

    @property
    def petitioners(self) -> PetitionerDesk: ...

    @property
    def public_statuses(self) -> PublicStatuses: ...

    @property
    def decider(self) -> RuleSource: ...

    @property
    def clock(self) -> Clock: ...


class Gate(Protocol):
    async def admit(self, key: str | None) -> Producer | None: ...

    def wait(self, producer: Producer) -> int | None: ...


def errors(status: int, *descriptions: str, headers: Mapping[str, str] | None = None) -> Response:
    body = [{"code": status, "description": description} for description in descriptions]
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


def framework_error(status: int, sentence: str) -> Response:
    """An error of the framework itself (an unknown path, a method not allowed)."""
    return errors(status, sentence)


def add_routes(api: FastAPI, app: Services, gate: Gate) -> None:
    @api.get(f"{BASE}/services.json", tags=TAGS, response_model=list[docs.ServiceOut])
    def services() -> Any:
        """The service request types: one per category the rules route by."""
        return [service.as_open311() for service in services_of(app.decider.ruleset)]

    @api.post(
        f"{BASE}/requests.json",
        tags=TAGS,
        response_model=list[docs.CreatedOut],
        responses=docs.errors_doc(400, 403, 404, 429),
        openapi_extra=docs.REQUEST_BODY,
    )
    async def create_request(request: Request) -> Response:
        """Create a service request (form-urlencoded, as the spec says, or JSON), with the
        producer's key in `api_key`."""
        arguments = _arguments(await bounded_body(request), request.headers.get("content-type"))
        if isinstance(arguments, mapping.NotACase):
            return errors(arguments.status, arguments.description)
        producer = await gate.admit(arguments.get("api_key") or request.headers.get("x-api-key"))
        if producer is None:
            return errors(403, "api_key is missing, unknown or revoked: no request was created")
        if (wait := gate.wait(producer)) is not None:
            retry = {"Retry-After": str(wait)}
            return errors(429, f"over this api_key's rate: try again in {wait} s", headers=retry)
        return await _submit(app, arguments, producer, request.headers.get("idempotency-key"))

    @api.get(
        f"{BASE}/requests/{{service_request_id}}.json",
        tags=TAGS,
        response_model=list[docs.RequestOut],
        responses=docs.errors_doc(404),
    )
    def one_request(service_request_id: str) -> Any:
        """One service request: its status, never its content or its petitioner."""
        found = (
            app.public_statuses.of([service_request_id])
            if _CASE_ID.fullmatch(service_request_id)
            else []
        )
        if not found:
            return errors(404, "service_request_id was not found")
        return [_request(found[0])]

    @api.get(
        f"{BASE}/requests.json",
        tags=TAGS,
        response_model=list[docs.RequestOut],
        responses=docs.errors_doc(400),
        openapi_extra=docs.LIST_FILTERS,
    )
    def many_requests(request: Request) -> Any:
        """Service requests by service_request_id (comma-separated), or received in a window
        of at most 90 days (the latest 90 by default), at most 1000, the latest first."""
        query = request.query_params
        asked = _ids(query.get("service_request_id"))
        if asked:
            if len(asked) > MAX_REQUESTS:
                return errors(400, f"at most {MAX_REQUESTS} service_request_id at once")
            return [_request(s) for s in app.public_statuses.of(asked)]
        window = _window(query, app.clock())
        if isinstance(window, str):
            return errors(400, window)
        return [_request(s) for s in app.public_statuses.received(window)]

    xml_twins = (
        (f"{BASE}/services.xml", services, "GET", "services", "service"),
        (f"{BASE}/requests.xml", create_request, "POST", "service_requests", "request"),
        (
            f"{BASE}/requests/{{service_request_id}}.xml",
            one_request,
            "GET",
            "service_requests",
            "request",
        ),
        (f"{BASE}/requests.xml", many_requests, "GET", "service_requests", "request"),
    )
    for path, endpoint, method, root, item in xml_twins:
        api.add_api_route(
            path, xml.twin(endpoint, root, item), methods=[method], include_in_schema=False
        )


async def _submit(
    app: Services, arguments: mapping.Arguments, producer: Producer, idempotency: str | None
) -> Response:
    codes = [service.code for service in services_of(app.decider.ruleset)]
    received = shanghai_text(app.clock())
    directory = app.decider.ruleset.directory

    def locate(text: str) -> str:  # the division named, else the jurisdiction's own
        return directory.region_named_in(text) or directory.root

    case = mapping.case_of(arguments, producer.source, received, codes, idempotency, locate)
    if isinstance(case, mapping.NotACase):
        return errors(case.status, case.description)
    body = json.dumps(case, ensure_ascii=False).encode("utf-8")
    desk = app.petitioners
    outcome = await run_in_threadpool(desk.submit, body, "application/json", producer.source)
    if isinstance(outcome, Rejected):  # recorded as the queue records a rejection
        return errors(400, *(problem.reason for problem in outcome.invalid.each()))
    return _created(outcome)


def _created(outcome: Submitted) -> Response:
    answer = {
        "service_request_id": outcome.case_id,
        "service_notice": NOTICE,
        "account_id": None,
        "query_code": outcome.query_code,  # beyond the spec: only when this POST opened it
        "note": NOTES[outcome.status],
    }
    # The code is shown once: no cache between the client and us may keep it.
    return JSONResponse([answer], headers={"Cache-Control": "no-store"})


def _arguments(body: bytes, content_type: str | None) -> mapping.Arguments | mapping.NotACase:
    if len(body) > MAX_MESSAGE_BYTES:
        return mapping.NotACase(400, f"the request is larger than {MAX_MESSAGE_BYTES} bytes")
    if mapping.is_form(content_type):
        return mapping.from_form(body)
    if mapping.is_json(content_type):
        try:
            return mapping.from_json(json.loads(body))
        except (ValueError, RecursionError):
            return mapping.NotACase(400, "the request is not JSON")
    return mapping.NotACase(
        400, "send the arguments as application/x-www-form-urlencoded (or application/json)"
    )


def _request(status: PublicStatus) -> dict[str, Any]:
    """One service request as the spec lists its fields, withheld ones null."""
    return {
        "service_request_id": status.case_id,
        "status": "closed" if status.closed else "open",
        "status_notes": _notes(status),
        "service_name": NAMES.get(status.category or "", status.category),
        "service_code": status.category,
        "agency_responsible": status.unit,
        "service_notice": NOTICE,
        "requested_datetime": _w3(status.received_at),
        "updated_datetime": _w3(status.updated_at),
        "expected_datetime": _w3(status.due_at) if status.due_at else None,
        **dict.fromkeys(WITHHELD),
    }


def _notes(status: PublicStatus) -> str:
    # The stage in words only: the reply itself is the petitioner's, read with the query code.
    return STAGE_WORDS.get(status.stage, status.stage.value)


def _w3(moment: datetime) -> str:
    return shanghai_text(moment.replace(microsecond=0))


def _ids(text: str | None) -> list[str]:
    listed = [part.strip() for part in (text or "").split(",")]
    return [case_id for case_id in listed if _CASE_ID.fullmatch(case_id)]


def _window(query: Mapping[str, str], now: datetime) -> Window | str:
    """The window asked for, or why it cannot be given."""
    try:
        start, end = _moment(query.get("start_date")), _moment(query.get("end_date"))
    except ValueError as error:
        return str(error)
    if start is None:
        end = end or now
        start = end - MAX_SPAN
    elif end is None:
        end = start + MAX_SPAN
    if end < start:
        return "end_date is before start_date"
    if end - start > MAX_SPAN:
        return "start_date to end_date may not span more than 90 days"
    stages = _stages(query.get("status"))
    if isinstance(stages, str):
        return stages
    codes = [code.strip() for code in (query.get("service_code") or "").split(",")]
    return Window(start, end, MAX_REQUESTS, [code for code in codes if code], stages)


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = parse_timestamp(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValueError("a date must be in w3 format with its zone, eg 2010-01-01T00:00:00Z")
    return moment


def _stages(text: str | None) -> list[Stage] | str:
    asked = {part.strip() for part in (text or "").split(",") if part.strip()}
    if asked - {"open", "closed"}:
        return "status must be open or closed (or both, comma-separated)"
    if len(asked) != 1:
        return []
    closed = "closed" in asked
    return [stage for stage in Stage if (stage in TERMINAL) == closed]
