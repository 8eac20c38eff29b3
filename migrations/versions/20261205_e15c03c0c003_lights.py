"""lights (reserved for the part of issue 15 that needs it; may stay empty)

Revision ID: e15c03c0c003
Revises: e15b02b0c002
Create Date: 2026-12-05 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e15c03c0c003'
down_revision = 'e15b02b0c002'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
