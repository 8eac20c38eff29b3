"""screening: optional ratings, supplied materials; attachments

Revision ID: b13c5c4ee41a
Revises: a13d3c151045
Create Date: 2026-12-05 06:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b13c5c4ee41a'
down_revision = 'a13d3c151045'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
