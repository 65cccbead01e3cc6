"""Settings of repeat and collective petitions: the identity key and the two windows."""

from __future__ import annotations

import pytest

from dispatcher.bootstrap.settings import Settings, SettingsError


def test_defaults_are_90_and_7_days_and_the_stored_identity_key() -> None:
    settings = Settings.from_env({})

    assert (settings.repeat_window_days, settings.collective_window_days) == (90, 7)
    assert settings.identity_key is None


def test_the_variables_are_read() -> None:
    settings = Settings.from_env(
        {
            "XINFANG_IDENTITY_KEY": "0123456789abcdef0123456789abcdef",
            "XINFANG_REPEAT_WINDOW_DAYS": "30",
            "XINFANG_COLLECTIVE_WINDOW_DAYS": "0",
        }
    )

    assert settings.identity_key == "0123456789abcdef0123456789abcdef"
    assert (settings.repeat_window_days, settings.collective_window_days) == (30, 0)


def test_the_identity_key_never_shows_in_the_settings_repr() -> None:
    settings = Settings.from_env({"XINFANG_IDENTITY_KEY": "a very secret key value"})

    assert "a very secret key value" not in repr(settings)


@pytest.mark.parametrize("key", ["short", "0123456789abcde"])
def test_a_short_identity_key_is_refused_naming_the_variable(key: str) -> None:
    with pytest.raises(SettingsError, match="XINFANG_IDENTITY_KEY") as raised:
        Settings.from_env({"XINFANG_IDENTITY_KEY": key})
    assert key not in str(raised.value)  # the error does not repeat the secret


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("XINFANG_REPEAT_WINDOW_DAYS", "-1"),
        ("XINFANG_REPEAT_WINDOW_DAYS", "ninety"),
        ("XINFANG_COLLECTIVE_WINDOW_DAYS", "100000"),
        ("XINFANG_COLLECTIVE_WINDOW_DAYS", "1.5"),
    ],
)
def test_bad_windows_are_refused_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})
