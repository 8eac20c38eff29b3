"""collective decision: the secretariat unit and the units' proposals

Revision ID: a14d0ec15101
Revises: c13a9e450f01
Create Date: 2026-12-05 07:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a14d0ec15101'
down_revision = 'c13a9e450f01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('decision_rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secretariat_unit_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f('fk_decision_rules_secretariat_unit_id_units'), 'units',
                                    ['secretariat_unit_id'], ['id'], ondelete='SET NULL')
    op.create_table('decision_proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_decision_proposals_lead_id_leads'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_decision_proposals_meeting_id_meetings'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['users.id'], name=op.f('fk_decision_proposals_proposed_by_id_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_decision_proposals_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decision_proposals'))
    )
    with op.batch_alter_table('decision_proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decision_proposals_lead_id'), ['lead_id'], unique=False)


def downgrade():
    with op.batch_alter_table('decision_proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decision_proposals_lead_id'))
    op.drop_table('decision_proposals')
    with op.batch_alter_table('decision_rules', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_decision_rules_secretariat_unit_id_units'), type_='foreignkey')
        batch_op.drop_column('secretariat_unit_id')
