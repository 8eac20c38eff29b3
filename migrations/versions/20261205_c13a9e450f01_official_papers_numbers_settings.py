"""official papers: issuer settings and document numbers

Revision ID: c13a9e450f01
Revises: b13c5c4ee41a
Create Date: 2026-12-05 06:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c13a9e450f01'
down_revision = 'b13c5c4ee41a'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
