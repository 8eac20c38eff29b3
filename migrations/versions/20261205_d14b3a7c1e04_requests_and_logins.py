"""requests and logins: throttling, retention

Revision ID: d14b3a7c1e04
Revises: c14c0e7a5e03
Create Date: 2026-12-05 07:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd14b3a7c1e04'
down_revision = 'c14c0e7a5e03'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
