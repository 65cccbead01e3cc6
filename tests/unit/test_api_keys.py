"""Producer keys' form and hash, and the Open311 arguments' mapping onto a contract-v1 case:
no I/O."""

from __future__ import annotations

from dispatcher.adapters.http import open311_case
from dispatcher.contract.intake import Valid, validate
from dispatcher.domain import api_keys


def test_a_key_parses_back_and_only_its_secret_s_hash_matches() -> None:
    key = api_keys.new_key()
    presented = api_keys.parsed(key.text)
    assert presented is not None and presented.key_id == key.key_id
    kept = api_keys.digest(key.secret)
    assert key.secret not in kept and api_keys.matches(presented.secret, kept)
    assert not api_keys.matches(api_keys.new_key().secret, kept)
    for text in (
        None,
        "",
        "xk_",
        key.text[:-1],
        key.text + "x",
        "x" * 10_000,
        "Bearer " + key.text,
    ):
        assert api_keys.parsed(text) is None, text


def test_open311_arguments_become_a_valid_case() -> None:
    body = (
        b"api_key=k&service_code=housing&attribute[region]=500103&attribute[tags][]=a"
        b"&attribute[tags][]=b&description=%E7%94%B5%E6%A2%AF%E7%BA%A0%E7%BA%B7%0A%E8%AF%A6%E6%83%85"
        b"&first_name=%E5%BE%B7%E6%98%8E&last_name=%E8%B0%AD&email=a%40b.c&lat=29.5&long=106.5"
    )
    arguments = open311_case.from_form(body)
    assert isinstance(arguments, open311_case.Arguments)
    assert arguments.attributes["tags"] == ["a", "b"]
    case = open311_case.case_of(arguments, "wechat", "2026-05-26T09:30:00+08:00", ["housing"])
    assert isinstance(case, dict) and isinstance(validate(case), Valid)
    assert case["title"] == "电梯纠纷" and case["petitioner"] == {"name": "谭德明"}
    assert "29.5, 106.5" in case["content"] and "a@b.c" not in str(case)
    assert case["external_id"].startswith("open311-") and case["channel"] == "online"


def test_open311_arguments_that_make_no_case_say_which() -> None:
    def refusal(body: bytes) -> tuple[int, str]:
        arguments = open311_case.from_form(body)
        assert isinstance(arguments, open311_case.Arguments)
        found = open311_case.case_of(arguments, "s", "2026-05-26T09:30:00+08:00", ["housing"])
        assert isinstance(found, open311_case.NotACase)
        return found.status, found.description.split()[0]

    assert refusal(b"description=x&attribute[region]=500103") == (400, "service_code")
    assert refusal(b"service_code=001&description=x") == (404, "service_code")
    assert refusal(b"service_code=housing&attribute[region]=500103") == (400, "description")
    assert refusal(b"service_code=housing&description=x&jurisdiction_id=city.gov") == (
        400,
        "attribute[region]",
    )
