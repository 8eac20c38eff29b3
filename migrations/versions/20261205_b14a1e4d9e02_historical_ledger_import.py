"""pipeline through every door: the historical ledger import

Revision ID: b14a1e4d9e02
Revises: a14d0ec15101
Create Date: 2026-12-05 07:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b14a1e4d9e02'
down_revision = 'a14d0ec15101'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
