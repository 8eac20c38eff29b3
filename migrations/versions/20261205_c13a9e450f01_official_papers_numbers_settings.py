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
    op.create_table('paper_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_issuer', sa.String(length=100), nullable=False),
    sa.Column('minutes_issuer', sa.String(length=100), nullable=False),
    sa.Column('notice_prefix', sa.String(length=20), nullable=False),
    sa.Column('minutes_prefix', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_paper_settings'))
    )
    op.create_table('document_counters',
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'year', name=op.f('pk_document_counters'))
    )
    op.create_table('document_numbers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('prefix', sa.String(length=20), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('number > 0', name=op.f('ck_document_numbers_number_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_numbers')),
    sa.UniqueConstraint('kind', 'subject_id', name=op.f('uq_document_numbers_kind_subject_id')),
    sa.UniqueConstraint('kind', 'year', 'number', name=op.f('uq_document_numbers_kind_year_number'))
    )


def downgrade():
    op.drop_table('document_numbers')
    op.drop_table('document_counters')
    op.drop_table('paper_settings')
