"""Migrations: one head, and the migrated schema equals the models (nothing left unmigrated)."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory


EXPRESSION_INDEXES = {"ix_leads_planned"}
pytestmark = [  # SQLite cannot reflect expression indexes; test_expression_indexes_exist checks them
    pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index"),
    pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index"),
]


def test_single_alembic_head(app):
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"several Alembic heads: {heads}; merge them"


def test_migrated_schema_matches_models(app):
    from crm.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    # Alembic cannot compare expression indexes (SQLite does not even reflect them): those are
    # checked by name below instead.
    diff = [d for d in diff if not (d[0] in ("add_index", "remove_index") and d[1].name in EXPRESSION_INDEXES)]
    assert diff == [], f"models differ from the migrations: {diff}"


def test_expression_indexes_exist(app):
    from sqlalchemy import inspect

    from crm.extensions import db

    with app.app_context():
        inspector = inspect(db.engine)
        names = {ix["name"] for ix in inspector.get_indexes("leads")}
        if db.engine.dialect.name == "sqlite":
            with db.engine.connect() as conn:
                names |= set(conn.exec_driver_sql(
                    "select name from sqlite_master where type='index' and tbl_name='leads'").scalars())
    assert EXPRESSION_INDEXES <= names
