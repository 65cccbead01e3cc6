"""The console's officers (passwords as argon2 hashes), the audit trail, and the session key

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_users",
        sa.Column("username", sa.String(length=64), primary_key=True),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("unit_id", sa.String(length=64)),
        sa.Column("region", sa.String(length=12), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=36)),
        sa.Column("detail", sa.String(length=200)),
    )
    op.create_index("ix_audit_log_case", "audit_log", ["case_id", "at"])
    op.create_index("ix_audit_log_user", "audit_log", ["username", "at"])
    # The key that signs console sessions when XINFANG_SESSION_SECRET is not set: random,
    # made once here, so that every `xinfang api` process of one database shares it.
    op.bulk_insert(
        sa.table("secrets", sa.column("name"), sa.column("value")),
        [{"name": "session_secret", "value": secrets.token_urlsafe(48)}],
    )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM secrets WHERE name = 'session_secret'"))
    op.drop_index("ix_audit_log_user", table_name="audit_log")
    op.drop_index("ix_audit_log_case", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("console_users")
