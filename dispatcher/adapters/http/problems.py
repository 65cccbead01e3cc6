"""Errors as RFC 9457 problem details (application/problem+json).

A problem never carries a value the client sent: a value may be a petitioner's name or phone
number. Field errors say where and what is expected, as the contract's reasons do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from dispatcher.contract.intake import Invalid, Problem

MEDIA_TYPE = "application/problem+json"
INVALID_CASE = "urn:xinfang:problem:invalid-case"
INVALID_REQUEST = "urn:xinfang:problem:invalid-request"
NOT_FOUND = "urn:xinfang:problem:not-found"
REFUSED = "urn:xinfang:problem:refused"
UNAUTHORIZED = "urn:xinfang:problem:unauthorized"
SOURCE_NOT_ALLOWED = "urn:xinfang:problem:source-not-allowed"
TOO_MANY_REQUESTS = "urn:xinfang:problem:too-many-requests"
# What an invalid case is answered with, by its contract code; anything else is 422.
_STATUS_OF_CODE = {"too_large": 413, "content_type": 415}
# RFC 6750's challenge: the key may also come as a bearer token.
CHALLENGE = 'Bearer realm="xinfang"'


def problem(
    status: int, type_: str, title: str, detail: str, errors: Iterable[Problem] = ()
) -> JSONResponse:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status, "detail": detail}
    listed = [{"field": p.field, "code": p.code, "reason": p.reason} for p in errors]
    if listed:
        body["errors"] = listed
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE)


def invalid_case(invalid: Invalid) -> JSONResponse:
    if invalid.code == "source_not_allowed":
        title = "The API key may not submit cases of this source"
        return problem(403, SOURCE_NOT_ALLOWED, title, invalid.reason, invalid.each())
    return problem(
        _STATUS_OF_CODE.get(invalid.code, 422),
        INVALID_CASE,
        "The case is not valid under contract xinfang.case/v1",
        invalid.reason,
        invalid.each(),
    )


def unauthorized() -> JSONResponse:
    # One answer for a missing, malformed, unknown or revoked key: keys cannot be probed.
    response = problem(
        401,
        UNAUTHORIZED,
        "An API key is needed",
        "send a live producer key in the X-API-Key header (or as Authorization: Bearer)",
    )
    response.headers["WWW-Authenticate"] = CHALLENGE
    return response


def too_many_requests(retry_after: int) -> JSONResponse:
    response = problem(429, TOO_MANY_REQUESTS, "Too many requests", f"try again in {retry_after} s")
    response.headers["Retry-After"] = str(retry_after)
    return response


def not_found() -> JSONResponse:
    # One answer for an unknown case, a wrong code and no code: case numbers cannot be probed.
    return problem(404, NOT_FOUND, "Not found", "no case with this number and query code")


def refused(reason: str) -> JSONResponse:
    return problem(409, REFUSED, "Refused", reason)


# (status, sentence) -> the error in another format, for paths whose clients expect one.
ErrorFormat = Callable[[int, str], Response]


def install(api: FastAPI, formats: Mapping[str, ErrorFormat] | None = None) -> None:
    """Every error of the framework itself (a malformed body, an unknown path) as a problem,
    or, under a path prefix of `formats`, in that prefix's format (Open311's, say)."""
    others = dict(formats or {})

    def other_format(request: Request) -> ErrorFormat | None:
        path = request.url.path
        return next((f for prefix, f in others.items() if path.startswith(prefix)), None)

    async def request_invalid(request: Request, error: Exception) -> Response:
        if (render := other_format(request)) is not None:
            return render(400, "the request is not valid")
        return await _request_invalid(request, error)

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        if (render := other_format(request)) is not None:
            response = render(error.status_code, _title(error))
            response.headers.update(error.headers or {})
            return response
        return await _http_error(request, error)

    api.add_exception_handler(RequestValidationError, request_invalid)
    api.add_exception_handler(HTTPException, http_error)


def _title(error: HTTPException) -> str:
    return str(error.detail) if isinstance(error.detail, str) else "Error"


async def _request_invalid(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    # pydantic's "input" holds the value sent: only where and what is expected go out.
    errors = [
        Problem("/".join(str(part) for part in e.get("loc", ())), str(e["type"]), str(e["msg"]))
        for e in error.errors()
    ]
    return problem(422, INVALID_REQUEST, "The request is not valid", "see errors", errors)


async def _http_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    title = _title(error)
    response = problem(error.status_code, "about:blank", title, title)
    response.headers.update(error.headers or {})
    return response
