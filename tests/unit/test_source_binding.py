"""Sources bound to broker users: the pure decision, XINFANG_SOURCE_USERS read into it, and
the embedded path of `xinfang publish`, which has no broker identity to show."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dispatcher.adapters.db.tables import cases, rejected_messages
from dispatcher.adapters.messaging.confirms import Outgoing
from dispatcher.bootstrap.app import build
from dispatcher.bootstrap.config_file import with_config
from dispatcher.bootstrap.direct_intake import DirectIntake
from dispatcher.bootstrap.settings import Settings, SettingsError
from dispatcher.contract.intake import Invalid
from dispatcher.contract.sources import (
    SOURCE_NOT_ALLOWED,
    bind_sources,
    parse_source_users,
    source_refusal,
)
from dispatcher.domain.clock import FixedClock

BINDINGS = bind_sources([("cq-12345", "hotline"), ("web", "portal"), ("web", "portal-next")])


@pytest.mark.parametrize(
    ("source", "user_id"),
    [
        ("cq-12345", "hotline"),  # its own user
        ("web", "portal"),
        ("web", "portal-next"),  # a source may have two users while credentials rotate
        ("visit-desk", None),  # an unbound source, as before: from anyone, user_id or not
        ("visit-desk", "hotline"),
    ],
)
def test_a_case_of_its_own_user_or_of_an_unbound_source_passes(
    source: str, user_id: str | None
) -> None:
    assert source_refusal(source, user_id, BINDINGS) is None


def test_another_user_is_refused_with_a_reason_naming_the_publisher() -> None:
    refusal = source_refusal("cq-12345", "portal", BINDINGS)

    assert isinstance(refusal, Invalid)
    assert refusal.code == SOURCE_NOT_ALLOWED == "source_not_allowed"
    assert refusal.reason == "source: broker user 'portal' may not publish cases of this source"
    assert "hotline" not in refusal.reason  # who is allowed is not told


def test_a_message_without_user_id_is_refused_for_a_bound_source() -> None:
    refusal = source_refusal("cq-12345", None, BINDINGS)

    assert refusal is not None and refusal.code == "source_not_allowed"
    assert "carries no user_id" in refusal.reason


def test_the_decision_is_exact_on_names() -> None:
    assert source_refusal("cq-12345", "Hotline", BINDINGS) is not None  # RabbitMQ is exact too
    assert source_refusal("CQ-12345", "portal", BINDINGS) is None  # another, unbound source
    assert source_refusal("cq-12345", "hotline", {}) is None  # no bindings: nothing changes


def test_pairs_are_read_in_order_with_spaces_and_empty_items_ignored() -> None:
    assert parse_source_users(" cq-12345 = hotline, web=portal,,web=portal-next, ") == (
        ("cq-12345", "hotline"),
        ("web", "portal"),
        ("web", "portal-next"),
    )
    assert parse_source_users("") == ()
    assert bind_sources(parse_source_users("web=a,web=b,x=a")) == {
        "web": frozenset({"a", "b"}),
        "x": frozenset({"a"}),
    }


@pytest.mark.parametrize("text", ["cq-12345", "=hotline", "cq-12345=", "a=b,c"])
def test_an_item_that_is_not_source_equals_user_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not source=user"):
        parse_source_users(text)


def test_settings_read_the_variable_and_refuse_a_bad_one() -> None:
    settings = Settings.from_env({"XINFANG_SOURCE_USERS": "cq-12345=hotline"})
    assert settings.source_users == (("cq-12345", "hotline"),)
    assert Settings.from_env({}).source_users == ()
    with pytest.raises(SettingsError, match="XINFANG_SOURCE_USERS: 'hotline' is not source=user"):
        Settings.from_env({"XINFANG_SOURCE_USERS": "hotline"})


def test_xinfang_toml_may_bind_sources(tmp_path: Path) -> None:
    config = tmp_path / "xinfang.toml"
    config.write_text('source_users = "cq-12345=hotline,web=portal"\n', encoding="utf-8")

    settings = Settings.from_env(with_config({"XINFANG_CONFIG": str(config)}))

    assert settings.source_users == (("cq-12345", "hotline"), ("web", "portal"))


def test_embedded_publishing_has_no_broker_user_so_a_bound_source_is_refused(
    settings: Settings,
    clock: FixedClock,
    memory_queues: None,
    make_case: Callable[..., dict[str, Any]],
    encode: Callable[[dict[str, Any]], bytes],
) -> None:
    bound = dataclasses.replace(settings, source_users=(("cq-12345", "hotline"),))
    app = build(bound, clock=clock)
    try:
        direct = DirectIntake(app.intake, app.routing)
        direct.publish_many(
            [
                Outgoing(encode(make_case(source="cq-12345")), "case.phone"),
                Outgoing(encode(make_case(source="visit-desk")), "case.phone"),
            ]
        )
        with app.engine.connect() as conn:
            sources = [row.source for row in conn.execute(cases.select())]
            codes = [row.code for row in conn.execute(rejected_messages.select())]
    finally:
        app.close()

    assert direct.outcomes == {"registered": 1, "rejected": 1}
    assert sources == ["visit-desk"] and codes == ["source_not_allowed"]
