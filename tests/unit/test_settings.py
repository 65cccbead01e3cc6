"""Settings.from_env: defaults mean embedded mode on a local SQLite file; bad numbers are
refused with an error that names the variable."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from dispatcher.bootstrap.config_file import with_config
from dispatcher.bootstrap.settings import VARIABLES, Settings, SettingsError


def test_defaults_are_embedded_with_a_local_sqlite_file() -> None:
    settings = Settings.from_env({})

    assert settings.broker_url is None
    assert settings.embedded is True
    assert settings.database_url == "sqlite:///xinfang.db"
    assert settings.rules_path is None
    assert settings.directory_path is None
    assert settings.worker_threads == 4
    assert (settings.intake_prefetch, settings.intake_batch, settings.intake_batch_ms) == (
        100,
        50,
        5,
    )
    assert settings.intake_consumers == 1
    assert settings.relay_batch == 200
    assert settings.relay_interval_seconds == 0.5
    assert settings.metrics_port is None
    assert settings.log_level == "INFO"


def test_empty_values_count_as_absent() -> None:
    settings = Settings.from_env(
        {
            "XINFANG_BROKER_URL": "",
            "XINFANG_DATABASE_URL": "",
            "XINFANG_RULES": "",
            "XINFANG_WORKER_THREADS": "",
        }
    )

    assert settings.embedded is True
    assert settings.database_url == "sqlite:///xinfang.db"
    assert settings.rules_path is None
    assert settings.worker_threads == 4


def test_every_variable_is_read() -> None:
    settings = Settings.from_env(
        {
            "XINFANG_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//",
            "XINFANG_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1/test",
            "XINFANG_RULES": "/etc/xinfang/rules.yaml",
            "XINFANG_DIRECTORY": "/etc/xinfang/directory.yaml",
            "XINFANG_WORKER_THREADS": "8",
            "XINFANG_INTAKE_PREFETCH": "64",
            "XINFANG_RELAY_BATCH": "500",
            "XINFANG_RELAY_INTERVAL": "0.25",
            "XINFANG_METRICS_PORT": "9464",
            "XINFANG_LOG_LEVEL": "debug",
        }
    )

    assert settings.broker_url == "amqp://guest:guest@127.0.0.1:5672//"
    assert settings.embedded is False
    assert settings.database_url == "postgresql+psycopg://postgres@127.0.0.1/test"
    assert settings.rules_path == Path("/etc/xinfang/rules.yaml")
    assert settings.directory_path == Path("/etc/xinfang/directory.yaml")
    assert (settings.worker_threads, settings.intake_prefetch, settings.relay_batch) == (8, 64, 500)
    assert settings.relay_interval_seconds == 0.25
    assert settings.metrics_port == 9464
    assert settings.log_level == "DEBUG"


def test_metrics_port_zero_means_no_metrics_server() -> None:
    assert Settings.from_env({"XINFANG_METRICS_PORT": "0"}).metrics_port is None


def test_without_an_argument_the_process_environment_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XINFANG_DATABASE_URL", "sqlite:////tmp/from-env.db")
    monkeypatch.setenv("XINFANG_WORKER_THREADS", "3")
    monkeypatch.delenv("XINFANG_BROKER_URL", raising=False)

    settings = Settings.from_env()

    assert settings.database_url == "sqlite:////tmp/from-env.db"
    assert settings.worker_threads == 3
    assert settings.embedded


@pytest.mark.parametrize(
    "name",
    [
        "XINFANG_WORKER_THREADS",
        "XINFANG_INTAKE_PREFETCH",
        "XINFANG_RELAY_BATCH",
        "XINFANG_METRICS_PORT",
    ],
)
@pytest.mark.parametrize("raw", ["four", "2.5", "0x10", "-1"])
def test_a_bad_integer_is_a_settings_error_naming_the_variable(name: str, raw: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({name: raw})

    assert name in str(raised.value)
    assert repr(raw) in str(raised.value)


@pytest.mark.parametrize("raw", ["soon", "1,5"])
def test_a_bad_interval_is_a_settings_error_naming_the_variable(raw: str) -> None:
    with pytest.raises(SettingsError, match="XINFANG_RELAY_INTERVAL"):
        Settings.from_env({"XINFANG_RELAY_INTERVAL": raw})


def test_a_relay_batch_of_zero_is_refused() -> None:
    with pytest.raises(SettingsError, match="XINFANG_RELAY_BATCH"):
        Settings.from_env({"XINFANG_RELAY_BATCH": "0"})


def test_zero_worker_threads_are_refused() -> None:
    with pytest.raises(SettingsError, match="XINFANG_WORKER_THREADS"):
        Settings.from_env({"XINFANG_WORKER_THREADS": "0"})


@pytest.mark.parametrize("raw", ["-1", "nan", "inf"])
def test_a_relay_interval_that_is_not_a_positive_finite_number_is_refused(raw: str) -> None:
    with pytest.raises(SettingsError, match="XINFANG_RELAY_INTERVAL"):
        Settings.from_env({"XINFANG_RELAY_INTERVAL": raw})


def test_settings_are_frozen() -> None:
    settings = Settings.from_env({})

    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.database_url = "sqlite://"  # type: ignore[misc]


def test_intake_batches_are_set_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "XINFANG_INTAKE_BATCH": "200",
            "XINFANG_INTAKE_BATCH_MS": "0",
            "XINFANG_INTAKE_CONSUMERS": "3",
        }
    )
    assert (settings.intake_batch, settings.intake_batch_ms, settings.intake_consumers) == (
        200,
        0,
        3,
    )
    with pytest.raises(SettingsError, match="XINFANG_INTAKE_BATCH='0' must be at least 1"):
        Settings.from_env({"XINFANG_INTAKE_BATCH": "0"})


# -- xinfang.toml ------------------------------------------------------------------------------


def _config_file(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "xinfang.toml"
    path.write_text(text, encoding="utf-8")
    return {"XINFANG_CONFIG": str(path)}


def test_the_configuration_file_gives_settings_and_the_environment_takes_precedence(
    tmp_path: Path,
) -> None:
    env = _config_file(
        tmp_path,
        'database_url = "sqlite:///from-file.db"\nintake_batch = 20\nlog_level = "debug"\n',
    )
    settings = Settings.from_env(with_config(env | {"XINFANG_INTAKE_BATCH": "30"}))

    assert settings.database_url == "sqlite:///from-file.db"
    assert settings.intake_batch == 30  # the environment wins
    assert settings.log_level == "DEBUG"


def test_xinfang_toml_in_the_working_directory_is_read_without_being_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "xinfang.toml").write_text("metrics_port = 9108\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)

    assert Settings.from_env(with_config({})).metrics_port == 9108


@pytest.mark.parametrize(
    ("text", "mentions"),
    [
        ('databse_url = "x"\n', "unknown setting 'databse_url'"),
        ("intake_batch = true\n", "intake_batch: give a string or a number"),
        ("intake_batch = [1]\n", "intake_batch: give a string or a number"),
        ("= broken\n", "cannot read it as TOML"),
        ("intake_batch = 'many'\n", "XINFANG_INTAKE_BATCH='many' is not a whole number"),
    ],
)
def test_a_bad_configuration_file_is_a_settings_error_naming_it(
    tmp_path: Path, text: str, mentions: str
) -> None:
    env = _config_file(tmp_path, text)
    with pytest.raises(SettingsError, match=re.escape(mentions)):
        Settings.from_env(with_config(env))


def test_a_named_configuration_file_that_is_missing_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"XINFANG_CONFIG=.*no such file"):
        with_config({"XINFANG_CONFIG": str(tmp_path / "none.toml")})


def test_every_variable_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert [name for name in sorted(VARIABLES) if f"`{name}`" not in readme] == []


def test_the_gateway_s_rate_limits_are_read_and_checked() -> None:
    default = Settings.from_env({})
    assert (default.rate_limit_storage, default.code_guesses_per_case) == ("memory://", "10/minute")
    assert default.code_guesses_per_client == "60/minute"
    set_ = Settings.from_env(
        {
            "XINFANG_RATE_LIMIT_STORAGE": "redis://127.0.0.1:6379",
            "XINFANG_CODE_GUESSES_PER_CASE": "5 per minute",
        }
    )
    assert (set_.rate_limit_storage, set_.code_guesses_per_case) == (
        "redis://127.0.0.1:6379",
        "5 per minute",
    )
    with pytest.raises(SettingsError, match="XINFANG_CODE_GUESSES_PER_CLIENT='often'"):
        Settings.from_env({"XINFANG_CODE_GUESSES_PER_CLIENT": "often"})
