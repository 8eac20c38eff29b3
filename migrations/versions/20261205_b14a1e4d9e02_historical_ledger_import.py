"""pipeline through every door: the historical ledger import

Revision ID: b14a1e4d9e02
Revises: a14d0ec15101
Create Date: 2026-12-05 07:10:00

"""
import warnings

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b14a1e4d9e02'
down_revision = 'a14d0ec15101'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (SQLite can, with a constant default): a batch would rebuild `leads` and
    # lose its expression indexes. The server defaults stay (bulk inserts by COPY rely on them).
    op.add_column('leads', sa.Column('imported_history', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('lead_stage_changes', sa.Column('history', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('import_batches', sa.Column('history', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('import_batches', sa.Column('files_deleted_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        with op.batch_alter_table('import_batches', schema=None) as batch_op:
            batch_op.drop_column('files_deleted_at')
            batch_op.drop_column('history')
        with op.batch_alter_table('lead_stage_changes', schema=None) as batch_op:
            batch_op.drop_column('history')
    # Plain DROP COLUMN (SQLite ≥ 3.35): a batch would rebuild `leads` and lose its expression
    # indexes, which the earlier downgrades then cannot drop.
    op.drop_column('leads', 'imported_history')
