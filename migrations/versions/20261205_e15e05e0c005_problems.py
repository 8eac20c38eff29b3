"""problems (reserved for the part of issue 15 that needs it; may stay empty)

Revision ID: e15e05e0c005
Revises: e15d04d0c004
Create Date: 2026-12-05 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e15e05e0c005'
down_revision = 'e15d04d0c004'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
