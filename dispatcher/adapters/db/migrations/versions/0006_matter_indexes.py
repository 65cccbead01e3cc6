"""Collective petitions looked up by region, category and time, with the collective cases apart

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_COLLECTIVE = "people_count > 1"


def upgrade() -> None:
    op.drop_index("ix_cases_region_received_at", table_name="cases")
    op.create_index("ix_cases_matter", "cases", ["region", "category", "received_at"])
    op.create_index(
        "ix_cases_collective",
        "cases",
        ["region", "category", "received_at"],
        postgresql_where=sa.text(_COLLECTIVE),
        sqlite_where=sa.text(_COLLECTIVE),
    )


def downgrade() -> None:
    op.drop_index("ix_cases_collective", table_name="cases")
    op.drop_index("ix_cases_matter", table_name="cases")
    op.create_index("ix_cases_region_received_at", "cases", ["region", "received_at"])
