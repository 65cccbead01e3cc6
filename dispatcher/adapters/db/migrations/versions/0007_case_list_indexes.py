"""Each case's earliest running deadline on its row, and the indexes of `xinfang case list`

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_INDEXES = (
    ("ix_cases_next_due", ["next_due_at", "registered_at"]),
    ("ix_cases_stage_next_due", ["stage", "next_due_at", "registered_at"]),
    ("ix_cases_org_unit_next_due", ["org_unit_id", "next_due_at", "registered_at"]),
)
# The duty clocks as this revision knows them (dispatcher.domain.ladders.ESCALATED_CLOCKS).
_RUNNING = (
    "met_at IS NULL AND due_at IS NOT NULL AND name IN "
    "('forwarding', 'acceptance', 'handling', 'review', 'rereview', 'source_due')"
)
_EARLIEST = (
    f"(SELECT {{column}} FROM clocks WHERE clocks.case_id = cases.case_id AND {_RUNNING} "
    "ORDER BY due_at, name LIMIT 1)"
)


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_clock", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        f"UPDATE cases SET next_clock = {_EARLIEST.format(column='name')}, "
        f"next_due_at = {_EARLIEST.format(column='due_at')} "
        f"WHERE case_id IN (SELECT case_id FROM clocks WHERE {_RUNNING})"
    )
    for name, columns in _INDEXES:
        op.create_index(name, "cases", columns)


def downgrade() -> None:
    for name, _columns in reversed(_INDEXES):
        op.drop_index(name, table_name="cases")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("next_due_at")
        batch_op.drop_column("next_clock")
