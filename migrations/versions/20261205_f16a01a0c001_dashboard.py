"""dashboard: the stage_reached projection (backfilled), bulletins, the bulletin issuer and prefix

Revision ID: f16a01a0c001
Revises: e15e05e0c005
Create Date: 2026-12-05 13:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f16a01a0c001'
down_revision = 'e15e05e0c005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'stage_reached',
        sa.Column('lead_id', sa.Integer(), nullable=False),
        sa.Column('stage', sa.String(length=20), nullable=False),
        sa.Column('reached_on', sa.Date(), nullable=False),
        sa.Column('implied', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_stage_reached_lead_id_leads'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('lead_id', 'stage', name=op.f('pk_stage_reached')),
    )
    op.create_index('ix_stage_reached_stage_on', 'stage_reached', ['stage', 'reached_on', 'lead_id'], unique=False)
    op.create_table(
        'bulletins',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('period_kind', sa.String(length=10), nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('issued_on', sa.Date(), nullable=False),
        sa.Column('content', sa.JSON(), nullable=False),
        sa.Column('made_by_job', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_bulletins_created_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bulletins')),
        sa.UniqueConstraint('period_start', 'period_end', name=op.f('uq_bulletins_period_start_period_end')),
    )
    with op.batch_alter_table('paper_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bulletin_issuer', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('bulletin_prefix', sa.String(length=20), nullable=False, server_default=''))
    _backfill()


def _backfill():
    """Every existing lead's stage dates, by the projection's own rule (a pure function)."""
    from crm.dashboard.stage_dates import compute

    bind = op.get_bind()
    # Typed columns, no CAST: SQLite's CAST(… AS DATETIME) has NUMERIC affinity and turns
    # '2026-03-02 10:00:00' into 2026, which then cannot be read as a datetime.
    changes_t = sa.table('lead_stage_changes', sa.column('lead_id'), sa.column('to_stage'),
                         sa.column('changed_at', sa.DateTime(timezone=True)))
    actuals_t = sa.table('milestone_actuals', sa.column('lead_id'), sa.column('milestone'), sa.column('actual_on', sa.Date))
    leads_t = sa.table('leads', sa.column('id'), sa.column('signed_on', sa.Date), sa.column('started_on', sa.Date))
    reached_t = sa.table('stage_reached', sa.column('lead_id'), sa.column('stage'), sa.column('reached_on'),
                         sa.column('implied'))
    ids = [r[0] for r in bind.execute(sa.select(leads_t.c.id).order_by(leads_t.c.id))]
    for start in range(0, len(ids), 2000):
        chunk = ids[start:start + 2000]
        low, high = chunk[0], chunk[-1]
        changes, actuals = {}, {}
        for lead_id, to_stage, changed_at in bind.execute(
                sa.select(changes_t.c.lead_id, changes_t.c.to_stage, changes_t.c.changed_at)
                .where(changes_t.c.lead_id.between(low, high))):
            changes.setdefault(lead_id, []).append((to_stage, changed_at))
        for lead_id, milestone, actual_on in bind.execute(
                sa.select(actuals_t.c.lead_id, actuals_t.c.milestone, actuals_t.c.actual_on)
                .where(actuals_t.c.lead_id.between(low, high))):
            actuals.setdefault(lead_id, []).append((milestone, actual_on))
        rows = []
        for lead_id, signed_on, started_on in bind.execute(
                sa.select(leads_t.c.id, leads_t.c.signed_on, leads_t.c.started_on)
                .where(leads_t.c.id.between(low, high))):
            reached = compute(changes.get(lead_id, ()), actuals.get(lead_id, ()),
                              {'signed': signed_on, 'started': started_on})
            rows.extend({'lead_id': lead_id, 'stage': stage, 'reached_on': day, 'implied': implied}
                        for stage, (day, implied) in reached.items())
        if rows:
            bind.execute(reached_t.insert(), rows)


def downgrade():
    with op.batch_alter_table('paper_settings', schema=None) as batch_op:
        batch_op.drop_column('bulletin_prefix')
        batch_op.drop_column('bulletin_issuer')
    op.drop_table('bulletins')
    op.drop_index('ix_stage_reached_stage_on', table_name='stage_reached')
    op.drop_table('stage_reached')
