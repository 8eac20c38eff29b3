"""decision rules: attendance with reasons, passing basis, chair votes last, 未表决

Revision ID: a13d3c151045
Revises: d3b1be25d118
Create Date: 2026-12-05 06:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a13d3c151045'
down_revision = 'd3b1be25d118'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
