"""Errors as RFC 9457 problem details (application/problem+json).

A problem never carries a value the client sent: a value may be a petitioner's name or phone
number. Field errors say where and what is expected, as the contract's reasons do.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from dispatcher.contract.intake import Invalid, Problem

MEDIA_TYPE = "application/problem+json"
INVALID_CASE = "urn:xinfang:problem:invalid-case"
INVALID_REQUEST = "urn:xinfang:problem:invalid-request"
NOT_FOUND = "urn:xinfang:problem:not-found"
REFUSED = "urn:xinfang:problem:refused"
# What an invalid case is answered with, by its contract code; anything else is 422.
_STATUS_OF_CODE = {"too_large": 413, "content_type": 415}


def problem(
    status: int, type_: str, title: str, detail: str, errors: Iterable[Problem] = ()
) -> JSONResponse:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status, "detail": detail}
    listed = [{"field": p.field, "code": p.code, "reason": p.reason} for p in errors]
    if listed:
        body["errors"] = listed
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE)


def invalid_case(invalid: Invalid) -> JSONResponse:
    return problem(
        _STATUS_OF_CODE.get(invalid.code, 422),
        INVALID_CASE,
        "The case is not valid under contract xinfang.case/v1",
        invalid.reason,
        invalid.each(),
    )


def not_found() -> JSONResponse:
    # One answer for an unknown case, a wrong code and no code: case numbers cannot be probed.
    return problem(404, NOT_FOUND, "Not found", "no case with this number and query code")


def refused(reason: str) -> JSONResponse:
    return problem(409, REFUSED, "Refused", reason)


def install(api: FastAPI) -> None:
    """Every error of the framework itself (a malformed body, an unknown path) as a problem."""
    api.add_exception_handler(RequestValidationError, _request_invalid)
    api.add_exception_handler(HTTPException, _http_error)


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
    title = str(error.detail) if isinstance(error.detail, str) else "Error"
    response = problem(error.status_code, "about:blank", title, title)
    response.headers.update(error.headers or {})
    return response
