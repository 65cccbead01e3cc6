"""What the OpenAPI document says of the Open311 endpoints: their answers, their errors in the
spec's `[{code, description}]` form, and the arguments of a POST (form-urlencoded as the spec
has them, or JSON). The routes answer with plain JSON; these models only describe it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

# The POST's arguments (a form's fields, or a JSON object's), as GeoReport v2 lists them.
_ARGUMENTS: dict[str, dict[str, Any]] = {
    "api_key": {"type": "string", "description": "The producer's key (xk_…)."},
    "service_code": {"type": "string", "description": "One of services.json."},
    "description": {"type": "string", "description": "The petition's content."},
    "attribute[region]": {"type": "string", "description": "Division code, 6/9/12 digits."},
    "attribute[external_id]": {"type": "string", "description": "The client's own id."},
    "jurisdiction_id": {"type": "string"},
    "address_string": {"type": "string"},
    "address_id": {"type": "string"},
    "lat": {"type": "string"},
    "long": {"type": "string"},
    "first_name": {"type": "string"},
    "last_name": {"type": "string"},
    "phone": {"type": "string"},
    "email": {"type": "string"},
    "device_id": {"type": "string"},
    "account_id": {"type": "string"},
    "media_url": {"type": "string"},
}
_ARGUMENTS_SCHEMA = {"type": "object", "properties": _ARGUMENTS}
REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {"schema": _ARGUMENTS_SCHEMA},
            "application/json": {"schema": _ARGUMENTS_SCHEMA},
        },
    }
}

_FILTERS = ("service_request_id", "service_code", "status", "start_date", "end_date")
LIST_FILTERS: dict[str, Any] = {
    "parameters": [
        {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
        for name in _FILTERS
    ]
}


class ErrorOut(BaseModel):
    code: int
    description: str


class ServiceOut(BaseModel):
    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: Literal["realtime", "batch", "blackbox"]
    keywords: str
    group: str


class CreatedOut(BaseModel):
    service_request_id: str
    service_notice: str
    account_id: None
    query_code: str | None = Field(description="Beyond the spec: only when this POST opened it.")
    note: str


class RequestOut(BaseModel):
    service_request_id: str
    status: Literal["open", "closed"]
    status_notes: str
    service_name: str | None
    service_code: str | None
    agency_responsible: str | None
    service_notice: str
    requested_datetime: str
    updated_datetime: str
    expected_datetime: str | None
    # Withheld (信访 content is confidential): always null.
    description: None
    address: None
    address_id: None
    zipcode: None
    lat: None
    long: None
    media_url: None


_WHY = {
    400: "An argument is missing or wrong; says which.",
    403: "api_key is missing, unknown or revoked.",
    404: "No such service_code or service_request_id.",
    429: "Over the key's rate (Retry-After).",
}


def errors_doc(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses` of an operation for these error statuses, in the spec's form."""
    schema = {"type": "array", "items": ErrorOut.model_json_schema()}
    return {
        status: {"description": _WHY[status], "content": {"application/json": {"schema": schema}}}
        for status in statuses
    }
