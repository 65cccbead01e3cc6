"""Escalation ladders and notifications

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

import base64
import secrets

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)
_CLOCK_COLUMNS = (
    ("period", sa.String(length=80)),
    ("ladder", sa.String(length=64)),
    ("next_step", sa.String(length=64)),
    ("next_step_at", _TS),
    ("escalated_step", sa.String(length=64)),
    ("escalated_level", sa.String(length=16)),
    ("escalated_at", _TS),
)


def upgrade() -> None:
    with op.batch_alter_table("clocks", schema=None) as batch_op:
        for name, type_ in _CLOCK_COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
    op.create_index(
        "ix_clocks_next_step_at",
        "clocks",
        ["next_step_at"],
        postgresql_where=sa.text("next_step_at IS NOT NULL"),
        sqlite_where=sa.text("next_step_at IS NOT NULL"),
    )
    op.create_index("ix_clocks_overdue", "clocks", ["due_at", "met_at"])
    op.create_table(
        "escalations",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("clock", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=80), nullable=False),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ladder", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("region", sa.String(length=12), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("due_at", _TS, nullable=False),
        sa.Column("step_at", _TS, nullable=False),
        sa.Column("escalated_at", _TS, nullable=False),
        sa.Column("days_overdue", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalations")),
        sa.UniqueConstraint("case_id", "clock", "period", "step", name="uq_escalations_step"),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("escalation_id", sa.BigInteger(), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("recipient_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("next_attempt_at", _TS, nullable=True),
        sa.Column("sent_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index("ix_notifications_escalation_id", "notifications", ["escalation_id"])
    op.create_index("ix_notifications_case_id", "notifications", ["case_id"])
    op.create_index("ix_notifications_status_next", "notifications", ["status", "next_attempt_at"])
    op.create_table(
        "versions",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_versions")),
    )
    # The signing secret of webhooks when XINFANG_WEBHOOK_SECRET is not set (Standard Webhooks
    # whsec_ form): random, made once here; `xinfang notifications secret` shows it to receivers.
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    op.execute(
        sa.table("secrets", sa.column("name"), sa.column("value"))
        .insert()
        .values(name="webhook_secret", value=secret)
    )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM secrets WHERE name = 'webhook_secret'"))
    op.drop_table("versions")
    op.drop_index("ix_notifications_status_next", table_name="notifications")
    op.drop_index("ix_notifications_case_id", table_name="notifications")
    op.drop_index("ix_notifications_escalation_id", table_name="notifications")
    op.drop_table("notifications")
    op.drop_table("escalations")
    op.drop_index("ix_clocks_overdue", table_name="clocks")
    op.drop_index("ix_clocks_next_step_at", table_name="clocks")
    with op.batch_alter_table("clocks", schema=None) as batch_op:
        for name, _ in reversed(_CLOCK_COLUMNS):
            batch_op.drop_column(name)
