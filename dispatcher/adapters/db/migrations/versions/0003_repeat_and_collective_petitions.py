"""Repeat and collective petitions: case parties (keyed hashes), links, the identity key

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_index("ix_cases_region_received_at", "cases", ["region", "received_at"])
    op.create_table(
        "case_parties",
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("party_key", sa.String(length=64), nullable=False),
        sa.Column("key_kind", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "party_key", name=op.f("pk_case_parties")),
    )
    op.create_index("ix_case_parties_party_key", "case_parties", ["party_key"])
    op.create_table(
        "case_links",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_links")),
        sa.UniqueConstraint("source", "external_id", name="uq_case_links_source_external_id"),
    )
    op.create_index("ix_case_links_case_id", "case_links", ["case_id"])
    secrets_table = op.create_table(
        "secrets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_secrets")),
    )
    # The key of the petitioners' keyed hashes when XINFANG_IDENTITY_KEY is not set: random,
    # made once here, read by the composition root at start-up, never logged.
    op.bulk_insert(secrets_table, [{"name": "identity_key", "value": secrets.token_hex(32)}])


def downgrade() -> None:
    op.drop_table("secrets")
    op.drop_index("ix_case_links_case_id", table_name="case_links")
    op.drop_table("case_links")
    op.drop_index("ix_case_parties_party_key", table_name="case_parties")
    op.drop_table("case_parties")
    op.drop_index("ix_cases_region_received_at", table_name="cases")
