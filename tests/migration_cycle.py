"""Run by tests/test_migrations_both_ways.py in its own process, on its own database:
from head, each migration down, up again (over the data the lower ones kept), down, … to base;
then up to head, and the schema must equal the models."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from crm import create_app
from crm.extensions import db

EXPRESSION_INDEXES = {"ix_leads_planned", "ix_leads_p_sign"}  # Alembic cannot compare these

app = create_app()
with app.app_context():
    scripts = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
    for script in scripts.walk_revisions():  # head first
        print("down, up, down:", script.revision, flush=True)
        downgrade(revision="-1")
        upgrade(revision="+1")
        downgrade(revision="-1")
    upgrade()
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
    diff = [d for d in diff if not (d[0] in ("add_index", "remove_index") and d[1].name in EXPRESSION_INDEXES)]
    assert diff == [], f"after the round trip the schema differs from the models: {diff}"
    print("round trip done", flush=True)
