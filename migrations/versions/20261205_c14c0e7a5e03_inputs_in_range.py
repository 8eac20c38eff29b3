"""inputs in range: amounts, dates, company-name key

Revision ID: c14c0e7a5e03
Revises: b14a1e4d9e02
Create Date: 2026-12-05 07:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c14c0e7a5e03'
down_revision = 'b14a1e4d9e02'
branch_labels = None
depends_on = None


def _rekey(table_name: str) -> None:
    """Recompute the stored company-name key with today's rule (crm.leads.names): invisible and
    combining characters dropped, traditional characters simplified. No schema change."""
    from crm.leads.names import normalize_company_name

    bind = op.get_bind()
    table = sa.table(table_name, sa.column("id", sa.Integer), sa.column("company_name", sa.String),
                     sa.column("company_key", sa.String))
    rows = bind.execute(sa.select(table.c.id, table.c.company_name, table.c.company_key)).all()
    changed = [{"row_id": row_id, "key": normalize_company_name(name)} for row_id, name, key in rows
               if normalize_company_name(name) != key]
    if changed:
        bind.execute(table.update().where(table.c.id == sa.bindparam("row_id"))
                     .values(company_key=sa.bindparam("key")), changed)


def upgrade():
    _rekey("leads")
    _rekey("chain_targets")


def downgrade():
    pass  # the new keys are as good a key for the old code: nothing to undo
