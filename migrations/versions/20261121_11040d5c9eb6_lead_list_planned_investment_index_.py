"""lead list: planned-investment index sorts unknown amounts last

Revision ID: 11040d5c9eb6
Revises: 04b7ff178a93
Create Date: 2026-11-21 22:39:27.550868

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '11040d5c9eb6'
down_revision = '04b7ff178a93'
branch_labels = None
depends_on = None


def upgrade():
    # The list orders by COALESCE(planned_investment_wan, -1) DESC, id DESC (unknown amounts
    # last); an index on the bare column could not serve that order (NULLS FIRST when read back).
    with op.batch_alter_table("leads") as batch_op:
        batch_op.drop_index("ix_leads_planned")
    op.create_index("ix_leads_planned", "leads", [sa.text("coalesce(planned_investment_wan, -1)"), "id"])


def downgrade():
    op.drop_index("ix_leads_planned", table_name="leads")
    with op.batch_alter_table("leads") as batch_op:
        batch_op.create_index("ix_leads_planned", ["planned_investment_wan", "id"], unique=False)
