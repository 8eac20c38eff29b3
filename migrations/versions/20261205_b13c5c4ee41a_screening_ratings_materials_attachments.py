"""screening: optional ratings, supplied materials; attachments

Revision ID: b13c5c4ee41a
Revises: a13d3c151045
Create Date: 2026-12-05 06:30:00

"""
import warnings

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b13c5c4ee41a'
down_revision = 'a13d3c151045'
branch_labels = None
depends_on = None

RATINGS = ('rating_scale', 'rating_intensity', 'rating_tech', 'rating_prospects', 'rating_compliance')


def upgrade():
    # A rating is chosen (1-5, the check constraints stay) or absent (NULL, shown as 未评).
    # Existing rows keep their values. SQLite rebuilds the table; reflecting it reaches `leads`,
    # whose expression indexes SQLite cannot reflect (they are not touched).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        with op.batch_alter_table('screening_opinions', schema=None) as batch_op:
            for column in RATINGS:
                batch_op.alter_column(column, existing_type=sa.Integer(), nullable=True)
        # A resubmission: the previous notice's items the officer ticked as supplied.
        with op.batch_alter_table('screening_cases', schema=None) as batch_op:
            batch_op.add_column(sa.Column('supplied_materials', sa.JSON(), nullable=True))

    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_kind', sa.String(length=40), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=120), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint('size >= 0', name=op.f('ck_attachments_size_not_negative')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_attachments_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_attachments_stored_name'))
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index('ix_attachments_owner', ['owner_kind', 'owner_id'], unique=False)


def downgrade():
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index('ix_attachments_owner')
    op.drop_table('attachments')  # the files under ATTACHMENTS_DIR stay; remove them by hand

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        with op.batch_alter_table('screening_cases', schema=None) as batch_op:
            batch_op.drop_column('supplied_materials')
        # The older schema needs a rating: an absent one goes back to the middle (3), as before.
        for column in RATINGS:
            op.execute(f"UPDATE screening_opinions SET {column} = 3 WHERE {column} IS NULL")
        with op.batch_alter_table('screening_opinions', schema=None) as batch_op:
            for column in RATINGS:
                batch_op.alter_column(column, existing_type=sa.Integer(), nullable=False)
