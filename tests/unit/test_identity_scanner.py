"""The identity scanner of tests/e2e/test_identity_scan.py finds an identity planted in a log,
in the forms a leak takes, and nothing in a log without one: the scan can fail."""

from __future__ import annotations

import json

from identity_scan import find_leaks, identities, normalised

PETITIONER = {
    "name": "罗平安",
    "id_number": "50010719850716522X",
    "phone": "13804749638",
    "address": "重庆市九龙坡区人和街道锦绣华庭7栋2单元5-7号",
}
CLEAN_LOG = (
    "2026-05-26 09:30:00,001 DEBUG workers.actors.xinfang.route Thread-3: routed case "
    "c1397893 to 500107:civil_affairs (九龙坡区民政局), 1 of 1\n"
    "2026-05-26 09:30:00,002 INFO dispatcher.adapters.messaging.relay relay: 12 events\n"
)


def _found(log: str, vocabulary: tuple[str, ...] = ()) -> set[str]:
    wanted = identities([{"petitioner": PETITIONER}])
    return {leak.identity.field for leak in find_leaks({"log": log}, wanted, vocabulary)}


def test_a_clean_log_has_no_leak() -> None:
    assert _found(CLEAN_LOG) == set()


def test_each_identity_planted_in_a_log_is_found() -> None:
    for field, value in PETITIONER.items():
        assert _found(CLEAN_LOG + f"DEBUG x: petitioner {value}\n") == {field}, field


def test_an_identity_is_found_in_the_forms_it_takes_on_its_way_to_a_log() -> None:
    escaped = json.dumps(PETITIONER)  # ensure_ascii: \u7f57\u5e73\u5b89
    assert _found(escaped) == set(PETITIONER)
    as_bytes = repr(json.dumps(PETITIONER, ensure_ascii=False).encode())  # b'...\xe7\xbd\x97'
    assert _found(as_bytes) == set(PETITIONER)
    assert _found("tel 138-0474 9638") == {"phone"}
    assert _found("tel １３８０４７４９６３８") == {"phone"}  # full width
    assert _found("id 500107 19850716 522x") == {"id_number"}
    assert _found("重庆市九龙坡区人和街道\n    锦绣华庭7栋2单元5-7号") == {"address"}


def test_a_name_is_not_found_in_the_system_s_own_words_nor_a_single_character() -> None:
    liangping = identities([{"petitioner": {"name": "梁平"}}])
    unit = "梁平区住房和城乡建设委员会"
    assert len(find_leaks({"report": unit}, liangping)) == 1
    assert find_leaks({"report": unit}, liangping, vocabulary=("梁平区",)) == []
    named = {"report": f"{unit}: 信访人梁平"}
    assert len(find_leaks(named, liangping, vocabulary=("梁平区",))) == 1
    assert identities([{"petitioner": {"name": "罗", "phone": " "}}]) == []


def test_values_are_looked_for_in_one_form() -> None:
    assert normalised(" 139-2345 6781 ", "phone") == "13923456781"
    assert normalised("50010319900101123x", "id_number") == "50010319900101123X"
    assert normalised("重庆市渝中区 民族路88号", "address") == "重庆市渝中区民族路88号"
    assert normalised("Li  Ping", "name") == "Li Ping"
