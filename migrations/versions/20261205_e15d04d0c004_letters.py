"""letters: the issuer and number prefix of the 三函 (official papers settings)

Revision ID: e15d04d0c004
Revises: e15c03c0c003
Create Date: 2026-12-05 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e15d04d0c004'
down_revision = 'e15c03c0c003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('paper_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('letter_issuer', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('letter_prefix', sa.String(length=20), nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('paper_settings', schema=None) as batch_op:
        batch_op.drop_column('letter_prefix')
        batch_op.drop_column('letter_issuer')
