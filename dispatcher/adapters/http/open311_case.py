"""An Open311 GeoReport v2 service request as a contract-v1 case (no I/O).

A POST's arguments (application/x-www-form-urlencoded, as the spec has it, or a JSON object
of the same names) become a case of channel `online` whose source is the producer key's:

- service_code -> category; description -> content (and its first line the title), with the
  place the client gave (address_string, address_id, lat/long) written under it;
- first_name/last_name -> petitioner.name, phone -> petitioner.phone; email, device_id and
  account_id are not kept: contract v1 has no place for them, and what is not kept cannot leak;
- attribute[region] (or jurisdiction_id, when it is a division code) -> region: the case is
  placed by its administrative division, which latitude and longitude do not give. A client
  that sends neither (most Open311 clients know no division codes) has the case placed by
  `locate`: the division its address or description names, else the jurisdiction's own, where
  the petition bureau triages it;
- media_url -> an attachment;
- attribute[external_id], else an Idempotency-Key header, -> external_id: a client that sends
  the same one again gets the same case back (the queue's idempotency on (source,
  external_id)); without either every POST is a new request, with a fresh id.

Other attributes are not kept (the services have no metadata, so none are defined). Errors say
which argument is wrong and never repeat what was sent.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from dispatcher.contract.intake import SCHEMA_ID

MAX_TITLE = 200
_ATTRIBUTE = re.compile(r"attribute\[([^\]]+)\](\[\])?")
_REGION = re.compile(r"[0-9]{6}|[0-9]{9}|[0-9]{12}")
_CJK = re.compile(r"[\u3400-\u9fff]")
# The division a text names, else the jurisdiction's own (None: the client must say it).
Locate = Callable[[str], str | None]


@dataclass(frozen=True)
class Arguments:
    """A POST's arguments: plain ones by name (an empty one is as good as none, as the spec
    says of optional arguments), and the attribute[code] ones by code."""

    plain: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, str | list[str]] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        value = self.plain.get(name, "").strip()
        return value or None

    def attribute(self, code: str) -> str | None:
        value = self.attributes.get(code)
        text = value[-1] if isinstance(value, list) and value else value
        if not isinstance(text, str):
            return None
        return text.strip() or None


@dataclass(frozen=True)
class NotACase:
    status: int  # 400, or 404 for a service_code that is not one of ours
    description: str


def from_form(body: bytes) -> Arguments | NotACase:
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        return NotACase(400, "the request is not UTF-8 form data")
    return _arguments(pairs)


def from_json(document: Any) -> Arguments | NotACase:
    if not isinstance(document, dict):
        return NotACase(400, "the request is not a JSON object of arguments")
    pairs: list[tuple[str, str]] = []
    for name, value in document.items():
        if name == "attribute" and isinstance(value, dict):
            pairs += [(f"attribute[{code}]", _text(v)) for code, v in value.items()]
        elif not isinstance(value, dict | list):
            pairs.append((name, _text(value)))
    return _arguments(pairs)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _arguments(pairs: Iterable[tuple[str, str]]) -> Arguments:
    arguments = Arguments()
    for name, value in pairs:
        found = _ATTRIBUTE.fullmatch(name)
        if found is None:
            arguments.plain[name] = value
        elif found.group(2):  # attribute[code][]=…, a multivaluelist
            listed = arguments.attributes.setdefault(found.group(1), [])
            if isinstance(listed, list):
                listed.append(value)
        else:
            arguments.attributes[found.group(1)] = value
    return arguments


def case_of(
    arguments: Arguments,
    source: str,
    received_at: str,
    service_codes: Iterable[str],
    idempotency_key: str | None = None,
    locate: Locate | None = None,
) -> dict[str, Any] | NotACase:
    """The contract-v1 case of a POST, or why there is none. The contract then validates it
    as it validates every case."""
    code = arguments.get("service_code")
    if code is None:
        return NotACase(400, "service_code was not provided")
    if code not in set(service_codes):
        return NotACase(404, "service_code was not found: GET services.json lists them")
    description = arguments.get("description")
    if description is None:
        return NotACase(400, "description was not provided: a petition needs its content")
    region = (
        arguments.attribute("region")
        or _region(arguments.get("jurisdiction_id"))
        or _located(arguments, description, locate)
    )
    if region is None:
        return NotACase(
            400, "attribute[region] was not provided: the division code (6, 9 or 12 digits)"
        )
    case: dict[str, Any] = {
        "schema": SCHEMA_ID,
        "source": source,
        "external_id": arguments.attribute("external_id")
        or idempotency_key
        or f"open311-{uuid.uuid4()}",
        "channel": "online",
        "received_at": received_at,
        "region": region,
        "category": code,
        "title": _title(description),
        "content": description + _place(arguments),
    }
    if petitioner := _petitioner(arguments):
        case["petitioner"] = petitioner
    if media := arguments.get("media_url"):
        case["attachments"] = [{"uri": media}]
    return case


def _region(jurisdiction: str | None) -> str | None:
    return jurisdiction if jurisdiction and _REGION.fullmatch(jurisdiction) else None


def _located(arguments: Arguments, description: str, locate: Locate | None) -> str | None:
    if locate is None:
        return None
    return locate("\n".join(filter(None, (arguments.get("address_string"), description))))


def _title(description: str) -> str:
    first = description.strip().splitlines()[0].strip()
    return first if len(first) <= MAX_TITLE else first[: MAX_TITLE - 1] + "…"


def _place(arguments: Arguments) -> str:
    """Where the client said the matter is, as lines under the description: kept with the
    content, which is confidential, and never told back."""
    lines = []
    if address := arguments.get("address_string"):
        lines.append(f"地点：{address}")
    if address_id := arguments.get("address_id"):
        lines.append(f"地址编号：{address_id}")
    lat, long = arguments.get("lat"), arguments.get("long")
    if lat and long:
        lines.append(f"坐标（WGS84）：{lat}, {long}")
    return "\n\n" + "\n".join(lines) if lines else ""


def _petitioner(arguments: Arguments) -> dict[str, str]:
    found: dict[str, str] = {}
    if name := _name(arguments.get("first_name"), arguments.get("last_name")):
        found["name"] = name
    if phone := arguments.get("phone"):
        found["phone"] = phone
    return found


def _name(first: str | None, last: str | None) -> str | None:
    """A Chinese name family name first and unspaced (谭 + 德明), another given name first."""
    if _CJK.search(f"{first or ''}{last or ''}"):
        return f"{last or ''}{first or ''}" or None
    return " ".join(part for part in (first, last) if part) or None


def is_form(content_type: str | None) -> bool:
    return _media_type(content_type) == "application/x-www-form-urlencoded"


def is_json(content_type: str | None) -> bool:
    return _media_type(content_type) == "application/json"


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()
