"""cdrs.hold: seconds operators held the caller

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05

Operators can now put a caller on hold (their phone or their desk); the CDR
keeps the total. Rows written before this revision keep NULL (not known).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cdrs') as batch:
        batch.add_column(sa.Column('hold', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cdrs') as batch:
        batch.drop_column('hold')
