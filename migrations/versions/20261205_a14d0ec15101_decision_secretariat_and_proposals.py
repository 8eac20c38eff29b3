"""collective decision: the secretariat unit and the units' proposals

Revision ID: a14d0ec15101
Revises: c13a9e450f01
Create Date: 2026-12-05 07:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a14d0ec15101'
down_revision = 'c13a9e450f01'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
