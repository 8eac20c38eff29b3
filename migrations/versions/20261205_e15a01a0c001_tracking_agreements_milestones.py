"""tracking_agreements_milestones (reserved for the part of issue 15 that needs it; may stay empty)

Revision ID: e15a01a0c001
Revises: d0f20c5441da
Create Date: 2026-12-05 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e15a01a0c001'
down_revision = 'd0f20c5441da'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
