"""outbox: the jobs that must run, written with the data they work on

Revision ID: 18b01b0c001
Revises: 18c01c0c001
Create Date: 2026-12-05 17:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '18b01b0c001'
down_revision = '18c01c0c001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'outbox_jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('job_id', sa.String(length=100), nullable=False),
        sa.Column('queue', sa.String(length=20), nullable=False),
        sa.Column('func', sa.String(length=200), nullable=False),
        sa.Column('args', sa.JSON(), nullable=False),
        sa.Column('kwargs', sa.JSON(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('max_attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('enqueued_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('worker_lost_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_jobs')),
        sa.UniqueConstraint('job_id', name=op.f('uq_outbox_jobs_job_id')),
    )
    op.create_index('ix_outbox_jobs_open', 'outbox_jobs', ['finished_at', 'failed_at'], unique=False)


def downgrade():
    op.drop_index('ix_outbox_jobs_open', table_name='outbox_jobs')
    op.drop_table('outbox_jobs')
