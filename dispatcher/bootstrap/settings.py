"""Settings, read once from the environment at the edge and passed down frozen."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dispatcher.contract.sources import parse_source_users
from dispatcher.domain.errors import XinfangError


class SettingsError(XinfangError, ValueError):
    pass


# Every variable a setting is read from (and, without the prefix, the keys of xinfang.toml).
VARIABLES = frozenset(
    (
        "XINFANG_BROKER_URL",
        "XINFANG_DATABASE_URL",
        "XINFANG_RULES",
        "XINFANG_DIRECTORY",
        "XINFANG_CALENDAR_OVERRIDE",
        "XINFANG_WORKER_THREADS",
        "XINFANG_INTAKE_PREFETCH",
        "XINFANG_INTAKE_BATCH",
        "XINFANG_INTAKE_BATCH_MS",
        "XINFANG_INTAKE_CONSUMERS",
        "XINFANG_RELAY_BATCH",
        "XINFANG_RELAY_INTERVAL",
        "XINFANG_RULES_RELOAD",
        "XINFANG_METRICS_PORT",
        "XINFANG_LOG_LEVEL",
        "XINFANG_IDENTITY_KEY",
        "XINFANG_REPEAT_WINDOW_DAYS",
        "XINFANG_COLLECTIVE_WINDOW_DAYS",
        "XINFANG_LADDERS",
        "XINFANG_SMTP_URL",
        "XINFANG_MAIL_FROM",
        "XINFANG_WEBHOOK_SECRET",
        "XINFANG_NOTIFY_WEBHOOK",
        "XINFANG_NOTIFY_EMAIL",
        "XINFANG_NOTIFY_ATTEMPTS",
        "XINFANG_SOURCE_USERS",
        "XINFANG_RATE_LIMIT_STORAGE",
        "XINFANG_CODE_GUESSES_PER_CASE",
        "XINFANG_CODE_GUESSES_PER_CLIENT",
        "XINFANG_SESSION_SECRET",
        "XINFANG_SECURE_COOKIES",
        "XINFANG_CONFIG",
    )
)

MIN_IDENTITY_KEY_CHARS = 16
MAX_WINDOW_DAYS = 3650


@dataclass(frozen=True)
class Settings:
    broker_url: str | None  # None: the in-process broker (kombu memory://, dramatiq StubBroker)
    database_url: str
    rules_path: Path | None  # None: the bundled rule set
    directory_path: Path | None  # None: the bundled org directory (Chongqing)
    calendar_override: Path | None = None  # a YAML file adding or correcting calendar years
    worker_threads: int = 4
    intake_prefetch: int = 100  # at least intake_batch, or batches never fill
    intake_batch: int = 50  # messages registered in one transaction, acknowledged at once
    intake_batch_ms: int = 5  # how long a batch waits for more after its first message
    intake_consumers: int = 1  # intake consumers of this process, side by side on the queue
    relay_batch: int = 200
    relay_interval_seconds: float = 0.5
    rules_reload_seconds: float = 5.0  # how often workers look for a changed rule set; 0: never
    metrics_port: int | None = None
    log_level: str = "INFO"
    # The HMAC key of petitioners' party keys; None: the random one migration 0003 stored.
    identity_key: str | None = field(default=None, repr=False)
    repeat_window_days: int = 90  # same petitioner, same matter: link (0: off)
    collective_window_days: int = 7  # other petitioners, same matter and place (0: off)
    # Escalation and notifications (docs/escalation.md):
    ladders_path: Path | None = None  # a folder of <policy>.yaml ladder files; None: bundled
    smtp_url: str | None = field(default=None, repr=False)  # smtp://user:pass@host:port
    mail_from: str = "xinfang@localhost"
    # Standard Webhooks secret (whsec_…); None: the random one migration 0005 stored.
    webhook_secret: str | None = field(default=None, repr=False)
    notify_webhook: str | None = None  # a desk told of every step, beside the directory's
    notify_email: str | None = None
    notify_attempts: int = 6
    # (source, broker user) pairs: a bound source is accepted only from its users (AMQP user_id)
    source_users: tuple[tuple[str, str], ...] = ()
    # The HTTP gateway's rate limits (docs/http-api.md): where the `limits` library counts
    # (a storage URI: memory://, redis://host:6379, …), and how many wrong query codes a case
    # number and a client address may be tried with.
    rate_limit_storage: str = "memory://"
    code_guesses_per_case: str = "10/minute"
    code_guesses_per_client: str = "60/minute"
    # The console's sessions: the key that signs their cookies (None: the random one migration
    # 0011 stored), and whether the cookies are sent over HTTPS only (None: unless the
    # gateway listens on loopback only, as the demo does).
    session_secret: str | None = field(default=None, repr=False)
    secure_cookies: bool | None = None

    def __post_init__(self) -> None:
        if self.identity_key is not None and len(self.identity_key) < MIN_IDENTITY_KEY_CHARS:
            raise SettingsError(
                f"XINFANG_IDENTITY_KEY must be at least {MIN_IDENTITY_KEY_CHARS}"
                f" characters (hex or any text), got {len(self.identity_key)}"
            )
        for name, days in (
            ("XINFANG_REPEAT_WINDOW_DAYS", self.repeat_window_days),
            ("XINFANG_COLLECTIVE_WINDOW_DAYS", self.collective_window_days),
        ):
            if not 0 <= days <= MAX_WINDOW_DAYS:
                raise SettingsError(f"{name}={days} must be from 0 to {MAX_WINDOW_DAYS} days")

    @property
    def embedded(self) -> bool:
        return self.broker_url is None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            broker_url=env.get("XINFANG_BROKER_URL") or None,
            database_url=env.get("XINFANG_DATABASE_URL") or "sqlite:///xinfang.db",
            rules_path=_path(env.get("XINFANG_RULES")),
            directory_path=_path(env.get("XINFANG_DIRECTORY")),
            calendar_override=_path(env.get("XINFANG_CALENDAR_OVERRIDE")),
            worker_threads=_int(env, "XINFANG_WORKER_THREADS", 4, minimum=1),
            intake_prefetch=_int(env, "XINFANG_INTAKE_PREFETCH", 100, minimum=1),
            intake_batch=_int(env, "XINFANG_INTAKE_BATCH", 50, minimum=1),
            intake_batch_ms=_int(env, "XINFANG_INTAKE_BATCH_MS", 5),
            intake_consumers=_int(env, "XINFANG_INTAKE_CONSUMERS", 1, minimum=1),
            relay_batch=_int(env, "XINFANG_RELAY_BATCH", 200, minimum=1),
            relay_interval_seconds=_float(env, "XINFANG_RELAY_INTERVAL", 0.5),
            rules_reload_seconds=_reload_seconds(env.get("XINFANG_RULES_RELOAD")),
            metrics_port=_int(env, "XINFANG_METRICS_PORT", 0) or None,
            log_level=_log_level(env.get("XINFANG_LOG_LEVEL") or "INFO"),
            identity_key=env.get("XINFANG_IDENTITY_KEY") or None,
            repeat_window_days=_int(env, "XINFANG_REPEAT_WINDOW_DAYS", 90),
            collective_window_days=_int(env, "XINFANG_COLLECTIVE_WINDOW_DAYS", 7),
            ladders_path=_path(env.get("XINFANG_LADDERS")),
            smtp_url=env.get("XINFANG_SMTP_URL") or None,
            mail_from=env.get("XINFANG_MAIL_FROM") or "xinfang@localhost",
            webhook_secret=env.get("XINFANG_WEBHOOK_SECRET") or None,
            notify_webhook=env.get("XINFANG_NOTIFY_WEBHOOK") or None,
            notify_email=env.get("XINFANG_NOTIFY_EMAIL") or None,
            notify_attempts=_int(env, "XINFANG_NOTIFY_ATTEMPTS", 6, minimum=1),
            source_users=_source_users(env.get("XINFANG_SOURCE_USERS") or ""),
            rate_limit_storage=env.get("XINFANG_RATE_LIMIT_STORAGE") or "memory://",
            code_guesses_per_case=_rate(env, "XINFANG_CODE_GUESSES_PER_CASE", "10/minute"),
            code_guesses_per_client=_rate(env, "XINFANG_CODE_GUESSES_PER_CLIENT", "60/minute"),
            session_secret=env.get("XINFANG_SESSION_SECRET") or None,
            secure_cookies=_flag(env, "XINFANG_SECURE_COOKIES"),
        )


def _flag(env: Mapping[str, str], name: str) -> bool | None:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return None
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={env[name]!r} must be true or false")


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _reload_seconds(raw: str | None) -> float:
    if raw in (None, "", "0"):
        return 0.0 if raw == "0" else 5.0
    return _float({"XINFANG_RULES_RELOAD": raw}, "XINFANG_RULES_RELOAD", 5.0)


def _source_users(raw: str) -> tuple[tuple[str, str], ...]:
    try:
        return parse_source_users(raw)
    except ValueError as error:
        raise SettingsError(f"XINFANG_SOURCE_USERS: {error}") from None


def _rate(env: Mapping[str, str], name: str, default: str) -> str:
    """A rate as the `limits` library reads it: 10/minute, 100 per hour, 5/second;10/minute."""
    from limits import parse_many

    raw = env.get(name) or default
    try:
        parse_many(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a rate such as 10/minute") from None
    return raw


def _log_level(raw: str) -> str:
    level = raw.upper()
    if level not in _LOG_LEVELS:
        raise SettingsError(f"XINFANG_LOG_LEVEL={raw!r} is not one of {', '.join(_LOG_LEVELS)}")
    return level


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise SettingsError(f"{name}={raw!r} must be at least {minimum}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None
    if not 0 < value <= 3600:  # also refuses nan and inf
        raise SettingsError(f"{name}={raw!r} must be a number of seconds above 0, at most 3600")
    return value
