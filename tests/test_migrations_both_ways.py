"""Every migration goes down and up again on a database with data in it, on the suite's backend
(SQLite by default, PostgreSQL with CRM_TEST_POSTGRES), in a database of the test's own."""
from tests.ops_support import own_database  # noqa: F401  (fixture)


def test_every_migration_downgrades_and_upgrades_on_a_seeded_database(own_database):
    own = own_database
    own.crm("db", "upgrade")
    own.crm("seed-demo", "--leads", "200")
    seeded = own.counts()
    assert seeded["leads"] == 200 and seeded["lead_stage_changes"] > 0
    assert seeded["attachments"] > 0 and seeded["votes"] > 0  # rows the downgrades must get past

    # Down one, up one (over the rows the lower migrations kept), down one, … to base, then up to
    # head; SQLAlchemy's warnings (an index a rebuild lost, …) fail it as they fail the suite.
    result = own.crm("-W", "error::sqlalchemy.exc.SAWarning", "-m", "tests.migration_cycle", python=True)
    assert "round trip done" in result.stdout, result.stdout[-2000:]

    again = own.counts()
    assert set(again) == set(seeded)
    assert again["leads"] == 0  # base dropped the data: that is what a downgrade to base means
    assert again["step_definitions"] == seeded["step_definitions"] > 0  # rows a migration puts in
    assert "(head)" in own.crm("db", "current").stdout
    own.crm("db", "downgrade", "base")  # the plain command too, as an operator runs it
    assert set(own.counts()) <= {"alembic_version"}
