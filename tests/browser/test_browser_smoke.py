"""The whole chain of the browser tests at once: Debian's chromium, launched by Playwright,
reads the OpenAPI document of a gateway served live by uvicorn over a real port, on the twins
and on PostgreSQL and RabbitMQ."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Browser, Page

from browser.conftest import Gateway, chromium_version

pytestmark = pytest.mark.browser


def test_chromium_reads_the_live_gateways_openapi_document(
    page: Page, gateway: Gateway, browser: Browser, chromium: str
) -> None:
    # The browser Playwright drives is the distribution's, not one of its own downloads.
    assert browser.version == chromium_version(chromium)

    response = page.goto(f"{gateway.url}/openapi.json")
    assert response is not None and response.status == 200, response
    assert response.headers["content-type"].startswith("application/json")
    text = page.locator("body").inner_text()
    assert "xinfang" in text and "/api/v1/cases" in text
    # Chromium shows a JSON document as its raw text in a <pre>: what the browser received.
    document = json.loads(page.locator("pre").first.inner_text())
    assert document["info"]["title"] == "xinfang"
    assert "/api/v1/cases" in document["paths"]
