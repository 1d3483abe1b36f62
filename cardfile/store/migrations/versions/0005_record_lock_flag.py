"""record lock flag

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30

``records.locked_by``: the rule that locked the record (NULL: not locked). The engine reads
it with the row it locks anyway, so checking for a lock costs no query on the hot path;
``record_locks`` keeps the details (when, why).
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("records", sa.Column("locked_by", sa.String(length=200), nullable=True))
    op.execute(
        "UPDATE records SET locked_by = "
        "(SELECT l.locked_by FROM record_locks l WHERE l.record_id = records.id) "
        "WHERE id IN (SELECT record_id FROM record_locks)"
    )


def downgrade() -> None:
    with op.batch_alter_table("records") as batch:
        batch.drop_column("locked_by")
