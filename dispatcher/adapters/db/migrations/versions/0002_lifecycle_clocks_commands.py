"""The statutory lifecycle: case kind, parent and policy; clocks; applied commands

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="original", nullable=False)
        )
        batch_op.add_column(sa.Column("parent_case_id", sa.String(length=36), nullable=True))
        batch_op.add_column(
            sa.Column("policy", sa.String(length=64), server_default="cn-2022", nullable=False)
        )
        batch_op.create_index("ix_cases_parent_case_id", ["parent_case_id"], unique=False)

    op.create_table(
        "clocks",
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("met_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("article", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "name", name=op.f("pk_clocks")),
    )
    op.create_index(
        "ix_clocks_open_due",
        "clocks",
        ["due_at"],
        unique=False,
        postgresql_where=sa.text("met_at IS NULL"),
        sqlite_where=sa.text("met_at IS NULL"),
    )

    op.create_table(
        "commands",
        sa.Column("command_id", sa.String(length=128), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("command_id", name=op.f("pk_commands")),
    )


def downgrade() -> None:
    op.drop_table("commands")
    op.drop_index("ix_clocks_open_due", table_name="clocks")
    op.drop_table("clocks")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_parent_case_id")
        batch_op.drop_column("policy")
        batch_op.drop_column("parent_case_id")
        batch_op.drop_column("kind")
