"""Schemathesis drives every operation of the gateway's OpenAPI document with what the schema
allows and what it does not, on SQLite and the in-process broker and on PostgreSQL and RabbitMQ:
no input makes a server error, and every answer is one the document declares (status, content
type, body schema).

The operations are walked here, each as a Hypothesis strategy, rather than through
schemathesis' pytest plugin: its lazy fixture loading does not work with this pytest."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from ports import Ports
from schemathesis.specs.openapi.checks import positive_data_acceptance

from contract.gateway import open_gateway

KEY = "X-API-Key"
EXAMPLES = 60  # per operation
# The contract's JSON Schema is its structure; a case the schema admits may still be refused by
# its rules beyond it (a received_at in year 310, a source another key's), with the documented
# 422 or 403. Every other check holds: a refusal is one the document declares.
BEYOND_THE_SCHEMA = [positive_data_acceptance]


@pytest.fixture
def gateway(ports: Ports) -> Iterator[TestClient]:
    # Limits of wrong codes far above the examples: the endpoints are explored, not held back.
    unlimited = {
        "code_guesses_per_case": "100000/minute",
        "code_guesses_per_client": "100000/minute",
    }
    with open_gateway(ports, **unlimited) as (_app, client):
        yield client


def test_every_operation_answers_as_its_schema_says(gateway: TestClient) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", gateway.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/v1/cases", "/open311/v2/requests.json"}
    headers = {KEY: gateway.headers[KEY]}
    for operation in operations:

        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def answers_as_declared(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, excluded_checks=BEYOND_THE_SCHEMA)

        answers_as_declared()
