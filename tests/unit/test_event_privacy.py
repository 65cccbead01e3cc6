"""Published events carry no free text written by people (it may name the petitioner), and
no message with a NUL character gets as far as the database."""

from __future__ import annotations

import json

from dispatcher.adapters.messaging.relay import public_data
from dispatcher.contract.intake import COMMAND_SCHEMA, Invalid, Valid, parse


def test_a_reply_is_published_without_its_texts() -> None:
    data = {
        "actor": "officer-7",
        "request": "张三要求…",
        "facts": "经查张三…",
        "reasons": "…",
        "decision": "…",
        "legal_basis": "《信访工作条例》第三十二条",
    }
    public = public_data("replied", data)
    assert public == {
        "actor": "officer-7",
        "legal_basis": "《信访工作条例》第三十二条",
        "texts": ["decision", "facts", "reasons", "request"],
    }
    assert "张三" not in json.dumps(public, ensure_ascii=False)


def test_system_reasons_stay_on_rejections() -> None:
    data = {"action": "reply", "reason": "case x is assigned: cannot reply"}
    assert public_data("command_rejected", data) == data


def test_nul_characters_are_refused_anywhere_in_a_message() -> None:
    base = {
        "schema": "xinfang.case/v1",
        "source": "s",
        "external_id": "1",
        "channel": "phone",
        "received_at": "2026-05-26T09:30:00+08:00",
        "region": "500103",
        "title": "t",
        "content": "c",
    }
    assert isinstance(parse(json.dumps(base)), Valid)
    for broken in ({**base, "title": "a\u0000b"}, {**base, "extra": {"k": ["\u0000"]}}):
        result = parse(json.dumps(broken))
        assert isinstance(result, Invalid) and "NUL" in result.reason
    assert isinstance(parse(json.dumps({**base, "title": "a\\u0000 as text"})), Valid)


def test_a_command_case_id_longer_than_a_uuid_is_invalid() -> None:
    command = {
        "schema": "xinfang.command/v1",
        "command_id": "c1",
        "case_id": "x" * 37,
        "action": "accept",
        "actor": "me",
    }
    assert isinstance(parse(json.dumps(command), schema=COMMAND_SCHEMA), Invalid)
    command["case_id"] = "x" * 36
    assert isinstance(parse(json.dumps(command), schema=COMMAND_SCHEMA), Valid)
