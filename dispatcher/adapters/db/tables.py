"""The schema. Alembic migrations under migrations/ create it; this module describes it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

from dispatcher.domain.policy import DEFAULT_POLICY


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every database (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UtcDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# BigInteger ids that SQLite still treats as its ROWID alias.
BigId = BigInteger().with_variant(Integer(), "sqlite")

cases = Table(
    "cases",
    metadata,
    Column("case_id", String(36), primary_key=True),
    Column("source", String(128), nullable=False),
    Column("external_id", String(128), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("region", String(12), nullable=False),
    Column("category", String(64)),
    Column("title", String(200), nullable=False),
    Column("content", Text, nullable=False),
    Column("petitioner", JSON),
    Column("people_count", Integer, nullable=False),
    Column("urgent", Boolean, nullable=False),
    Column("attachments", JSON, nullable=False),
    Column("extra", JSON, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
    Column("stage", String(32), nullable=False),
    Column("org_unit_id", String(64)),
    Column("org_unit_name", String(200)),
    Column("org_kind", String(64)),
    Column("rule_id", String(128)),
    Column("rule_reasons", JSON),
    Column("rule_warnings", JSON),
    Column("ruleset_version", String(255)),  # several files' versions + a content hash
    Column("assigned_at", UtcDateTime),
    Column("kind", String(16), nullable=False, server_default="original"),
    Column("parent_case_id", String(36), index=True),
    Column("policy", String(64), nullable=False, server_default=DEFAULT_POLICY),
    # The earliest due of the case's running duty clocks, and that clock, as its rows in `clocks`
    # say (migration 0007; written with them): the order of `xinfang case list`.
    Column("next_clock", String(32)),
    Column("next_due_at", UtcDateTime),
    UniqueConstraint("source", "external_id", name="uq_cases_source_external_id"),
    Index("ix_cases_stage", "stage"),
)

# One row per clock of a case with its current deadline, rewritten whenever an event of the
# case changes it. The deadline itself is always recomputed from the case's events (so a
# restart, a rule change or a calendar update never corrupts it); this row only lets the
# scheduler find every clock past a ladder step with one indexed query.
clocks = Table(
    "clocks",
    metadata,
    Column("case_id", String(36), primary_key=True),
    Column("name", String(32), primary_key=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("due_at", UtcDateTime),  # NULL while paused
    Column("met_at", UtcDateTime),
    Column("status", String(16), nullable=False),
    Column("article", String(32), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # Where the clock stands on its escalation ladder (migration 0005): the period its steps
    # belong to (a new one after an extension or a hearing), the step last taken and the
    # next one, so that the scheduler finds every clock past a step with one indexed query.
    Column("period", String(80)),
    Column("ladder", String(64)),
    Column("next_step", String(64)),
    Column("next_step_at", UtcDateTime),
    Column("escalated_step", String(64)),
    Column("escalated_level", String(16)),
    Column("escalated_at", UtcDateTime),
)
Index(
    "ix_clocks_open_due",
    clocks.c.due_at,
    postgresql_where=clocks.c.met_at.is_(None),
    sqlite_where=clocks.c.met_at.is_(None),
)

# Department commands already applied or refused, by their command_id: a redelivered command
# is answered from here and changes nothing.
commands = Table(
    "commands",
    metadata,
    Column("command_id", String(128), primary_key=True),
    Column("case_id", String(36)),
    Column("action", String(32), nullable=False),
    Column("outcome", String(16), nullable=False),  # applied | refused
    Column("reason", Text),
    Column("received_at", UtcDateTime, nullable=False),
)

# Append-only: the audit trail of every change, and the outbox the relay publishes from.
events = Table(
    "events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("type", String(32), nullable=False),
    Column("case_id", String(36)),
    Column("source", String(128)),
    Column("external_id", String(128)),
    Column("at", UtcDateTime, nullable=False),
    Column("data", JSON, nullable=False),
    Column("published_at", UtcDateTime),
    Index("ix_events_case_id", "case_id"),
)
# The relay's query: the oldest unpublished events. Partial where the database can.
Index(
    "ix_events_unpublished",
    events.c.id,
    postgresql_where=events.c.published_at.is_(None),
    sqlite_where=events.c.published_at.is_(None),
)

# Intake messages that failed validation, with their reason (the message itself goes to the
# rejected queue). A redelivered bad message is recognised by its digest, so that a crash
# between dead-lettering and acknowledging does not dead-letter it twice.
rejected_messages = Table(
    "rejected_messages",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("digest", String(64), nullable=False, index=True),
    Column("code", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("routing_key", String(255), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("dead_lettered_at", UtcDateTime),
)

# ---- repeat and collective petitions (migration 0003) -----------------------------------------

# Collective petitions are looked up by place, category and time (migration 0006): a
# one-person petition can only join a case of many petitioners, so its search reads the
# partial index of those, however many one-person cases the place holds.
Index("ix_cases_matter", cases.c.region, cases.c.category, cases.c.received_at)
Index(
    "ix_cases_collective",
    cases.c.region,
    cases.c.category,
    cases.c.received_at,
    postgresql_where=cases.c.people_count > 1,
    sqlite_where=cases.c.people_count > 1,
)

# Who petitioned on a case, as keyed hashes (HMAC-SHA256, hex) of the normalised ID number and
# phone: never the plain value. 'primary' is the case's own petitioner, 'party' one who joined a
# collective case. Repeat petitions are found by party_key.
case_parties = Table(
    "case_parties",
    metadata,
    Column("case_id", String(36), primary_key=True),
    Column("party_key", String(64), primary_key=True),
    Column("key_kind", String(16), nullable=False),  # id_number | phone
    Column("role", String(16), nullable=False),  # primary | party
    Column("added_at", UtcDateTime, nullable=False),
    Index("ix_case_parties_party_key", "party_key"),
)

# Intake messages that joined an existing case instead of opening one: a re-sent copy of the
# same (source, external_id) finds its link here and changes nothing.
case_links = Table(
    "case_links",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("source", String(128), nullable=False),
    Column("external_id", String(128), nullable=False),
    Column("case_id", String(36), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # repeat | collective | refused_final
    Column("linked_at", UtcDateTime, nullable=False),
    UniqueConstraint("source", "external_id", name="uq_case_links_source_external_id"),
)

# Values xinfang generates once and keeps, such as the identity key when
# XINFANG_IDENTITY_KEY is not set.
secrets_table = Table(
    "secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# ---- escalation and notifications (migration 0005) ---------------------------------------------

Index(
    "ix_clocks_next_step_at",
    clocks.c.next_step_at,
    postgresql_where=clocks.c.next_step_at.is_not(None),
    sqlite_where=clocks.c.next_step_at.is_not(None),
)
# xinfang overdue: the clocks past their deadline and not met by then, oldest debt first.
Index("ix_clocks_overdue", clocks.c.due_at, clocks.c.met_at)

# One row per ladder step taken: the unique key makes a step happen at most once per period
# of a clock, whatever the number of schedulers and workers racing for it.
escalations = Table(
    "escalations",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("case_id", String(36), nullable=False),
    Column("clock", String(32), nullable=False),
    Column("period", String(80), nullable=False),
    Column("step", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("ladder", String(64), nullable=False),
    Column("level", String(16), nullable=False),
    Column("region", String(12), nullable=False),
    Column("roles", JSON, nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("step_at", UtcDateTime, nullable=False),
    Column("escalated_at", UtcDateTime, nullable=False),
    Column("days_overdue", Integer, nullable=False),
    Column("event_id", String(36), nullable=False),
    UniqueConstraint("case_id", "clock", "period", "step", name="uq_escalations_step"),
)

# Every delivery of a notification, with its attempts and outcome: the outbox of the senders.
notifications = Table(
    "notifications",
    metadata,
    Column("id", String(36), primary_key=True),  # the webhook-id and the e-mail's Message-ID
    Column("escalation_id", BigInteger, nullable=False, index=True),
    Column("case_id", String(36), nullable=False, index=True),
    Column("channel", String(16), nullable=False),  # email | webhook
    Column("recipient", String(320), nullable=False),
    Column("recipient_name", String(200), nullable=False),
    Column("role", String(64), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", String(16), nullable=False),  # pending sending sent failed skipped
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("next_attempt_at", UtcDateTime),
    Column("sent_at", UtcDateTime),
    Index("ix_notifications_status_next", "status", "next_attempt_at"),
)

# What derived data was last computed from: "ladder_plan" is the digest of the ladders,
# policies, calendar and directory the `clocks` index was planned with.
versions = Table(
    "versions",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(128), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# ---- finding cases (migration 0007) ------------------------------------------------------------

# `xinfang case list`: each filter leads an index that goes on in the list's order (the earliest
# due of a running duty clock, then registration), so that a page is read off an index however
# many cases are stored. A region prefix is a range, read along ix_cases_next_due (or
# ix_cases_matter, whose first column is region) as the planner finds cheaper.
Index("ix_cases_next_due", cases.c.next_due_at, cases.c.registered_at)
Index("ix_cases_stage_next_due", cases.c.stage, cases.c.next_due_at, cases.c.registered_at)
Index("ix_cases_org_unit_next_due", cases.c.org_unit_id, cases.c.next_due_at, cases.c.registered_at)

# `xinfang report` selects the cases received in a window (migration 0008): without this index a
# one-day report would read every case ever stored.
Index("ix_cases_received_at", cases.c.received_at)

# ---- petitioners' query codes (migration 0009) -------------------------------------------------

# The query code (查询码) a petitioner got when their case was opened over HTTP, as a salted
# scrypt hash: the code itself is shown once and never stored.
query_codes = Table(
    "query_codes",
    metadata,
    Column("case_id", String(36), primary_key=True),
    Column("salt", String(32), nullable=False),  # hex
    Column("digest", String(64), nullable=False),  # hex
    Column("issued_at", UtcDateTime, nullable=False),
)

# ---- the console (migration 0011) -------------------------------------------------------------

console_users = Table(
    "console_users",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("password_hash", String(255), nullable=False),  # argon2id, with its own salt
    Column("display_name", String(200), nullable=False),
    Column("role", String(16), nullable=False),  # department | bureau
    Column("unit_id", String(64)),
    Column("region", String(12), nullable=False),
    Column("locale", String(8), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("disabled_at", UtcDateTime),
)

# Who looked at a petitioner's identity, and other acts worth a trail (never the identity).
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("username", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("case_id", String(36)),
    Column("detail", String(200)),
    Index("ix_audit_log_case", "case_id", "at"),
    Index("ix_audit_log_user", "username", "at"),
)

# ---- producers' API keys (migration 0010) ------------------------------------------------------

# A key per producer (its source) for the HTTP gateway: the key id names it, the secret is kept
# only as its SHA-256 (dispatcher/domain/api_keys.py says why that hash). A revoked key stays,
# so that its id is never issued again and `xinfang keys list` shows when it was revoked.
api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(16), primary_key=True),
    Column("source", String(128), nullable=False),
    Column("digest", String(64), nullable=False),  # hex SHA-256 of the secret
    Column("label", String(200)),
    Column("rate", String(64), nullable=False),  # a `limits` rate, as 600/minute
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
)
