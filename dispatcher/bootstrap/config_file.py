"""`xinfang.toml`: the settings of a deployment in a file, beside the environment.

Each key is a setting's environment variable without its `XINFANG_` prefix, in lower case
(`database_url`, `intake_batch`, `metrics_port`, …). The environment takes precedence over the
file, so that one process can differ from the others. The file is `XINFANG_CONFIG` when that
is set (it must then exist), otherwise `xinfang.toml` in the working directory when there is
one.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path

from dispatcher.bootstrap.settings import VARIABLES, SettingsError

DEFAULT_FILE = Path("xinfang.toml")


def config_path(env: Mapping[str, str]) -> Path | None:
    named = env.get("XINFANG_CONFIG")
    if named:
        if not Path(named).is_file():
            raise SettingsError(f"XINFANG_CONFIG={named!r}: there is no such file")
        return Path(named)
    return DEFAULT_FILE if DEFAULT_FILE.is_file() else None


def read_config(path: Path) -> dict[str, str]:
    """The file's settings as environment variables, each checked against the known ones."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise SettingsError(f"{path}: cannot read it as TOML: {error}") from None
    return {_variable(path, key): _text(path, key, value) for key, value in raw.items()}


def with_config(env: Mapping[str, str]) -> dict[str, str]:
    """The environment over the configuration file's settings."""
    path = config_path(env)
    from_file = read_config(path) if path else {}
    return from_file | {key: value for key, value in env.items() if value != ""}


def _variable(path: Path, key: str) -> str:
    name = f"XINFANG_{key.upper()}"
    if key != key.lower() or name not in VARIABLES or name == "XINFANG_CONFIG":
        known = ", ".join(sorted(v.removeprefix("XINFANG_").lower() for v in VARIABLES))
        raise SettingsError(f"{path}: unknown setting {key!r} (known: {known})")
    return name


def _text(path: Path, key: str, value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise SettingsError(f"{path}: {key}: give a string or a number, not {value!r}")
    return str(value)
