"""Cases found by when they were received: the window of `xinfang report`

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_received_at", "cases", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_received_at", table_name="cases")
