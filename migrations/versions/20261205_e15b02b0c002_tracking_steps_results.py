"""tracking_steps_results (reserved for the part of issue 15 that needs it; may stay empty)

Revision ID: e15b02b0c002
Revises: e15a01a0c001
Create Date: 2026-12-05 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e15b02b0c002'
down_revision = 'e15a01a0c001'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
