"""Open311 GeoReport v2 in XML, the spec's first format (FixMyStreet's client speaks it): the
same endpoints with `.xml` for `.json`, and the same answers written as the spec writes them,
a root element with an element per object and one per field:

    <service_requests><request><service_request_id>…</service_request_id>…</request>…

Errors become `<errors><error><code/><description/></error></errors>`, an empty or null field
an empty element. The JSON endpoints decide everything; this only writes their answers again.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree

from fastapi import Request  # noqa: F401 -- resolves the annotations of the wrapped endpoints
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

MEDIA_TYPE = "text/xml"
_KEPT_HEADERS = ("cache-control", "retry-after")


def document(objects: list[dict[str, Any]], root: str, item: str) -> bytes:
    tree = ElementTree.Element(root)
    for object_ in objects:
        element = ElementTree.SubElement(tree, item)
        for name, value in object_.items():
            ElementTree.SubElement(element, name).text = _text(value)
    return ElementTree.tostring(tree, encoding="utf-8", xml_declaration=True)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def in_xml(answer: Any, root: str, item: str) -> Response:
    """The JSON endpoint's answer (its objects, or a response it made) in XML."""
    if not isinstance(answer, Response):
        return Response(document(answer, root, item), media_type=MEDIA_TYPE)
    objects = json.loads(bytes(answer.body))
    errors = answer.status_code >= 400
    headers = {k: v for k, v in answer.headers.items() if k.lower() in _KEPT_HEADERS}
    body = document(objects, "errors", "error") if errors else document(objects, root, item)
    return Response(body, answer.status_code, headers, media_type=MEDIA_TYPE)


def twin(endpoint: Callable[..., Any], root: str, item: str) -> Callable[..., Any]:
    """An endpoint taking what `endpoint` takes and answering what it answers, in XML."""

    @functools.wraps(endpoint)
    async def xml_endpoint(*args: Any, **kwargs: Any) -> Response:
        if inspect.iscoroutinefunction(endpoint):
            answer = await endpoint(*args, **kwargs)
        else:  # a blocking read: off the event loop, as FastAPI runs the JSON one
            answer = await run_in_threadpool(endpoint, *args, **kwargs)
        return in_xml(answer, root, item)

    return xml_endpoint
