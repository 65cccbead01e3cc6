"""The HTTP gateway's routes: intake of a contract-v1 case, and the petitioner's endpoints.

The petitioner's endpoints answer to the case number and its query code, sent in the header
X-Query-Code (a header, not the URL: URLs end up in access logs and browser histories). A case
is submitted with its producer's API key (X-API-Key, or Authorization: Bearer), at the key's
rate; wrong query codes are limited per case number and per client address (throttle.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib.metadata import version
from typing import Annotated, Any, Literal, Protocol

from fastapi import Depends, FastAPI, Header, Path, Request
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from dispatcher.adapters.http import open311, problems
from dispatcher.adapters.http.bodies import bounded_body
from dispatcher.adapters.http.console import ConsoleServices, mount_console
from dispatcher.adapters.http.throttle import Throttle, Wait, client_of
from dispatcher.contract.intake import schema_text
from dispatcher.domain.clocks import shanghai_text
from dispatcher.domain.decisions import MAX_TEXT
from dispatcher.domain.state import Rating
from dispatcher.services.intake import Rejected
from dispatcher.services.lifecycle import Outcome as CommandOutcome
from dispatcher.services.lifecycle import Refused
from dispatcher.services.petitioner import PetitionerDesk, Progress, Submitted
from dispatcher.services.producer_keys import Producer, ProducerKeys


class GatewaySettings(Protocol):
    """The settings the gateway reads (bootstrap's Settings has them)."""

    @property
    def rate_limit_storage(self) -> str: ...

    @property
    def code_guesses_per_case(self) -> str: ...

    @property
    def code_guesses_per_client(self) -> str: ...

    @property
    def secure_cookies(self) -> bool | None: ...


class Services(open311.Services, ConsoleServices, Protocol):
    """What the gateway needs of the composition root (bootstrap's App has it)."""

    def session_secret(self) -> str: ...

    @property
    def petitioners(self) -> PetitionerDesk: ...

    @property
    def producer_keys(self) -> ProducerKeys: ...

    @property
    def settings(self) -> GatewaySettings: ...


CaseId = Annotated[str, Path(pattern=r"^[!-~]{1,36}$", description="The case number.")]
QueryCode = Annotated[
    str | None,
    Header(alias="X-Query-Code", description="The query code given when the case was opened."),
]

NOTES = {
    "registered": "Keep the query code: it is shown this once only, and the case can be "
    "followed with it and the case number alone.",
    "duplicate": "This case was submitted before: this is its case number. Its query code was "
    "given to the first submission and is not shown again.",
    "joined": "This petition joined an existing case instead of opening one; no query code is "
    "given for it.",
}


class SubmittedOut(BaseModel):
    case_id: str
    status: Literal["registered", "duplicate", "joined"]
    query_code: str | None = Field(description="Only when this submission opened the case.")
    joined_as: Literal["repeat", "collective", "refused_final"] | None = None
    note: str


class DeadlineOut(BaseModel):
    clock: str
    due_at: str | None = Field(description="RFC 3339 in Asia/Shanghai; null while paused.")
    status: str


class ReplyOut(BaseModel):
    at: str
    request: str | None = None
    facts: str | None = None
    reasons: str | None = None
    decision: str | None = None
    legal_basis: str | None = None


class ProgressOut(BaseModel):
    case_id: str
    stage: str
    unit: str | None = Field(description="The responsible unit, once the case is assigned.")
    deadlines: list[DeadlineOut] = Field(description="The clocks now running or open.")
    replies: list[ReplyOut]
    rating: str | None = Field(description="The petitioner's evaluation, once given.")


def _storable(text: str | None) -> str | None:
    """Text a database can hold: no NUL, no lone surrogate (as the contract refuses them)."""
    if text is not None:
        if "\x00" in text:
            raise ValueError("must not contain a NUL character")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("must not contain a lone UTF-16 surrogate") from None
    return text


class EvaluationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rating: Rating


class ReviewRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str | None, Field(max_length=MAX_TEXT), AfterValidator(_storable)] = None


class CommandOut(BaseModel):
    case_id: str
    stage: str
    review_case_id: str | None = Field(None, description="The review case a request opened.")


class ProblemOut(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] | None = Field(None, description="{field, code, reason} each.")


def _problem_doc(description: str) -> dict[str, Any]:
    schema = ProblemOut.model_json_schema()
    return {"description": description, "content": {problems.MEDIA_TYPE: {"schema": schema}}}


def create_api(app: Services, loopback_only: bool = False) -> FastAPI:
    """The gateway: the API, Open311, and the console under /console. Its session cookies are
    Secure unless the setting says otherwise or, without one, the gateway listens on loopback
    only (`loopback_only`), where a browser is given plain http."""
    api = FastAPI(
        title="xinfang",
        version=version("xinfang"),
        description="Contract-v1 intake over HTTP, and the petitioner's endpoints (查询码).",
    )
    problems.install(api, {open311.PREFIX: open311.framework_error})
    settings = app.settings
    throttle = Throttle(
        settings.rate_limit_storage,
        settings.code_guesses_per_case,
        settings.code_guesses_per_client,
    )
    desk, gate = app.petitioners, Gate(app.producer_keys, throttle)
    _intake_routes(api, desk, gate)
    _petitioner_routes(api, desk, throttle)
    open311.add_routes(api, app, gate)
    secure = settings.secure_cookies if settings.secure_cookies is not None else not loopback_only
    mount_console(api, app, throttle, app.session_secret(), secure)
    return api


_KEY_HEADER = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="The producer's API key (xk_…)."
)
_BEARER = HTTPBearer(auto_error=False, description="The producer's API key, as a bearer token.")


def presented_key(
    key: Annotated[str | None, Depends(_KEY_HEADER)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
) -> str | None:
    return key if key else (bearer.credentials if bearer else None)


class Gate:
    """Admits a producer by its key, at the key's rate."""

    def __init__(self, keys: ProducerKeys, throttle: Throttle) -> None:
        self._keys, self._throttle = keys, throttle

    async def admit(self, key: str | None) -> Producer | None:
        return await run_in_threadpool(self._keys.admit, key)

    def wait(self, producer: Producer) -> int | None:
        """None while the key's rate allows this request, else the seconds to wait."""
        return self._throttle.producer_wait(producer.key_id, producer.rate)


def _case_body_doc() -> dict[str, Any]:
    schema = json.loads(schema_text())
    for key in ("$schema", "$id"):
        schema.pop(key, None)
    content = {"application/json": {"schema": schema}}
    return {"requestBody": {"required": True, "content": content}}


def _intake_routes(api: FastAPI, desk: PetitionerDesk, gate: Gate) -> None:
    @api.post(
        "/api/v1/cases",
        status_code=201,
        response_model=SubmittedOut,
        responses={
            200: {"model": SubmittedOut, "description": "Submitted before, or joined a case."},
            401: _problem_doc("No live API key."),
            403: _problem_doc("The key's source is not the case's; recorded as a rejection."),
            413: _problem_doc("More than 1 MiB."),
            415: _problem_doc("Not application/json."),
            422: _problem_doc("Not a valid contract-v1 case; recorded as a rejection."),
            429: _problem_doc("Over the key's rate; Retry-After says when to try again."),
        },
        openapi_extra=_case_body_doc(),
    )
    async def submit_case(
        request: Request, key: Annotated[str | None, Depends(presented_key)]
    ) -> JSONResponse:
        """Submit a contract-v1 case of the key's source: the same validation and idempotency
        on (source, external_id) as the intake queue."""
        producer = await gate.admit(key)
        if producer is None:
            return problems.unauthorized()
        if (wait := gate.wait(producer)) is not None:
            return problems.too_many_requests(wait)
        body = await bounded_body(request)
        content_type = request.headers.get("content-type")
        outcome = await run_in_threadpool(desk.submit, body, content_type, producer.source)
        if isinstance(outcome, Rejected):
            return problems.invalid_case(outcome.invalid)
        return _submitted(outcome)


def _submitted(outcome: Submitted) -> JSONResponse:
    out = SubmittedOut(
        case_id=outcome.case_id,
        status=outcome.status,  # type: ignore[arg-type]
        query_code=outcome.query_code,
        joined_as=outcome.joined_as,  # type: ignore[arg-type]
        note=NOTES[outcome.status],
    )
    created = outcome.status == "registered"
    headers = {"Location": f"/api/v1/cases/{outcome.case_id}/progress"} if created else {}
    # The code is shown once: no cache between the petitioner and us may keep it.
    headers["Cache-Control"] = "no-store"
    return JSONResponse(out.model_dump(), status_code=201 if created else 200, headers=headers)


def _petitioner_routes(api: FastAPI, desk: PetitionerDesk, throttle: Throttle) -> None:
    not_found: dict[int | str, dict[str, Any]] = {
        404: _problem_doc("No such case, or not its query code."),
        429: _problem_doc("Too many wrong codes for this case or from this client."),
    }
    refused = {**not_found, 409: _problem_doc("The lifecycle refuses it now; says why.")}

    def guarded(request: Request, case_id: str, attempt: Callable[[], Any]) -> Any:
        answer = throttle.guarded(case_id, client_of(request), attempt)
        return problems.too_many_requests(answer.seconds) if isinstance(answer, Wait) else answer

    @api.get("/api/v1/cases/{case_id}/progress", response_model=ProgressOut, responses=not_found)
    def progress(case_id: CaseId, request: Request, x_query_code: QueryCode = None) -> Any:
        """The stage, the responsible unit, the running deadlines and the written replies."""
        found = guarded(request, case_id, lambda: desk.progress(case_id, x_query_code))
        if found is None:
            return problems.not_found()
        return found if isinstance(found, JSONResponse) else _progress(found)

    @api.post("/api/v1/cases/{case_id}/evaluation", response_model=CommandOut, responses=refused)
    def evaluation(
        case_id: CaseId, body: EvaluationIn, request: Request, x_query_code: QueryCode = None
    ) -> Any:
        """Evaluate the reply (satisfied, basically satisfied, dissatisfied), as
        `xinfang case evaluate` does."""
        return _answer(
            guarded(request, case_id, lambda: desk.evaluate(case_id, x_query_code, body.rating))
        )

    @api.post(
        "/api/v1/cases/{case_id}/review-request", response_model=CommandOut, responses=refused
    )
    def review_request(
        case_id: CaseId, body: ReviewRequestIn, request: Request, x_query_code: QueryCode = None
    ) -> Any:
        """Ask for review (复查) at the next-higher body, as `xinfang case request-review`."""
        return _answer(
            guarded(
                request, case_id, lambda: desk.request_review(case_id, x_query_code, body.reason)
            )
        )


def _answer(outcome: CommandOutcome | JSONResponse | None) -> Any:
    if outcome is None:
        return problems.not_found()
    if isinstance(outcome, JSONResponse):  # too many wrong codes
        return outcome
    if isinstance(outcome, Refused):
        return problems.refused(outcome.reason)
    return CommandOut(
        case_id=outcome.case_id, stage=outcome.stage.value, review_case_id=outcome.linked_case_id
    )


def _progress(found: Progress) -> ProgressOut:
    return ProgressOut(
        case_id=found.case_id,
        stage=found.stage.value,
        unit=found.unit,
        deadlines=[
            DeadlineOut(
                clock=d.clock,
                due_at=shanghai_text(d.due_at) if d.due_at else None,
                status=d.status,
            )
            for d in found.deadlines
        ],
        replies=[ReplyOut(at=shanghai_text(r.at), **r.texts) for r in found.replies],
        rating=found.rating,
    )
