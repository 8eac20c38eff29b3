"""cockpit_speed: stage_reached.next_on/next_implied (backfilled); partial indexes on the tracked leads and the current milestone plans

Revision ID: 16d01d0c001
Revises: 18b01b0c001
Create Date: 2026-12-05 20:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '16d01d0c001'
down_revision = '18b01b0c001'
branch_labels = None
depends_on = None

# Written out, not imported: a migration must not follow later code.
# crm.tracking.queries.tracked_condition:
TRACKED = ("stage IN ('admitted', 'signed', 'started', 'completed', 'producing', 'above_scale') "
           "OR (stage = 'lost' AND signed_on IS NOT NULL)")
# crm.dashboard.stage_dates.NEXT_STAGE (the main line, each stage with the next one):
MAIN_LINE = ('negotiating', 'screening', 'awaiting_decision', 'admitted', 'signed', 'started', 'completed',
             'producing', 'above_scale')


def upgrade():
    with op.batch_alter_table('stage_reached', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('next_implied', sa.Boolean(), nullable=True))
    following = " ".join(f"WHEN '{stage}' THEN '{after}'" for stage, after in zip(MAIN_LINE, MAIN_LINE[1:]))
    op.execute(
        "UPDATE stage_reached SET (next_on, next_implied) = ("
        "SELECT n.reached_on, n.implied FROM stage_reached n WHERE n.lead_id = stage_reached.lead_id "
        f"AND n.stage = CASE stage_reached.stage {following} END)")
    op.create_index('ix_leads_tracked', 'leads', ['id'], unique=False,
                    postgresql_include=['owner_unit_id', 'chain_id'],
                    postgresql_where=sa.text(TRACKED), sqlite_where=sa.text(TRACKED))
    current = sa.text("superseded_at IS NULL")
    op.create_index('ix_milestone_plans_current_milestone', 'milestone_plans', ['milestone', 'planned_on', 'lead_id'],
                    unique=False, postgresql_where=current, sqlite_where=current)
    op.create_index('ix_milestone_plans_current_on', 'milestone_plans', ['planned_on', 'lead_id', 'milestone'],
                    unique=False, postgresql_where=current, sqlite_where=current)


def downgrade():
    op.drop_index('ix_milestone_plans_current_on', table_name='milestone_plans')
    op.drop_index('ix_milestone_plans_current_milestone', table_name='milestone_plans')
    op.drop_index('ix_leads_tracked', table_name='leads')
    with op.batch_alter_table('stage_reached', schema=None) as batch_op:
        batch_op.drop_column('next_implied')
        batch_op.drop_column('next_on')
