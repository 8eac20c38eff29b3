"""inputs in range: amounts, dates, company-name key

Revision ID: c14c0e7a5e03
Revises: b14a1e4d9e02
Create Date: 2026-12-05 07:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c14c0e7a5e03'
down_revision = 'b14a1e4d9e02'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
