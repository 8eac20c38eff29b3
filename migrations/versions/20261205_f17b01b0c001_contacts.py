"""contacts: a lead's contacts (联系人), one primary per lead

Revision ID: f17b01b0c001
Revises: f16a01a0c001
Create Date: 2026-12-05 15:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f17b01b0c001'
down_revision = 'f16a01a0c001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'lead_contacts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('lead_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('title', sa.String(length=60), nullable=True),
        sa.Column('phone', sa.String(length=40), nullable=True),
        sa.Column('wechat', sa.String(length=60), nullable=True),
        sa.Column('email', sa.String(length=120), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('is_primary', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('import_batch_id', sa.Integer(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_lead_contacts_created_by_id_users')),
        sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_lead_contacts_lead_id_leads'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_contacts')),
    )
    with op.batch_alter_table('lead_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lead_contacts_lead_id'), ['lead_id'], unique=False)
    table = sa.table('lead_contacts', sa.column('is_primary', sa.Boolean()))
    op.create_index('uq_lead_contacts_primary', 'lead_contacts', ['lead_id'], unique=True,
                    sqlite_where=table.c.is_primary == sa.true(),
                    postgresql_where=table.c.is_primary == sa.true())


def downgrade():
    op.drop_index('uq_lead_contacts_primary', table_name='lead_contacts')
    with op.batch_alter_table('lead_contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lead_contacts_lead_id'))
    op.drop_table('lead_contacts')
